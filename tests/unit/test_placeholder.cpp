#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/placeholder.hpp"

using hearth::CommandTemplate;
using hearth::TaskValues;
using Words = std::vector<std::string>;

using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

TaskValues values(Words items) {
    TaskValues v;
    v.items = std::move(items);
    v.task = 12;
    v.attempt = 3;
    v.tenant = "vfx";
    v.job = "job-42";
    v.cores = 4;
    return v;
}

// Expands a one-word template.
std::string expand_word(const std::string& word, const Words& items, std::uint64_t chunk = 1) {
    return CommandTemplate::parse({word}, chunk).expand(values(items)).at(0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(placeholder)

BOOST_AUTO_TEST_CASE(expands_item) {
    const auto tpl = CommandTemplate::parse({"render", "--frame", "{item}"}, 1);
    BOOST_TEST(tpl.expand(values({"7"})) == (Words{"render", "--frame", "7"}),
               boost::test_tools::per_element());
    BOOST_TEST(tpl.words() == (Words{"render", "--frame", "{item}"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(expands_every_name) {
    const auto tpl = CommandTemplate::parse(
        {"{first}", "{last}", "{items}", "{task}", "{attempt}", "{tenant}", "{job}", "-t{cores}"},
        3);
    BOOST_TEST(tpl.expand(values({"1", "2", "3"})) ==
                   (Words{"1", "3", "1,2,3", "12", "3", "vfx", "job-42", "-t4"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_word("{items}", {"only"}) == "only");
}

BOOST_AUTO_TEST_CASE(widths) {
    BOOST_TEST(expand_word("{first:04}", {"7"}) == "0007");
    BOOST_TEST(expand_word("{first:4}", {"7"}) == "   7");
    BOOST_TEST(expand_word("{item:1}", {"7"}) == "7");
    BOOST_TEST(expand_word("{first:04}", {"12345"}) == "12345");
    BOOST_TEST(expand_word("{task:06}", {"x"}) == "000012");
    BOOST_TEST(expand_word("{tenant:5}", {"x"}) == "  vfx");
    BOOST_TEST(expand_word("{items:08}", {"1", "2"}, 2) == "000001,2");
    BOOST_TEST(expand_word("{first:064}", {"1"}) == std::string(63, '0') + "1");
    // Zero padding is plain left padding, even for text that is not a plain number.
    BOOST_TEST(expand_word("{first:04}", {"-5"}) == "00-5");
    BOOST_TEST(expand_word("{first:04}", {"ab"}) == "00ab");
}

BOOST_AUTO_TEST_CASE(mixed_word) {
    BOOST_TEST(expand_word("out_{first:03}-{last:03}.exr", {"8", "9", "10"}, 3) ==
               "out_008-010.exr");
    BOOST_TEST(expand_word("a{item}b{item}c", {"X"}) == "aXbXc");
}

BOOST_AUTO_TEST_CASE(literal_braces) {
    BOOST_TEST(expand_word("{{item}}", {"7"}) == "{item}");
    BOOST_TEST(expand_word("a}}b{{", {"7"}) == "a}b{");
    BOOST_TEST(expand_word("{{{item}}}", {"7"}) == "{7}");
    BOOST_TEST(expand_word("awk '{{print $1}}'", {"7"}) == "awk '{print $1}'");
}

BOOST_AUTO_TEST_CASE(values_are_not_rescanned) {
    BOOST_TEST(expand_word("{item}", {"{task}"}) == "{task}");
    BOOST_TEST(expand_word("{items}", {"{", "}}"}, 2) == "{,}}");
    TaskValues v = values({"1"});
    v.job = "{item}";
    BOOST_TEST(CommandTemplate::parse({"{job}"}, 1).expand(v).at(0) == "{item}");
}

BOOST_AUTO_TEST_CASE(has_placeholder) {
    const auto tpl = CommandTemplate::parse({"render", "{{literal}}", "-f{first}", "", "{job}"}, 2);
    BOOST_TEST(!tpl.has_placeholder(0));
    BOOST_TEST(!tpl.has_placeholder(1));
    BOOST_TEST(tpl.has_placeholder(2));
    BOOST_TEST(!tpl.has_placeholder(3));
    BOOST_TEST(tpl.has_placeholder(4));
    BOOST_TEST(
        tpl.expand(values({"1", "2"})) == (Words{"render", "{literal}", "-f1", "", "job-42"}),
        boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(valid_names_in_order) {
    BOOST_TEST(CommandTemplate::valid_names() == (Words{"item", "first", "last", "items", "task",
                                                        "attempt", "tenant", "job", "cores"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unknown_name_lists_valid_ones) {
    const auto check = usage_mentioning(
        "unknown placeholder {frame} in 'render {frame}'; valid placeholders: {item} {first} "
        "{last} {items} {task} {attempt} {tenant} {job} {cores}");
    BOOST_CHECK_EXCEPTION(CommandTemplate::parse({"render", "{frame}"}, 1), hearth::Error, check);
    BOOST_CHECK_EXCEPTION(CommandTemplate::parse({"x{}"}, 1), hearth::Error,
                          usage_mentioning("{}"));
    BOOST_CHECK_EXCEPTION(CommandTemplate::parse({"{ITEM}"}, 1), hearth::Error,
                          usage_mentioning("{ITEM}"));
    BOOST_CHECK_EXCEPTION(CommandTemplate::parse({"{ item}"}, 1), hearth::Error,
                          usage_mentioning("{ item}"));
}

BOOST_AUTO_TEST_CASE(bad_templates) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"render {first", "unclosed"},
        {"a}b", "stray"},
        {"}", "stray"},
        {"{first:}", "width"},
        {"{first:x}", "width"},
        {"{first:0}", "width"},
        {"{first:00}", "width"},
        {"{first:65}", "width"},
        {"{first:-1}", "width"},
        {"{first:4x}", "width"},
        {"{first:99999999999}", "width"},
        {"{{{first", "unclosed"},
    };
    for (const auto& [word, problem] : cases) {
        BOOST_TEST_CONTEXT("word '" << word << "'") {
            BOOST_CHECK_EXCEPTION(CommandTemplate::parse({"cmd", word}, 1), hearth::Error,
                                  usage_mentioning("'cmd " + word + "'"));
            BOOST_CHECK_EXCEPTION(CommandTemplate::parse({"cmd", word}, 1), hearth::Error,
                                  usage_mentioning(problem));
        }
    }
}

BOOST_AUTO_TEST_CASE(item_needs_chunk_one) {
    BOOST_CHECK_NO_THROW(CommandTemplate::parse({"r", "{item}"}, 1));
    for (const std::string needle : {"{item}", "'r {item:04}'", "{first}", "{last}", "{items}"}) {
        BOOST_CHECK_EXCEPTION(CommandTemplate::parse({"r", "{item:04}"}, 4), hearth::Error,
                              usage_mentioning(needle));
    }
    BOOST_CHECK_NO_THROW(CommandTemplate::parse({"r", "{first}-{last}"}, 4));
}

BOOST_AUTO_TEST_SUITE_END()
