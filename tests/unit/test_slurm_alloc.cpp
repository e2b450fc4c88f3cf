// Reading a Slurm allocation from the environment Slurm gives a job.
#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/slurm_alloc.hpp"

using hearth::expand_slurm_counts;
using hearth::read_slurm_allocation;
using hearth::test::usage_mentioning;

namespace {

using Env = std::map<std::string, std::string>;

hearth::EnvLookup lookup(const Env& env) {
    return [env](const std::string& k) -> std::optional<std::string> {
        auto it = env.find(k);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
}

std::vector<unsigned> counts(const std::string& s) {
    return expand_slurm_counts(s, "SLURM_TASKS_PER_NODE");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(slurm_alloc)

BOOST_AUTO_TEST_CASE(counts_expand_repeats_as_slurm_writes_them) {
    BOOST_TEST(counts("1") == std::vector<unsigned>({1}));
    BOOST_TEST(counts("2(x3),1") == std::vector<unsigned>({2, 2, 2, 1}));
    BOOST_TEST(counts("4,2(x2),16") == std::vector<unsigned>({4, 2, 2, 16}));
    BOOST_TEST(counts("3(x1)") == std::vector<unsigned>({3}));
}

BOOST_AUTO_TEST_CASE(bad_counts_name_the_variable_and_the_form) {
    for (const char* bad :
         {"", "0", "2(x0)", "2(3)", "2(x3", "x", "1,,2", "1,", "-1", "2(x)", "99999999"})
        BOOST_CHECK_EXCEPTION(counts(bad), hearth::Error,
                              usage_mentioning("SLURM_TASKS_PER_NODE='" + std::string(bad) + "'"));
    BOOST_CHECK_EXCEPTION(counts("2(3)"), hearth::Error, usage_mentioning("2(x3),1"));
}

BOOST_AUTO_TEST_CASE(outside_an_allocation_there_is_none) {
    BOOST_TEST(!read_slurm_allocation(lookup({})).has_value());
    // A node list alone (left over in a shell) is not an allocation.
    BOOST_TEST(!read_slurm_allocation(lookup({{"SLURM_JOB_NODELIST", "n1"}})).has_value());
    BOOST_TEST(!read_slurm_allocation(lookup({{"SLURM_JOB_ID", ""}})).has_value());
}

BOOST_AUTO_TEST_CASE(nodes_and_tasks_pair_up_in_order) {
    auto a = read_slurm_allocation(lookup({{"SLURM_JOB_ID", "42"},
                                           {"SLURM_JOB_NODELIST", "node[1-3,5]"},
                                           {"SLURM_TASKS_PER_NODE", "2(x3),1"}}));
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(a->job_id == "42");
    BOOST_REQUIRE_EQUAL(a->nodes.size(), 4u);
    const std::vector<std::string> names = {"node1", "node2", "node3", "node5"};
    const std::vector<unsigned> tasks = {2, 2, 2, 1};
    for (std::size_t i = 0; i < 4; ++i) {
        BOOST_TEST(a->nodes[i].name == names[i]);
        BOOST_TEST(a->nodes[i].tasks == tasks[i]);
    }
    auto specs = hearth::slurm_node_specs(*a);
    BOOST_REQUIRE_EQUAL(specs.size(), 4u);
    BOOST_TEST(specs[3].host == "node5");
    BOOST_TEST(specs[3].slots == 1u);
}

BOOST_AUTO_TEST_CASE(older_names_and_cpus_stand_in_for_missing_variables) {
    // SLURM_JOBID and SLURM_NODELIST: the names older Slurm releases set.
    auto a = read_slurm_allocation(lookup({{"SLURM_JOBID", "7"},
                                           {"SLURM_NODELIST", "gpu[01-02]"},
                                           {"SLURM_JOB_CPUS_PER_NODE", "8,4"}}));
    BOOST_REQUIRE(a.has_value());
    BOOST_TEST(a->job_id == "7");
    BOOST_REQUIRE_EQUAL(a->nodes.size(), 2u);
    BOOST_TEST(a->nodes[0].name == "gpu01");
    BOOST_TEST(a->nodes[0].tasks == 8u);
    BOOST_TEST(a->nodes[1].tasks == 4u);
    // Neither count: one task a node.
    auto b = read_slurm_allocation(lookup({{"SLURM_JOB_ID", "8"}, {"SLURM_JOB_NODELIST", "a,b"}}));
    BOOST_REQUIRE(b.has_value());
    BOOST_TEST(b->nodes[1].tasks == 1u);
}

BOOST_AUTO_TEST_CASE(an_allocation_hearth_cannot_use_is_a_usage_error) {
    BOOST_CHECK_EXCEPTION(read_slurm_allocation(lookup({{"SLURM_JOB_ID", "9"}})), hearth::Error,
                          usage_mentioning("Slurm job 9 has no nodes"));
    BOOST_CHECK_EXCEPTION(
        read_slurm_allocation(lookup({{"SLURM_JOB_ID", "9"}, {"SLURM_JOB_NODELIST", "n[1-"}})),
        hearth::Error, usage_mentioning("SLURM_JOB_NODELIST of Slurm job 9: bad Slurm host list"));
    BOOST_CHECK_EXCEPTION(read_slurm_allocation(lookup({{"SLURM_JOB_ID", "9"},
                                                        {"SLURM_JOB_NODELIST", "n[1-3]"},
                                                        {"SLURM_TASKS_PER_NODE", "2(x2)"}})),
                          hearth::Error, usage_mentioning("lists 3 node(s)"));
    BOOST_CHECK_EXCEPTION(read_slurm_allocation(lookup({{"SLURM_JOB_ID", "9"},
                                                        {"SLURM_JOB_NODELIST", "n1"},
                                                        {"SLURM_TASKS_PER_NODE", "two"}})),
                          hearth::Error, usage_mentioning("SLURM_TASKS_PER_NODE='two'"));
}

BOOST_AUTO_TEST_SUITE_END()
