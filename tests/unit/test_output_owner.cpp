// The rule both dispatchers apply to collected output names (core/output_owner).
#include <boost/test/unit_test.hpp>

#include "core/output_owner.hpp"

using namespace hearth;

BOOST_AUTO_TEST_SUITE(output_owner)

BOOST_AUTO_TEST_CASE(a_name_nobody_owns_or_the_task_owns_is_fine) {
    BOOST_TEST(output_clash("frame_0001.png", std::nullopt, 3).empty());
    BOOST_TEST(output_clash("frame_0001.png", 3u, 3).empty());  // its own rerun rewrites it
}

BOOST_AUTO_TEST_CASE(a_name_another_task_owns_is_refused_with_the_owner_and_the_fix) {
    const std::string why = output_clash("out.txt", 0u, 7);
    BOOST_TEST(why ==
               "output 'out.txt' was already collected from task 0; give each task its own "
               "output names, e.g. frame_{first:04}.png");
    BOOST_TEST(why.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
