#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/utc_time.hpp"
#include "tests/unit/support.hpp"

using hearth::EpochNumbers;
using hearth::test::usage_mentioning;

namespace {

// 2027-01-04T00:00:00Z, a Monday.
constexpr std::int64_t k_monday_ms = 1799020800000;

long long ms(const char* text) {
    return hearth::parse_utc_ms(text);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(utc_time)

BOOST_AUTO_TEST_CASE(rfc_3339_times) {
    BOOST_TEST(ms("2027-01-04T06:00:00Z") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04T06:30:15Z") == k_monday_ms + (6 * 3600 + 30 * 60 + 15) * 1000LL);
    BOOST_TEST(ms("2027-01-04t06:00:00z") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04T06:00:00.250Z") == k_monday_ms + 6 * 3600'000 + 250);
    BOOST_TEST(ms("2027-01-04T06:00:00,5Z") == k_monday_ms + 6 * 3600'000 + 500);
    // Below a millisecond is dropped, not rounded into the next one.
    BOOST_TEST(ms("2027-01-04T06:00:00.123999999Z") == k_monday_ms + 6 * 3600'000 + 123);
}

BOOST_AUTO_TEST_CASE(offsets_move_the_time_to_utc) {
    BOOST_TEST(ms("2027-01-04T07:00:00+01:00") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04T07:00:00+0100") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04T01:00:00-05") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04T06:00:00-00:00") == k_monday_ms + 6 * 3600'000);
    // Across midnight and the year.
    BOOST_TEST(ms("2027-01-03T23:30:00-06:30") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-01T00:00:00+01:00") == ms("2026-12-31T23:00:00Z"));
}

BOOST_AUTO_TEST_CASE(the_forms_the_old_parsers_took) {
    // core/scenario.cpp's
    BOOST_TEST(ms("2027-01-04") == k_monday_ms);
    BOOST_TEST(ms("2024-02-29") == 1709164800000);
    // runner/cli/cmd_energy.cpp's (UTC without a zone)
    BOOST_TEST(ms("2027-01-04T06:00:00") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04 06:00:00") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04T06:00") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04 06:00") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(ms("2027-01-04T06:00Z") == k_monday_ms + 6 * 3600'000);
    BOOST_TEST(hearth::parse_utc_ms("1799020800000", EpochNumbers::milliseconds) == k_monday_ms);
    BOOST_TEST(hearth::parse_utc_ms("0", EpochNumbers::milliseconds) == 0);
}

BOOST_AUTO_TEST_CASE(seconds_and_the_epoch) {
    BOOST_TEST(hearth::parse_utc_seconds("1970-01-01T00:00:00Z") == 0);
    BOOST_TEST(hearth::parse_utc_seconds("1970-01-01T00:00:01.999Z") == 1);
    BOOST_TEST(hearth::parse_utc_seconds("1969-12-31T23:59:59.5Z") == -1);
    BOOST_TEST(hearth::parse_utc_seconds("2027-01-04T06:30:15Z") == 1799044215);
}

BOOST_AUTO_TEST_CASE(bad_times_are_refused_naming_the_form) {
    for (const char* bad : {"",
                            "2027-01-04x",
                            "2027-13-01",
                            "2027-00-10",
                            "2027-01-32",
                            "2027-02-29",
                            "2100-02-29",
                            "2027-04-31",
                            "2027-01-04T24:00:00Z",
                            "2027-01-04T06:60Z",
                            "2027-01-04T06:00:61Z",
                            "2027-01-04T06",
                            "2027-01-04T6:00",
                            "2027-1-4",
                            "04/01/2027",
                            "next monday",
                            "2027-01-04T06:00:00.Z",
                            "2027-01-04T06:00:00+1",
                            "2027-01-04T06:00:00+24:00",
                            "2027-01-04T06:00:00+01:60",
                            "2027-01-04T06:00:00Z ",
                            " 2027-01-04",
                            "2027-01-04  06:00",
                            "1799020800000"}) {
        BOOST_TEST(!hearth::try_parse_utc_ms(bad).has_value(), "accepted '" << bad << "'");
        BOOST_CHECK_EXCEPTION(
            hearth::parse_utc_ms(bad), hearth::Error,
            usage_mentioning("is not a UTC time; write it as 2027-01-04T06:00:00Z"));
    }
    BOOST_CHECK_EXCEPTION(hearth::parse_utc_ms("soon", EpochNumbers::milliseconds), hearth::Error,
                          usage_mentioning("or milliseconds since the epoch"));
    // Too many digits to be a time in milliseconds: not wrapped around.
    BOOST_TEST(!hearth::try_parse_utc_ms("99999999999999999999", EpochNumbers::milliseconds));
}

BOOST_AUTO_TEST_CASE(leap_years_follow_the_gregorian_rule) {
    BOOST_TEST(ms("2000-02-29") == 951782400000);
    BOOST_TEST(ms("2028-02-29T12:00:00Z") - ms("2028-02-28T12:00:00Z") == 86400'000);
}

BOOST_AUTO_TEST_CASE(formatting_reads_back) {
    BOOST_TEST(hearth::format_utc(1799044215) == "2027-01-04T06:30:15Z");
    BOOST_TEST(hearth::format_utc(0) == "1970-01-01T00:00:00Z");
    BOOST_TEST(hearth::format_utc(-1) == "1969-12-31T23:59:59Z");
    BOOST_TEST(hearth::format_utc_date(1709164800 + 86399) == "2024-02-29");
    for (std::int64_t s : {std::int64_t{0}, std::int64_t{951782399}, std::int64_t{1799044215},
                           std::int64_t{4102444800}})
        BOOST_TEST(hearth::parse_utc_seconds(hearth::format_utc(s)) == s);
}

BOOST_AUTO_TEST_SUITE_END()
