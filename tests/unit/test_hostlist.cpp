#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/hostlist.hpp"

using hearth::expand_slurm_hostlist;
using hearth::is_valid_host_name;
using hearth::parse_hostfile;
using Names = std::vector<std::string>;

using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {}  // namespace

BOOST_AUTO_TEST_SUITE(hostlist)

BOOST_AUTO_TEST_CASE(hostfile_full) {
    const std::string text =
        "# render nodes\n"
        "\n"
        "node01 slots=8\n"
        "  node02   slots=16 max_slots=32   # the big one\n"
        "node03\r\n"
        "node04 max_slots=4\n"
        "gpu-1.lab_a slots=4096";
    const auto hosts = parse_hostfile(text, "hosts.txt");
    BOOST_TEST_REQUIRE(hosts.size() == 5u);
    BOOST_TEST(hosts[0].name == "node01");
    BOOST_TEST(hosts[0].slots.value_or(0) == 8u);
    BOOST_TEST(hosts[1].name == "node02");
    BOOST_TEST(hosts[1].slots.value_or(0) == 16u);
    BOOST_TEST(hosts[2].name == "node03");
    BOOST_TEST(!hosts[2].slots.has_value());
    BOOST_TEST(hosts[3].name == "node04");
    BOOST_TEST(!hosts[3].slots.has_value());
    BOOST_TEST(hosts[4].name == "gpu-1.lab_a");
    BOOST_TEST(hosts[4].slots.value_or(0) == 4096u);
}

BOOST_AUTO_TEST_CASE(hostfile_errors) {
    struct Case {
        std::string text;
        std::vector<std::string> needles;
    };
    const std::vector<Case> cases = {
        {"node1\nnode2 foo=3\n", {"hosts.txt:2", "foo=3"}},
        {"node1 slots 4\n", {"hosts.txt:1", "'slots'"}},
        {"node1 slots=0\n", {"hosts.txt:1", "slots=0", "1 to 4096"}},
        {"node1 slots=4097\n", {"hosts.txt:1", "slots=4097"}},
        {"node1 slots=abc\n", {"hosts.txt:1", "slots=abc"}},
        {"node1 slots=\n", {"hosts.txt:1", "slots="}},
        {"node1 slots=-2\n", {"hosts.txt:1", "slots=-2"}},
        {"node1 slots=99999999999999999999999\n", {"hosts.txt:1", "99999999999999999999999"}},
        {"node1 slots=2 slots=3\n", {"hosts.txt:1", "twice"}},
        {"\n-bad slots=2\n", {"hosts.txt:2", "'-bad'"}},
        {"bad$host\n", {"hosts.txt:1", "'bad$host'"}},
        {".hidden\n", {"hosts.txt:1", "'.hidden'"}},
        {"a\nnode1\nb\n\nnode1 slots=2\n", {"hosts.txt:5", "'node1'", "lines 2 and 5"}},
        {"", {"'hosts.txt'", "no hosts"}},
        {"# only comments\n\n   \n", {"'hosts.txt'", "no hosts"}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("text '" << c.text << "'") {
            for (const auto& needle : c.needles) {
                BOOST_CHECK_EXCEPTION(parse_hostfile(c.text, "hosts.txt"), hearth::Error,
                                      usage_mentioning(needle));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(slurm_expansion) {
    BOOST_TEST(expand_slurm_hostlist("node[01-03,07],gpu1") ==
                   (Names{"node01", "node02", "node03", "node07", "gpu1"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("r[1-2]n") == (Names{"r1n", "r2n"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("n[8-11]") == (Names{"n8", "n9", "n10", "n11"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("n[008-010]") == (Names{"n008", "n009", "n010"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("n[5]") == (Names{"n5"}), boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("single") == (Names{"single"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("a,b[1-2],c") == (Names{"a", "b1", "b2", "c"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("[1-2]x") == (Names{"1x", "2x"}),
               boost::test_tools::per_element());
    // Several groups multiply, as Slurm does.
    BOOST_TEST(expand_slurm_hostlist("rack[1-2]-n[1-2]") ==
                   (Names{"rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"}),
               boost::test_tools::per_element());
    BOOST_TEST(expand_slurm_hostlist("n[0001-1000]").size() == 1000u);
    BOOST_TEST(expand_slurm_hostlist("n[0001-1000]").back() == "n1000");
}

BOOST_AUTO_TEST_CASE(slurm_errors) {
    const std::vector<std::string> cases = {
        "node[1-3", "node1-3]", "node[]", "node[3-1]", "node[a-b]",        "n[1,,2]",
        "n[1-]",    "n[-1]",    "a,,b",   "",          "n[[1]]",           "n[1-2],",
        ",n1",      "n[1]]",    "n[1-2",  "bad$[1-2]", "n[0-99999999999]",
    };
    for (const auto& text : cases) {
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            BOOST_CHECK_EXCEPTION(expand_slurm_hostlist(text), hearth::Error,
                                  usage_mentioning("'" + text + "'"));
        }
    }
    BOOST_CHECK_EXCEPTION(expand_slurm_hostlist("node[3-1]"), hearth::Error,
                          usage_mentioning("backwards"));
}

BOOST_AUTO_TEST_CASE(host_names) {
    for (const std::string ok : {"a", "node01", "gpu-1.lab_a", "A1", "_x", "1", "x-"}) {
        BOOST_TEST(is_valid_host_name(ok), "'" << ok << "' should be valid");
    }
    BOOST_TEST(is_valid_host_name(std::string(253, 'a')));
    for (const std::string bad :
         {"", "-a", ".a", "a b", "a$", "a/b", "a:1", "ü", "a\tb", "a,b", "a[1]"}) {
        BOOST_TEST(!is_valid_host_name(bad), "'" << bad << "' should be invalid");
    }
    BOOST_TEST(!is_valid_host_name(std::string(254, 'a')));
}

BOOST_AUTO_TEST_SUITE_END()
