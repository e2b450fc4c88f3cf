#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

#include "core/heat_dispatch.hpp"

using hearth::DeadlineNeed;
using hearth::NodeCapacity;
using hearth::OverridePlan;

namespace {

NodeCapacity node(std::uint32_t slots, std::uint32_t allowed, double waste, bool usable = true) {
    NodeCapacity n;
    n.slots = slots;
    n.allowed = allowed;
    n.waste = waste;
    n.usable = usable;
    return n;
}

DeadlineNeed need(double tasks, double task_s, double time_left_s, bool urgent = false) {
    DeadlineNeed d;
    d.work_s = tasks * task_s;
    d.task_s = task_s;
    d.time_left_s = time_left_s;
    d.urgent = urgent;
    return d;
}

using Slots = std::vector<std::uint32_t>;

}  // namespace

BOOST_AUTO_TEST_SUITE(heat_dispatch)

BOOST_AUTO_TEST_CASE(heat_order_puts_the_coldest_sites_first) {
    const std::vector<NodeCapacity> nodes = {node(4, 4, 2.0), node(4, 4, -3.0), node(4, 4, 0.5),
                                             node(4, 4, -3.0), node(4, 4, 2.0)};
    BOOST_TEST(hearth::heat_order(nodes) == (Slots{1, 3, 2, 0, 4}),
               boost::test_tools::per_element());
    BOOST_TEST(hearth::heat_order({}).empty());
}

BOOST_AUTO_TEST_CASE(slots_needed_has_a_ten_percent_margin) {
    bool ok = false;
    // 100 tasks of 60 s in 1000 s: 6000 slot-s x 1.1 / 1000 s = 6.6 -> 7.
    BOOST_TEST(hearth::slots_needed(need(100, 60, 1000), 64, &ok) == 7u);
    BOOST_TEST(ok);
    // Nothing left: nothing needed.
    BOOST_TEST(hearth::slots_needed(need(0, 60, 1000), 64, &ok) == 0u);
    BOOST_TEST(ok);
    // The feasibility pointer is optional.
    BOOST_TEST(hearth::slots_needed(need(100, 60, 1000), 64, nullptr) == 7u);
}

BOOST_AUTO_TEST_CASE(with_about_one_task_time_left_every_task_needs_a_slot) {
    bool ok = false;
    // 10 tasks of 100 s with 105 s left: no second wave fits.
    BOOST_TEST(hearth::slots_needed(need(10, 100, 105), 64, &ok) == 10u);
    BOOST_TEST(ok);
    // With two and a half task times left, waves are allowed: ceil(1100 / 250).
    BOOST_TEST(hearth::slots_needed(need(10, 100, 250), 64, &ok) == 5u);
    BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(no_override_when_the_budgets_suffice) {
    const std::vector<NodeCapacity> nodes = {node(4, 2, 1.0), node(4, 3, 0.0)};
    const OverridePlan p = hearth::plan_deadline(need(20, 60, 1200), nodes);  // 1.1 -> 2 slots
    BOOST_TEST(p.needed == 2u);
    BOOST_TEST(p.budgeted == 5u);
    BOOST_TEST(!p.overridden);
    BOOST_TEST(p.feasible);
    BOOST_TEST(p.extra == (Slots{0, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(extra_slots_come_from_the_least_wasteful_nodes_first) {
    // Budgets closed everywhere; 6 slots needed.
    const std::vector<NodeCapacity> nodes = {node(4, 0, 3.0), node(4, 0, -1.0), node(4, 0, 0.5),
                                             node(4, 0, 5.0)};
    const OverridePlan p = hearth::plan_deadline(need(6, 600, 601), nodes);
    BOOST_TEST(p.needed == 6u);
    BOOST_TEST(p.budgeted == 0u);
    BOOST_TEST(p.overridden);
    BOOST_TEST(p.feasible);
    BOOST_TEST(p.extra == (Slots{0, 4, 2, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(budgeted_slots_count_before_any_override) {
    // 2 slots budgeted on the wasteful node; 5 needed: 3 extra, from the
    // least wasteful node that has room.
    const std::vector<NodeCapacity> nodes = {node(4, 2, 4.0), node(2, 2, -5.0), node(4, 0, 1.0)};
    const OverridePlan p = hearth::plan_deadline(need(5, 600, 601), nodes);
    BOOST_TEST(p.budgeted == 4u);
    BOOST_TEST(p.extra == (Slots{0, 0, 1}), boost::test_tools::per_element());
    // A budget above the physical slots counts as the slots.
    const OverridePlan q = hearth::plan_slots(3, {node(2, 9, 0.0), node(4, 0, 1.0)});
    BOOST_TEST(q.budgeted == 2u);
    BOOST_TEST(q.extra == (Slots{0, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unusable_nodes_are_skipped) {
    // The coldest node is down: its slots neither count nor get opened.
    const std::vector<NodeCapacity> nodes = {node(8, 8, -10.0, false), node(4, 0, 2.0),
                                             node(4, 1, 1.0)};
    const OverridePlan p = hearth::plan_deadline(need(6, 600, 601), nodes);
    BOOST_TEST(p.budgeted == 1u);
    BOOST_TEST(p.extra == (Slots{0, 2, 3}), boost::test_tools::per_element());
    BOOST_TEST(p.feasible);
    // 10 tasks need 10 slots; only 8 usable ones exist.
    const OverridePlan q = hearth::plan_deadline(need(10, 600, 601), nodes);
    BOOST_TEST(!q.feasible);
    BOOST_TEST(q.extra == (Slots{0, 4, 3}), boost::test_tools::per_element());  // all it can
}

BOOST_AUTO_TEST_CASE(a_task_longer_than_the_time_left_is_infeasible) {
    const std::vector<NodeCapacity> nodes = {node(64, 0, 0.0)};
    const OverridePlan p = hearth::plan_deadline(need(2, 700, 600), nodes);
    BOOST_TEST(!p.feasible);
    BOOST_TEST(p.needed == 2u);  // it still asks for what would come closest
}

BOOST_AUTO_TEST_CASE(more_slots_than_the_grid_has_is_infeasible) {
    const std::vector<NodeCapacity> nodes = {node(4, 4, 0.0), node(4, 0, 1.0)};
    // 1000 tasks of 60 s in 600 s: 110 slots.
    const OverridePlan p = hearth::plan_deadline(need(1000, 60, 600), nodes);
    BOOST_TEST(p.needed == 110u);
    BOOST_TEST(!p.feasible);
    BOOST_TEST(p.extra == (Slots{0, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(urgent_work_asks_for_every_usable_slot) {
    const std::vector<NodeCapacity> nodes = {node(4, 1, 0.0), node(8, 0, 3.0),
                                             node(16, 0, -1.0, false)};
    const OverridePlan p = hearth::plan_deadline(need(1, 60, 0, true), nodes);
    BOOST_TEST(p.needed == 12u);
    BOOST_TEST(p.feasible);
    BOOST_TEST(p.overridden);
    BOOST_TEST(p.extra == (Slots{3, 8, 0}), boost::test_tools::per_element());
    // An urgent job with a deadline too still asks for everything.
    BOOST_TEST(hearth::plan_deadline(need(1, 60, 1e6, true), nodes).needed == 12u);
}

BOOST_AUTO_TEST_CASE(a_passed_deadline_asks_for_everything_and_is_infeasible) {
    const std::vector<NodeCapacity> nodes = {node(4, 0, 0.0)};
    const OverridePlan p = hearth::plan_deadline(need(3, 60, -5), nodes);
    BOOST_TEST(p.needed == 4u);
    BOOST_TEST(!p.feasible);
    BOOST_TEST(p.extra == (Slots{4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_empty_grid_plans_nothing) {
    const OverridePlan p = hearth::plan_deadline(need(3, 60, 600), {});
    BOOST_TEST(p.extra.empty());
    BOOST_TEST(!p.feasible);
    BOOST_TEST(!p.overridden);
}

BOOST_AUTO_TEST_SUITE_END()
