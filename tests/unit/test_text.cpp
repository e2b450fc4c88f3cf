#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <string>

#include "core/text.hpp"

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(trimming_takes_only_the_ends) {
    BOOST_TEST(hearth::trimmed("  a b \t\r\n") == "a b");
    BOOST_TEST(hearth::trimmed("\v\fx\f") == "x");
    BOOST_TEST(hearth::trimmed(" \n\t") == "");
    BOOST_TEST(hearth::trimmed("") == "");
    BOOST_TEST(hearth::trim_view("--x--", "-") == "x");
    // A caller may keep a character significant (hostlists keep line breaks).
    BOOST_TEST(hearth::trim_view(" x\n", " ") == "x\n");
    BOOST_TEST(hearth::trim_end("http://a//", "/") == "http://a");
    BOOST_TEST(hearth::trim_end("///", "/") == "");
    BOOST_TEST(hearth::trim_end(" a ") == " a");
}

BOOST_AUTO_TEST_CASE(lower_is_ascii_only) {
    BOOST_TEST(hearth::lower("MoN-FRI 06:00") == "mon-fri 06:00");
    BOOST_TEST(hearth::lower("\xc3\x89t\xc3\xa9") == "\xc3\x89t\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(errno_text_names_the_error) {
    BOOST_TEST(hearth::errno_text(ENOENT) == "No such file or directory");
    BOOST_TEST(hearth::errno_text(EACCES) == "Permission denied");
}

BOOST_AUTO_TEST_CASE(whole_numbers_as_kernel_files_write_them) {
    using hearth::parse_u64;
    BOOST_TEST(parse_u64("123456\n").value_or(0) == 123456u);
    BOOST_TEST(parse_u64(" 0 ").value_or(1) == 0u);
    BOOST_TEST(parse_u64("18446744073709551615").value_or(0) ==
               std::numeric_limits<std::uint64_t>::max());
    for (const char* bad :
         {"", " ", "18446744073709551616", "-1", "+1", "12x", "1 2", "0x10", "1.5"})
        BOOST_TEST(!parse_u64(bad).has_value(), "accepted '" << bad << "'");
}

BOOST_AUTO_TEST_CASE(signed_whole_numbers) {
    using hearth::parse_i64;
    BOOST_TEST(parse_i64("-42\n").value_or(0) == -42);
    BOOST_TEST(parse_i64("9223372036854775807").value_or(0) ==
               std::numeric_limits<std::int64_t>::max());
    for (const char* bad : {"", "-", "9223372036854775808", "4 2", "1e3"})
        BOOST_TEST(!parse_i64(bad).has_value(), "accepted '" << bad << "'");
}

BOOST_AUTO_TEST_SUITE_END()
