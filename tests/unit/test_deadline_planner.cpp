// The dispatcher's deadline planner: slots opened past heat budgets only when
// the budgets cannot meet the deadline, least-waste nodes first, and only
// changes are sent.
#include <boost/test/unit_test.hpp>

#include "core/deadline.hpp"

using hearth::DeadlinePlanner;
using hearth::HeatReport;

BOOST_AUTO_TEST_SUITE(deadline_planner)

BOOST_AUTO_TEST_CASE(no_deadline_is_inactive) {
    DeadlinePlanner p(0, false);
    BOOST_TEST(!p.active());
    BOOST_TEST(DeadlinePlanner(1, false).active());
    BOOST_TEST(DeadlinePlanner(0, true).active());
}

BOOST_AUTO_TEST_CASE(budgets_that_suffice_open_nothing) {
    const std::int64_t now = 1'000'000;
    DeadlinePlanner p(now + 3'600'000, false);  // an hour left
    p.on_heat(1, HeatReport{true, 4, 4, -500});
    p.on_heat(2, HeatReport{true, 4, 4, -200});
    for (int i = 0; i < 5; ++i) p.on_task_time(60'000);  // a minute a task
    // 20 tasks of a minute on 8 budgeted slots: well inside the hour.
    auto changed = p.plan(now, 20);
    BOOST_TEST(changed.size() == 2u);  // first plan: every rank told its value
    BOOST_TEST(changed[1] == 0u);
    BOOST_TEST(changed[2] == 0u);
    BOOST_TEST(!p.overriding());
    BOOST_TEST(p.plan(now, 20).empty());  // nothing changed: nothing sent
}

BOOST_AUTO_TEST_CASE(short_budgets_open_least_waste_nodes_first) {
    const std::int64_t now = 5'000'000;
    DeadlinePlanner p(now + 600'000, false);  // ten minutes left
    p.on_heat(1, HeatReport{true, 0, 4, 3000});   // 3 K over its band: wastes most
    p.on_heat(2, HeatReport{true, 0, 4, 500});    // nearly wants heat
    p.on_heat(3, HeatReport{false, 0, 0, 0});     // no agent: not planned
    for (int i = 0; i < 3; ++i) p.on_task_time(120'000);  // two minutes a task
    // 12 tasks x 2 min = 24 slot-minutes in 10 minutes, +10%: 3 slots.
    auto changed = p.plan(now, 12);
    BOOST_TEST(changed.count(3) == 0u);
    BOOST_TEST(changed[2] == 3u);
    BOOST_TEST(changed[1] == 0u);
    BOOST_TEST(p.overriding());
    // Work done: the extra slots close again.
    auto after = p.plan(now + 60'000, 0);
    BOOST_TEST(after[2] == 0u);
    BOOST_TEST(!p.overriding());
}

BOOST_AUTO_TEST_CASE(urgent_opens_every_slot) {
    DeadlinePlanner p(0, true);
    p.on_heat(1, HeatReport{true, 1, 4, 2000});
    p.on_heat(2, HeatReport{true, 0, 8, 100});
    auto changed = p.plan(0, 100);
    BOOST_TEST(changed[1] == 3u);
    BOOST_TEST(changed[2] == 8u);
}

BOOST_AUTO_TEST_SUITE_END()
