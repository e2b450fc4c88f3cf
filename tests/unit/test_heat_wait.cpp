// "Waiting for heat" (core/heat_wait): held back only when no node has a
// heat-allowed slot free while some node has a free slot its heat closes.
#include <boost/test/unit_test.hpp>

#include "core/heat_wait.hpp"

using namespace hearth;

namespace {

NodeReport node(std::uint32_t slots, std::uint32_t running,
                std::optional<std::uint32_t> heat_allowed) {
    NodeReport n;
    n.node = "n";
    n.slots = slots;
    n.running = running;
    if (heat_allowed) {
        n.heat.known = true;
        n.heat.allowed = *heat_allowed;
        n.heat.slots = slots;
    }
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(heat_wait)

BOOST_AUTO_TEST_CASE(a_node_whose_heat_budget_is_spent_holds_work_for_heat) {
    // 4 slots, 1 running, the budget allows 1: three free slots closed by heat.
    BOOST_TEST(held_for_heat({node_room(node(4, 1, 1), 0)}));
    // No budget at all (the house is warm): held too.
    BOOST_TEST(held_for_heat({node_room(node(4, 0, 0), 0)}));
}

BOOST_AUTO_TEST_CASE(room_anywhere_means_plain_queued) {
    // One node closed by heat, another with a heat-allowed slot free: the
    // policy can place work there, so nothing waits for heat.
    BOOST_TEST(!held_for_heat({node_room(node(4, 1, 1), 0), node_room(node(2, 0, 2), 0)}));
    // A node without heat control counts its slots.
    BOOST_TEST(
        !held_for_heat({node_room(node(4, 1, 1), 0), node_room(node(2, 1, std::nullopt), 0)}));
}

BOOST_AUTO_TEST_CASE(a_full_grid_is_plain_queued_not_heat) {
    BOOST_TEST(!held_for_heat({node_room(node(2, 2, 2), 0)}));
    BOOST_TEST(!held_for_heat({node_room(node(2, 2, std::nullopt), 0)}));
    BOOST_TEST(!held_for_heat({}));  // no site at all
    // Heat allows 1, the site asked and was granted the one: now full by heat
    // and one more slot free by cores: waiting for heat.
    BOOST_TEST(!held_for_heat({node_room(node(2, 0, 1), 0)}));
    BOOST_TEST(held_for_heat({node_room(node(2, 0, 1), 1)}));
}

BOOST_AUTO_TEST_CASE(nodes_that_are_down_do_not_count) {
    NodeReport down = node(8, 0, std::nullopt);
    down.up = false;
    BOOST_TEST(held_for_heat({node_room(down, 0), node_room(node(4, 0, 0), 0)}));
    BOOST_TEST(!held_for_heat({node_room(down, 0)}));
}

BOOST_AUTO_TEST_CASE(a_budget_above_the_slots_is_capped_by_them) {
    BOOST_TEST(!held_for_heat({node_room(node(2, 2, 10), 0)}));
}

BOOST_AUTO_TEST_SUITE_END()
