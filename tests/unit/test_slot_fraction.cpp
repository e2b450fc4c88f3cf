#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

#include "core/slot_fraction.hpp"

BOOST_AUTO_TEST_SUITE(slot_fraction)

// The agent's budget, the throttle and hearth sim share this rule. The
// throttle's copy rounded to the nearest slot (0.48 slot -> 0, 2.1 -> 2);
// rounding up means a site that asks for any heat gets a task running.
BOOST_AUTO_TEST_CASE(slots_round_up_and_stay_in_range) {
    using hearth::slots_for_fraction;
    BOOST_TEST(slots_for_fraction(0.0, 8) == 0u);
    BOOST_TEST(slots_for_fraction(1.0, 8) == 8u);
    BOOST_TEST(slots_for_fraction(0.5, 8) == 4u);
    BOOST_TEST(slots_for_fraction(0.06, 8) == 1u);    // 0.48 slot
    BOOST_TEST(slots_for_fraction(0.0625, 8) == 1u);  // half a slot
    BOOST_TEST(slots_for_fraction(0.001, 8) == 1u);   // any heat runs a task
    BOOST_TEST(slots_for_fraction(0.3, 3) == 1u);
    BOOST_TEST(slots_for_fraction(0.7, 3) == 3u);  // 2.1 slots
    BOOST_TEST(slots_for_fraction(1.5, 8) == 8u);
    BOOST_TEST(slots_for_fraction(-0.2, 8) == 0u);
    BOOST_TEST(slots_for_fraction(std::nan(""), 8) == 0u);
    BOOST_TEST(slots_for_fraction(std::numeric_limits<double>::infinity(), 8) == 8u);
    BOOST_TEST(slots_for_fraction(0.5, 0) == 0u);
    BOOST_TEST(slots_for_fraction(1.0, 4'000'000'000u) == 4'000'000'000u);
}

// Floating error must not open a slot: 3 x (1/3) x 3 slots is 3, not 4.
BOOST_AUTO_TEST_CASE(a_hair_above_a_whole_number_is_that_number) {
    BOOST_TEST(hearth::slots_for_fraction(0.1 * 3, 10) == 3u);
    BOOST_TEST(hearth::slots_for_fraction(1.0 / 3.0 * 3.0 / 3.0, 3) == 1u);
    BOOST_TEST(hearth::slots_for_fraction(0.7, 10) == 7u);
}

BOOST_AUTO_TEST_SUITE_END()
