#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/gpu_table.hpp"
#include "core/node_slots.hpp"

using hearth::GpuTable;
using Gpus = std::vector<unsigned>;

BOOST_AUTO_TEST_SUITE(gpu_table)

BOOST_AUTO_TEST_CASE(takes_the_lowest_free_indices_and_gives_them_back) {
    GpuTable t;
    t.assign(4);
    BOOST_TEST(t.size() == 4u);
    BOOST_TEST(t.free() == 4u);
    BOOST_TEST(t.take(1) == (Gpus{0}), boost::test_tools::per_element());
    BOOST_TEST(t.take(2) == (Gpus{1, 2}), boost::test_tools::per_element());
    BOOST_TEST(t.free() == 1u);
    // Not enough free: nothing taken.
    BOOST_TEST(t.take(2).empty());
    BOOST_TEST(t.free() == 1u);
    t.release({1, 2});
    BOOST_TEST(t.free() == 3u);
    // The freed ones come back first, lowest first.
    BOOST_TEST(t.take(3) == (Gpus{1, 2, 3}), boost::test_tools::per_element());
    BOOST_TEST(t.free() == 0u);
    // A job without GPUs takes none.
    BOOST_TEST(t.take(0).empty());
}

BOOST_AUTO_TEST_CASE(a_node_without_gpus_gives_none) {
    GpuTable t;
    t.assign(0);
    BOOST_TEST(t.take(1).empty());
    BOOST_TEST(t.free() == 0u);
    BOOST_CHECK_NO_THROW(t.release({}));
}

BOOST_AUTO_TEST_CASE(giving_back_what_is_not_held_is_refused_and_changes_nothing) {
    GpuTable t;
    t.assign(3);
    const Gpus held = t.take(2);
    BOOST_CHECK_THROW(t.release({2}), std::logic_error);     // never taken
    BOOST_CHECK_THROW(t.release({7}), std::logic_error);     // not a GPU of the node
    BOOST_CHECK_THROW(t.release({0, 0}), std::logic_error);  // twice in one list
    BOOST_TEST(t.free() == 1u);
    t.release(held);
    BOOST_CHECK_THROW(t.release(held), std::logic_error);  // twice
    BOOST_TEST(t.free() == 3u);
}

// Tasks start, end, are killed or retried in any order: no index is ever
// held by two running tasks, and every index comes back.
BOOST_AUTO_TEST_CASE(no_gpu_is_held_by_two_running_tasks) {
    std::mt19937 rng(20);
    for (unsigned gpus : {1u, 2u, 3u, 8u}) {
        GpuTable t;
        t.assign(gpus);
        std::map<int, Gpus> running;  // task -> its GPUs
        int next = 0;
        for (int step = 0; step < 5000; ++step) {
            const bool start = running.empty() || rng() % 2 == 0;
            if (start) {
                const unsigned want = 1 + rng() % 2;
                Gpus got = t.take(want);
                if (got.empty()) {
                    BOOST_TEST_REQUIRE(t.free() < want);
                    continue;
                }
                BOOST_TEST_REQUIRE(got.size() == want);
                for (const auto& [task, held] : running)
                    for (unsigned g : got)
                        BOOST_TEST_REQUIRE(std::count(held.begin(), held.end(), g) == 0);
                running[next++] = std::move(got);
            } else {
                // It exited, was killed or timed out, or failed to spawn and
                // will be retried: the same release either way.
                auto it = running.begin();
                std::advance(it, static_cast<long>(rng() % running.size()));
                t.release(it->second);
                running.erase(it);
            }
            unsigned held = 0;
            for (const auto& [task, g] : running) held += static_cast<unsigned>(g.size());
            BOOST_TEST_REQUIRE(t.free() == gpus - held);
        }
        for (const auto& [task, g] : running) t.release(g);
        BOOST_TEST(t.free() == gpus);
    }
}

BOOST_AUTO_TEST_CASE(tasks_fitting_and_the_nodes_count) {
    BOOST_TEST(hearth::gpu_tasks_fitting(2, 1) == 2u);
    BOOST_TEST(hearth::gpu_tasks_fitting(3, 2) == 1u);
    BOOST_TEST(hearth::gpu_tasks_fitting(1, 2) == 0u);
    BOOST_TEST(hearth::gpu_tasks_fitting(0, 0) == UINT32_MAX);  // the job needs none
    // The grid file's count wins, 0 included; unset, the agent's.
    BOOST_TEST(hearth::node_gpus(2, 8) == 2u);
    BOOST_TEST(hearth::node_gpus(0, 8) == 0u);
    BOOST_TEST(hearth::node_gpus(std::nullopt, 8) == 8u);
    BOOST_TEST(hearth::node_gpus(std::nullopt, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(a_shortfall_names_the_node_and_the_fix) {
    BOOST_TEST(hearth::gpu_shortfall("n1", 2, 2).empty());
    BOOST_TEST(hearth::gpu_shortfall("n1", 0, 0).empty());
    const std::string why = hearth::gpu_shortfall("n1", 1, 2);
    BOOST_TEST(why.find("node n1 has 1 GPU,") != std::string::npos, why);
    BOOST_TEST(why.find("--gpus-per-task 2") != std::string::npos, why);
    BOOST_TEST(why.find("gpus = N in the grid file") != std::string::npos, why);
    BOOST_TEST(why.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_attempt_never_starts_without_its_gpus_free) {
    hearth::StartCheck c;
    c.capacity = 4;
    c.gpus_need = 1;
    c.gpus_free = 0;
    BOOST_TEST(!hearth::may_start(c));
    // Not even urgent, or placed past the heat budget by a deadline.
    c.urgent = true;
    c.overridden = true;
    BOOST_TEST(!hearth::may_start(c));
    c.gpus_free = 1;
    BOOST_TEST(hearth::may_start(c));
    c.urgent = c.overridden = false;
    c.gpus_need = 0;
    c.gpus_free = 0;
    BOOST_TEST(hearth::may_start(c));  // a job without GPUs
}

BOOST_AUTO_TEST_SUITE_END()
