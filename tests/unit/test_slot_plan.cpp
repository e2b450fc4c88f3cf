#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

#include "core/slot_plan.hpp"

using hearth::plan_slots;
using Plan = std::vector<std::vector<unsigned>>;

BOOST_AUTO_TEST_SUITE(slot_plan)

BOOST_AUTO_TEST_CASE(examples) {
    BOOST_TEST((plan_slots(8, 3) == Plan{{0, 1, 2}, {3, 4, 5}, {6, 7}}));
    BOOST_TEST((plan_slots(8, 1) == Plan{{0, 1, 2, 3, 4, 5, 6, 7}}));
    BOOST_TEST((plan_slots(4, 4) == Plan{{0}, {1}, {2}, {3}}));
    BOOST_TEST((plan_slots(10, 4) == Plan{{0, 1, 2}, {3, 4, 5}, {6, 7}, {8, 9}}));
    BOOST_TEST((plan_slots(3, 7) == Plan{{0}, {1}, {2}, {0}, {1}, {2}, {0}}));
    BOOST_TEST((plan_slots(1, 3) == Plan{{0}, {0}, {0}}));
}

BOOST_AUTO_TEST_CASE(every_core_is_used_once_in_contiguous_even_groups) {
    for (unsigned cores = 1; cores <= 70; ++cores) {
        for (unsigned slots = 1; slots <= cores; ++slots) {
            BOOST_TEST_CONTEXT(cores << " cores, " << slots << " slots") {
                const Plan plan = plan_slots(cores, slots);
                BOOST_TEST_REQUIRE(plan.size() == slots);
                std::vector<int> used(cores, 0);
                std::size_t smallest = cores, largest = 0;
                unsigned expected_next = 0;
                for (const auto& group : plan) {
                    BOOST_TEST_REQUIRE(!group.empty());
                    smallest = std::min(smallest, group.size());
                    largest = std::max(largest, group.size());
                    // Contiguous, and each group starts where the previous one ended.
                    for (unsigned core : group) {
                        BOOST_TEST_REQUIRE(core == expected_next);
                        BOOST_TEST_REQUIRE(core < cores);
                        ++used[core];
                        ++expected_next;
                    }
                }
                BOOST_TEST(expected_next == cores);
                BOOST_TEST(std::all_of(used.begin(), used.end(), [](int n) { return n == 1; }));
                BOOST_TEST(largest - smallest <= 1u);
                BOOST_TEST(smallest == cores / slots);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(more_slots_than_cores_share_cores_round_robin) {
    for (unsigned cores = 1; cores <= 12; ++cores) {
        for (unsigned slots = cores + 1; slots <= 3 * cores + 2; ++slots) {
            BOOST_TEST_CONTEXT(cores << " cores, " << slots << " slots") {
                const Plan plan = plan_slots(cores, slots);
                BOOST_TEST_REQUIRE(plan.size() == slots);
                std::vector<unsigned> load(cores, 0);
                for (unsigned s = 0; s < slots; ++s) {
                    BOOST_TEST_REQUIRE(plan[s].size() == 1u);
                    BOOST_TEST(plan[s][0] == s % cores);
                    ++load[plan[s][0]];
                }
                // Every core is used, and loads differ by at most one.
                const auto [lo, hi] = std::minmax_element(load.begin(), load.end());
                BOOST_TEST(*lo >= 1u);
                BOOST_TEST(*hi - *lo <= 1u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(zero_cores_or_zero_slots) {
    BOOST_TEST(plan_slots(8, 0).empty());
    BOOST_TEST(plan_slots(0, 0).empty());
    const Plan plan = plan_slots(0, 3);
    BOOST_TEST(plan.size() == 3u);
    for (const auto& group : plan) BOOST_TEST(group.empty());
}

BOOST_AUTO_TEST_SUITE_END()
