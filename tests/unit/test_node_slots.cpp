#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

#include "core/node_slots.hpp"

using namespace hearth;
using Slots = std::vector<unsigned>;

BOOST_AUTO_TEST_SUITE(node_slots)

BOOST_AUTO_TEST_CASE(a_task_takes_the_first_free_slots_or_none) {
    SlotTable t;
    t.assign(4);
    BOOST_TEST(t.size() == 4u);
    BOOST_TEST((t.first_free(2) == Slots{0, 1}));
    t.take({0, 1});
    BOOST_TEST(t.held() == 2u);
    BOOST_TEST((t.first_free(1) == Slots{2}));
    t.take({3});
    // Slot 2 alone is free: a task of two cores gets none rather than one.
    BOOST_TEST(t.first_free(2).empty());
    BOOST_TEST((t.first_free(1) == Slots{2}));
    t.release({0, 1});
    BOOST_TEST(t.held() == 1u);
    BOOST_TEST((t.first_free(3) == Slots{0, 1, 2}));
    BOOST_TEST(t.first_free(4).empty());
    t.assign(2);
    BOOST_TEST(t.held() == 0u);
    BOOST_TEST((t.first_free(2) == Slots{0, 1}));
}

BOOST_AUTO_TEST_CASE(capacity_is_the_budget_capped_at_the_slots) {
    HeatReport none;
    BOOST_TEST(node_capacity(8, none) == 8u);  // no agent: every slot
    HeatReport h{true, 2, 8, 0};
    BOOST_TEST(node_capacity(8, h) == 2u);
    h.allowed = 100;
    BOOST_TEST(node_capacity(8, h) == 8u);
    h.allowed = 0;
    BOOST_TEST(node_capacity(8, h) == 0u);
}

BOOST_AUTO_TEST_CASE(a_task_holds_its_cores_only_when_slots_are_cores) {
    BOOST_TEST(task_slots(false, 4) == 1u);
    BOOST_TEST(task_slots(true, 4) == 4u);
    BOOST_TEST(task_slots(true, 0) == 1u);
}

BOOST_AUTO_TEST_CASE(may_start_within_the_budget_or_when_urgent_or_overridden) {
    StartCheck c;
    c.held = 2;
    c.need = 2;
    c.capacity = 4;
    BOOST_TEST(may_start(c));  // fills the budget exactly
    c.need = 3;
    BOOST_TEST(!may_start(c));
    c.urgent = true;
    BOOST_TEST(may_start(c));
    c.urgent = false;
    c.overridden = true;
    BOOST_TEST(may_start(c));
    // The memory cap holds whatever the budget: urgent and overridden too.
    c.urgent = true;
    c.mem_cap = 1;
    c.job_running = 1;
    BOOST_TEST(!may_start(c));
    c.job_running = 0;
    BOOST_TEST(may_start(c));
    c.mem_cap = 0;
    BOOST_TEST(!may_start(c));
}

BOOST_AUTO_TEST_CASE(heat_moved_by_allowance_or_a_tenth_of_a_kelvin) {
    HeatReport none;
    HeatReport h{true, 4, 8, 1000};
    BOOST_TEST(heat_moved(none, h));  // the agent came
    BOOST_TEST(heat_moved(h, none));  // or went
    BOOST_TEST(!heat_moved(none, none));
    BOOST_TEST(!heat_moved(h, h));
    HeatReport n = h;
    n.waste_mk = 1099;
    BOOST_TEST(!heat_moved(h, n));
    n.waste_mk = 900;
    BOOST_TEST(heat_moved(h, n));
    n = h;
    n.allowed = 3;
    BOOST_TEST(heat_moved(h, n));
}

BOOST_AUTO_TEST_CASE(past_budget_only_beyond_a_known_allowance) {
    BOOST_TEST(!past_budget(HeatReport{}, 10, 10));
    HeatReport h{true, 4, 8, 0};
    BOOST_TEST(!past_budget(h, 2, 2));
    BOOST_TEST(past_budget(h, 3, 2));
    BOOST_TEST(past_budget(h, 4, 1));
}

BOOST_AUTO_TEST_CASE(the_budget_is_read_every_second_and_fresh_before_a_start) {
    BOOST_TEST(budget_read_due(-1, false));  // never read
    BOOST_TEST(budget_read_due(-1, true));
    // Idle or full: once a second.
    BOOST_TEST(!budget_read_due(0, false));
    BOOST_TEST(!budget_read_due(k_budget_fresh_ms, false));
    BOOST_TEST(!budget_read_due(k_budget_period_ms - 1, false));
    BOOST_TEST(budget_read_due(k_budget_period_ms, false));
    // About to start queued work: a reading older than the fresh interval is
    // read again first, a newer one is used as it is.
    BOOST_TEST(!budget_read_due(0, true));
    BOOST_TEST(!budget_read_due(k_budget_fresh_ms - 1, true));
    BOOST_TEST(budget_read_due(k_budget_fresh_ms, true));
    BOOST_TEST(budget_read_due(k_budget_period_ms + 5, true));
}

BOOST_AUTO_TEST_CASE(a_stream_of_starts_reads_the_budget_at_most_once_a_fresh_interval) {
    // A task starts every 10 ms for 2 s: the worker reads the budget each
    // time its reading passes the fresh interval, so about 10 times, not
    // 200, and each start used a reading at most that old.
    long last = -1;
    int reads = 0;
    long oldest = 0;
    for (long now = 0; now < 2000; now += 10) {
        if (budget_read_due(last < 0 ? -1 : now - last, true)) {
            last = now;
            ++reads;
        }
        oldest = std::max(oldest, now - last);
    }
    BOOST_TEST(reads == 10);
    BOOST_TEST(oldest < k_budget_fresh_ms);
}

BOOST_AUTO_TEST_CASE(backlog_grows_as_tasks_get_shorter) {
    BOOST_TEST(target_backlog(4, -1) == 4u);  // nothing measured yet
    BOOST_TEST(target_backlog(4, 5000) == 4u);
    BOOST_TEST(target_backlog(4, 1999) == 5u);
    BOOST_TEST(target_backlog(4, 150) == 16u);
    BOOST_TEST(target_backlog(4, 10) == 64u);
    BOOST_TEST(target_backlog(0, 10) == 0u);      // no heat wanted: nothing queued
    BOOST_TEST(target_backlog(100, 10) == 256u);  // capped
    BOOST_TEST(target_backlog(100, 100) == 256u);
}

BOOST_AUTO_TEST_CASE(the_mean_starts_at_the_first_time_then_weighs_a_fifth) {
    BOOST_TEST(next_mean_ms(-1, 300) == 300.0);
    BOOST_TEST(next_mean_ms(100, 600) == 200.0);
    BOOST_TEST(next_mean_ms(0, 0) == 0.0);
}

BOOST_AUTO_TEST_CASE(asks_for_what_the_backlog_lacks_and_says_when_low) {
    auto n = backlog_need(2, 1, 1, 8);
    BOOST_TEST(n.want == 4u);
    BOOST_TEST(n.low);  // 2 queued or asked for, under half of 8
    n = backlog_need(2, 4, 2, 8);
    BOOST_TEST(n.want == 0u);
    BOOST_TEST(!n.low);
    n = backlog_need(4, 0, 0, 4);
    BOOST_TEST(n.want == 0u);
    BOOST_TEST(n.low);
    // A backlog of one or none: low only with nothing queued or asked for.
    n = backlog_need(0, 0, 0, 0);
    BOOST_TEST(n.want == 0u);
    BOOST_TEST(n.low);
    n = backlog_need(0, 1, 0, 1);
    BOOST_TEST(!n.low);
    n = backlog_need(9, 0, 0, 4);  // held past the backlog (urgent tasks)
    BOOST_TEST(n.want == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
