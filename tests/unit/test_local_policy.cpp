// The local `hearth run` dispatcher's use of the grid's policy
// (core/local_policy over core/sched_policy): free heat-allowed slots first,
// least waste first, then each worker's queue ahead; for a deadline, slots
// past the budgets only where least heat is wasted and only as many as the
// deadline lacks; urgent work opens what its queued tasks can use.
#include <boost/test/unit_test.hpp>

#include <vector>

#include "core/local_policy.hpp"
#include "core/sched_policy.hpp"

using namespace hearth;

namespace {

constexpr std::int64_t k_now = 1'700'000'000'000;

LocalWorker worker(std::uint32_t slots, std::uint32_t in_flight, std::uint32_t want) {
    LocalWorker w;
    w.slots = slots;
    w.in_flight = in_flight;
    w.want = want;
    return w;
}

LocalWorker with_heat(LocalWorker w, std::uint32_t allowed, std::int64_t waste_mk) {
    w.heat = HeatReport{true, allowed, w.slots, waste_mk};
    return w;
}

std::vector<LocalGrant> decide(const LocalJob& job, const std::vector<LocalWorker>& workers) {
    const PolicyInput in = local_policy_input(job, workers, k_now);
    return local_grants(in, schedule(in), job, workers);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(local_policy)

BOOST_AUTO_TEST_CASE(a_worker_gets_its_free_slots_and_the_queue_it_asked_for) {
    LocalJob job;
    job.queued = 2000;
    // Short tasks: the worker asks for 16 a slot, so a freed slot never waits.
    const auto g = decide(job, {worker(2, 0, 32)});
    BOOST_TEST(g[0].count == 32u);
    BOOST_TEST(g[0].overridden == 0u);
}

BOOST_AUTO_TEST_CASE(the_last_tasks_go_to_idle_slots_before_any_queue) {
    LocalJob job;
    job.queued = 2;
    job.running = 10;
    // Worker 0 wants heat most but is full and holds a queue of 8; worker 1
    // idles. Worker 0 asks first, as before, but the idle slots win.
    const auto g =
        decide(job, {with_heat(worker(2, 10, 6), 2, -1000), with_heat(worker(2, 0, 16), 2, 1000)});
    BOOST_TEST(g[0].count == 0u);
    BOOST_TEST(g[1].count == 2u);
}

BOOST_AUTO_TEST_CASE(free_slots_go_least_waste_first) {
    LocalJob job;
    job.queued = 3;
    const auto g =
        decide(job, {with_heat(worker(4, 0, 4), 4, 2000), with_heat(worker(4, 0, 4), 4, -500)});
    BOOST_TEST(g[1].count == 3u);
    BOOST_TEST(g[0].count == 0u);
}

BOOST_AUTO_TEST_CASE(a_worker_whose_site_wants_no_heat_gets_nothing) {
    LocalJob job;
    job.queued = 10;
    // Its budget is 0, so it asks for nothing.
    const auto g = decide(job, {with_heat(worker(4, 0, 0), 0, 3000)});
    BOOST_TEST(g[0].count == 0u);
}

BOOST_AUTO_TEST_CASE(a_blocked_worker_gets_nothing_not_even_its_queue) {
    LocalJob job;
    job.queued = 10;
    LocalWorker blocked = worker(2, 0, 8);
    blocked.usable = false;
    const auto g = decide(job, {blocked, worker(2, 0, 8)});
    BOOST_TEST(g[0].count == 0u);
    BOOST_TEST(g[1].count == 8u);
}

BOOST_AUTO_TEST_CASE(budgets_that_meet_the_deadline_open_nothing) {
    LocalJob job;
    job.deadline_ms = k_now + 3'600'000;  // an hour
    job.task_s = 60;
    job.queued = 20;  // 20 slot-minutes on 8 budgeted slots: well inside the hour
    const auto g =
        decide(job, {with_heat(worker(4, 0, 4), 4, -500), with_heat(worker(4, 0, 4), 4, -200)});
    BOOST_TEST(g[0].count + g[1].count == 8u);
    BOOST_TEST(g[0].overridden + g[1].overridden == 0u);
}

BOOST_AUTO_TEST_CASE(short_budgets_open_only_what_the_deadline_lacks_least_waste_first) {
    LocalJob job;
    job.deadline_ms = k_now + 600'000;  // ten minutes
    job.task_s = 120;
    job.queued = 12;  // 24 slot-minutes in 10 minutes, +10%: 3 slots
    // Both sites want no heat: their workers ask for nothing themselves.
    const auto g =
        decide(job, {with_heat(worker(4, 0, 0), 0, 3000), with_heat(worker(4, 0, 0), 0, 500)});
    BOOST_TEST(g[0].count == 0u);
    BOOST_TEST(g[1].count == 3u);
    BOOST_TEST(g[1].overridden == 3u);
    // Once those run, nothing more opens.
    job.queued = 9;
    job.running = 3;
    const auto after =
        decide(job, {with_heat(worker(4, 0, 0), 0, 3000), with_heat(worker(4, 3, 0), 0, 500)});
    BOOST_TEST(after[0].count + after[1].count == 0u);
}

BOOST_AUTO_TEST_CASE(a_deadline_takes_the_budgets_first_then_opens_the_rest) {
    LocalJob job;
    job.deadline_ms = k_now + 600'000;
    job.task_s = 120;
    job.queued = 12;  // needs 3 slots; the budget has 1
    const auto g =
        decide(job, {with_heat(worker(4, 0, 0), 0, 3000), with_heat(worker(4, 0, 1), 1, 500)});
    BOOST_TEST(g[0].count == 0u);
    BOOST_TEST(g[1].count == 3u);
    BOOST_TEST(g[1].overridden == 2u);  // the budget's slot is not past it
}

BOOST_AUTO_TEST_CASE(urgent_work_opens_what_its_queued_tasks_can_use) {
    LocalJob job;
    job.urgent = true;
    job.queued = 3;
    const std::vector<LocalWorker> cut = {with_heat(worker(4, 0, 0), 1, 2000),
                                          with_heat(worker(8, 0, 0), 0, 100)};
    auto g = decide(job, cut);
    // Not every slot of the grid: three, the budget's free slot first, then
    // past the budgets where least heat is wasted.
    BOOST_TEST(g[0].count == 1u);
    BOOST_TEST(g[0].overridden == 0u);
    BOOST_TEST(g[1].count == 2u);
    BOOST_TEST(g[1].overridden == 2u);
    job.queued = 100;
    g = decide(job, cut);
    // With work for all: every slot, the budget's own one not overridden.
    BOOST_TEST(g[0].count == 4u);
    BOOST_TEST(g[0].overridden == 3u);
    BOOST_TEST(g[1].count == 8u);
    BOOST_TEST(g[1].overridden == 8u);
}

BOOST_AUTO_TEST_CASE(deadline_work_offers_the_policy_a_workers_empty_slots) {
    const LocalWorker w = with_heat(worker(4, 1, 0), 0, 0);
    BOOST_TEST(local_node_report(w, false).want == 0u);
    BOOST_TEST(local_node_report(w, true).want == 3u);
    BOOST_TEST(local_node_report(w, true).running == 1u);
    // More asked than its empty slots (a queue ahead): kept.
    BOOST_TEST(local_node_report(worker(2, 0, 32), true).want == 32u);
}

BOOST_AUTO_TEST_SUITE_END()
