// Per-node prefetch under `hearth site` (core/prefetch): how deep a node's
// queue may be, the policy granting past the free cores only as deep as that
// and never where heat allows nothing, the site's report, the wire field (an
// older site without it still works), and the scheduler with the real policy:
// prefetched attempts count for their tenant, go back without a retry and
// uncharged when handed back, and lapse with the lease like running ones.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/heat_wait.hpp"
#include "core/prefetch.hpp"
#include "core/sched_policy.hpp"
#include "core/scheduler.hpp"
#include "core/site_state.hpp"
#include "support.hpp"

using namespace hearth;
using hearth::test::TempDir;

namespace {

NodeReport node(std::uint32_t slots, std::uint32_t running, std::uint32_t want,
                std::uint32_t prefetch) {
    NodeReport n;
    n.node = "n1";
    n.slots = slots;
    n.running = running;
    n.want = want;
    n.prefetch = prefetch;
    return n;
}

HeatReport budget(std::uint32_t allowed, std::uint32_t slots) {
    return HeatReport{true, allowed, slots, 0};
}

PolicyInput one_node(std::uint32_t slots, std::uint32_t allowed, std::uint32_t busy,
                     std::uint32_t prefetch, std::uint64_t queued) {
    PolicyInput in;
    in.tenants = {PolicyTenant{"bank", 1, 0, 0}};
    PolicyJob j;
    j.queued = queued;
    j.task_s = 0.01;
    in.jobs = {j};
    PolicyNode n;
    n.cap.slots = slots;
    n.cap.allowed = allowed;
    n.busy = busy;
    n.prefetch = prefetch;
    in.nodes = {n};
    return in;
}

std::uint64_t granted(const std::vector<Grant>& gs, std::uint32_t job = 0) {
    std::uint64_t n = 0;
    for (const Grant& g : gs)
        if (g.job == job) n += g.count;
    return n;
}

Grid one_site_grid() {
    Grid g;
    Site pool;
    pool.name = "pool";
    g.sites = {pool};
    GridNode n1;
    n1.name = "n1";
    n1.site = "pool";
    n1.slots = 2;
    g.nodes = {n1};
    return g;
}

JobSubmit count_job(const std::string& n, std::uint32_t retries = 0) {
    JobSubmit j;
    j.split = SplitKind::count;
    j.split_text = n;
    j.command = {"true"};
    j.retries = retries;
    return j;
}

const Role k_bank{RoleKind::tenant, "bank", ""};
const Role k_studio{RoleKind::tenant, "studio", ""};

// A scheduler with the production policy, and one site whose node n1 has 2
// cores; the site's requests say what it holds, as hearth site's do.
struct Grid1 {
    TempDir dir;
    ManualClock clock;
    SchedulerSettings settings;
    Grid grid = one_site_grid();
    std::unique_ptr<Scheduler> s;
    std::set<AttemptKey> held;

    Grid1() {
        settings.lease_ms = 10'000;
        settings.usage_half_life_s = 1e9;
        open();
    }
    void open() {
        s = std::make_unique<Scheduler>(dir.file("state"), grid, clock, schedule, settings);
    }
    WorkReply work(const NodeReport& n, const std::vector<AttemptResult>& results = {}) {
        WorkRequest r;
        r.site = "pool";
        r.run = "r1";
        r.nodes = {n};
        r.results = results;
        for (const AttemptResult& x : results) held.erase(x.key);
        r.held.assign(held.begin(), held.end());
        WorkReply reply = s->work("pool", r);
        for (const TaskGrant& t : reply.tasks) held.insert(t.key);
        return reply;
    }
    NodeReport report(std::uint32_t want, std::uint32_t prefetch) const {
        return node(2, static_cast<std::uint32_t>(held.size()), want, prefetch);
    }
};

AttemptResult ended(const AttemptKey& k, AttemptStatus status, std::uint64_t wall_ms,
                    std::string reason = "") {
    AttemptResult r;
    r.key = k;
    r.node = "n1";
    r.status = status;
    r.wall_ms = wall_ms;
    r.reason = std::move(reason);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prefetch)

BOOST_AUTO_TEST_CASE(depth_grows_as_tasks_shorten_and_is_nothing_without_heat) {
    // Nothing before a task has ended: a long task must not be queued twice.
    BOOST_TEST(prefetch_depth(2, -1) == 0u);
    // Tasks of a few milliseconds: fifteen cores' worth per allowed core.
    BOOST_TEST(prefetch_depth(2, 1) == 30u);
    BOOST_TEST(prefetch_depth(2, 49) == 30u);
    BOOST_TEST(prefetch_depth(2, 100) == 6u);
    BOOST_TEST(prefetch_depth(2, 1500) == 1u);
    // Long tasks: a round trip is lost in them; none, so the tail balances.
    BOOST_TEST(prefetch_depth(2, 2000) == 0u);
    BOOST_TEST(prefetch_depth(2, 60'000) == 0u);
    // Heat allows nothing: no prefetch whatever the tasks.
    BOOST_TEST(prefetch_depth(0, 1) == 0u);
    // Bounded on a wide node: the backlog never passes 256 cores.
    BOOST_TEST(prefetch_depth(64, 1) == 256u - 64u);
    BOOST_TEST(prefetch_depth(256, 1) == 0u);
}

BOOST_AUTO_TEST_CASE(a_long_round_trip_deepens_the_queue_to_cover_it) {
    // Cover per allowed core: ceil(rtt / mean), none under a twentieth.
    BOOST_TEST(round_trip_cover(100, 100) == 1u);
    BOOST_TEST(round_trip_cover(50, 100) == 2u);
    BOOST_TEST(round_trip_cover(30, 100) == 4u);
    BOOST_TEST(round_trip_cover(5000, 100) == 0u);  // 2 %: lost in the task
    BOOST_TEST(round_trip_cover(2000, 100) == 1u);  // 5 %
    BOOST_TEST(round_trip_cover(-1, 100) == 0u);    // no task ended yet
    BOOST_TEST(round_trip_cover(50, -1) == 0u);     // no round trip measured yet
    BOOST_TEST(round_trip_cover(0, 100) == 100u);   // sub-millisecond tasks
    // Tasks of 60 ms, 2 allowed cores: the backlog rule keeps 6 queued,
    // enough for a 150 ms round trip; at 600 ms each core needs 10 queued.
    BOOST_TEST(prefetch_depth(2, 60, 1) == 6u);
    BOOST_TEST(prefetch_depth(2, 60, 150) == 6u);
    BOOST_TEST(prefetch_depth(2, 60, 600) == 20u);
    // Tasks of 3 s, 100 ms away: none queued, as without a round trip;
    // 1 s away: one each.
    BOOST_TEST(prefetch_depth(2, 3000, 100) == 0u);
    BOOST_TEST(prefetch_depth(2, 3000, 1000) == 2u);
    // Bounded, and nothing where heat allows nothing or before a task ends.
    BOOST_TEST(prefetch_depth(64, 10, 2000) == k_max_prefetch);
    BOOST_TEST(prefetch_depth(0, 60, 600) == 0u);
    BOOST_TEST(prefetch_depth(2, -1, 600) == 0u);
}

BOOST_AUTO_TEST_CASE(a_site_far_from_its_scheduler_asks_for_a_deeper_queue) {
    SiteState s;
    s.add_node(1, "n1", "h1", 2);
    s.add_node(2, "n2", "h2", 2);
    s.on_report(1, 3, HeatReport{});
    s.on_report(2, 3, budget(0, 2));
    for (int rank : {1, 2}) s.on_ended(rank, AttemptStatus::ok, 60);
    // Near: the backlog rule's depth, and the worker's own ask.
    s.on_round_trip(2);
    BOOST_TEST(s.nodes(true)[0].prefetch == 6u);
    BOOST_TEST(s.nodes(true)[0].want == 3u);
    // Far (the mean moves a fifth of the way each time): 10 per core, and
    // the site asks for what fills the node to 2 running + 20 queued.
    for (int i = 0; i < 60; ++i) s.on_round_trip(600);
    BOOST_TEST(s.nodes(true)[0].prefetch == 20u);
    BOOST_TEST(s.nodes(true)[0].want == 22u);
    std::vector<TaskGrant> grants;
    for (std::uint32_t t = 0; t < 20; ++t)
        grants.push_back(TaskGrant{{"a", t, 1}, "n1", {}, false, {}, {}});
    s.place(grants);
    // It holds 20 (its worker's 3 granted): the site asks for the 2 left.
    BOOST_TEST(s.nodes(true)[0].running == 20u);
    BOOST_TEST(s.nodes(true)[0].want == 2u);
    // A full result buffer: nothing.
    BOOST_TEST(s.nodes(false)[0].want == 0u);
    // No heat: no queue and no cover, the worker's own ask alone (the
    // scheduler grants nothing past a budget of 0).
    BOOST_TEST(s.nodes(true)[1].prefetch == 0u);
    BOOST_TEST(s.nodes(true)[1].want == 3u);
}

BOOST_AUTO_TEST_CASE(the_scheduler_takes_a_prefetch_only_where_heat_allows_a_core) {
    NodeReport n = node(2, 0, 4, 30);
    BOOST_TEST(allowed_cores(n) == 2u);  // no budget: every slot
    BOOST_TEST(prefetch_room(n) == 30u);
    n.heat = budget(1, 2);
    BOOST_TEST(allowed_cores(n) == 1u);
    BOOST_TEST(prefetch_room(n) == 30u);
    n.heat = budget(0, 2);
    BOOST_TEST(allowed_cores(n) == 0u);
    BOOST_TEST(prefetch_room(n) == 0u);
    n.heat = budget(5, 2);  // never past the slots
    BOOST_TEST(allowed_cores(n) == 2u);
    n.prefetch = 100'000;  // a site asking for too much gets the bound
    BOOST_TEST(prefetch_room(n) == k_max_prefetch);
    n.up = false;
    BOOST_TEST(prefetch_room(n) == 0u);
}

BOOST_AUTO_TEST_CASE(the_policy_grants_past_the_free_cores_as_deep_as_the_prefetch) {
    // Without prefetch: the free allowed cores only.
    BOOST_TEST(granted(schedule(one_node(2, 2, 0, 0, 100))) == 2u);
    BOOST_TEST(granted(schedule(one_node(2, 2, 2, 0, 100))) == 0u);
    // With a prefetch of 6: up to 8 held there, queued ones included.
    BOOST_TEST(granted(schedule(one_node(2, 2, 0, 6, 100))) == 8u);
    BOOST_TEST(granted(schedule(one_node(2, 2, 5, 6, 100))) == 3u);
    BOOST_TEST(granted(schedule(one_node(2, 2, 8, 6, 100))) == 0u);
    BOOST_TEST(granted(schedule(one_node(2, 2, 0, 6, 3))) == 3u);  // no more than is queued
    // Half the budget: one core runs, six queue behind it.
    BOOST_TEST(granted(schedule(one_node(2, 1, 0, 6, 100))) == 7u);
    // No heat wanted: nothing at all, whatever the site asks to prefetch.
    BOOST_TEST(granted(schedule(one_node(2, 0, 0, 6, 100))) == 0u);
}

BOOST_AUTO_TEST_CASE(a_deadline_still_opens_a_core_past_the_budget_over_a_full_prefetch) {
    // One core allowed of two, held: 1 running and 6 queued. An urgent job
    // needs one more now: the second core is physically free, and opened.
    PolicyInput in = one_node(2, 1, 7, 6, 0);
    PolicyJob urgent;
    urgent.urgent = true;
    urgent.queued = 1;
    urgent.seq = 1;
    in.jobs.push_back(urgent);
    const auto gs = schedule(in);
    BOOST_TEST_REQUIRE(gs.size() == 1u);
    BOOST_TEST(gs[0].job == 1u);
    BOOST_TEST(gs[0].count == 1u);
    BOOST_TEST(gs[0].overridden);
    // Both cores running past the budget: nothing spare.
    in.nodes[0].busy = 8;
    BOOST_TEST(schedule(in).empty());
}

BOOST_AUTO_TEST_CASE(fair_share_counts_prefetched_work_as_held) {
    // Two tenants of equal share on one node of 2 cores with a prefetch of
    // 6: the 8 cores in play split 4 and 4, queued ones counted.
    PolicyInput in = one_node(2, 2, 0, 6, 100);
    in.tenants.push_back(PolicyTenant{"studio", 1, 0, 0});
    PolicyJob studio = in.jobs[0];
    studio.tenant = 1;
    studio.seq = 1;
    in.jobs.push_back(studio);
    const auto gs = schedule(in);
    BOOST_TEST(granted(gs, 0) == 4u);
    BOOST_TEST(granted(gs, 1) == 4u);
    // max_running caps what a tenant holds, queued work included.
    in.tenants[0].max_running = 3;
    const auto capped = schedule(in);
    BOOST_TEST(granted(capped, 0) == 3u);
    BOOST_TEST(granted(capped, 1) == 5u);
}

BOOST_AUTO_TEST_CASE(the_site_reports_a_prefetch_from_its_nodes_task_times) {
    SiteState s;
    s.add_node(1, "n1", "h1", 2);
    s.add_node(2, "n2", "h2", 2);
    s.on_report(1, 2, HeatReport{});
    s.on_report(2, 2, budget(0, 2));
    // Nothing ended yet: no prefetch.
    BOOST_TEST(s.nodes(true)[0].prefetch == 0u);
    // Short tasks on n1; handed-back and refused attempts did not run and
    // do not count (they would make the tasks look instant).
    s.on_ended(1, AttemptStatus::ok, 10);
    s.on_ended(1, AttemptStatus::cancelled, 0);
    s.on_ended(1, AttemptStatus::spawn_failed, 0);
    s.on_ended(1, AttemptStatus::exited, 10);
    BOOST_TEST(s.nodes(true)[0].prefetch == 30u);
    // n2 wants no heat: no prefetch however short its tasks.
    s.on_ended(2, AttemptStatus::ok, 1);
    BOOST_TEST(s.nodes(true)[1].prefetch == 0u);
    s.on_report(2, 0, budget(1, 2));
    BOOST_TEST(s.nodes(true)[1].prefetch == 15u);
    // Long tasks: none.
    for (int i = 0; i < 40; ++i) s.on_ended(1, AttemptStatus::ok, 10'000);
    BOOST_TEST(s.nodes(true)[0].prefetch == 0u);
}

BOOST_AUTO_TEST_CASE(the_wire_field_is_optional_both_ways) {
    NodeReport n = node(2, 3, 4, 30);
    const auto j = to_json(n);
    BOOST_TEST(j.at("prefetch") == 30);
    BOOST_TEST(node_report_from_json(j).prefetch == 30u);
    // An older site sends no such field: no prefetch, and a new site sends
    // none when it has none (an older scheduler refuses fields it lacks).
    n.prefetch = 0;
    BOOST_TEST(!to_json(n).contains("prefetch"));
    BOOST_TEST(node_report_from_json(to_json(n)).prefetch == 0u);
    auto bad = to_json(node(2, 0, 0, 1));
    bad["prefetch"] = -1;
    BOOST_CHECK_THROW(node_report_from_json(bad), Error);
}

BOOST_AUTO_TEST_CASE(queued_prefetch_is_not_running_for_waiting_for_heat) {
    // Half the budget, one running and six queued: held by heat (a second
    // core is free but closed), not by the node's slots.
    NodeReport n = node(2, 7, 0, 6);
    n.heat = budget(1, 2);
    NodeRoom r = node_room(n, 0);
    BOOST_TEST(r.running == 1u);
    BOOST_TEST(held_for_heat({r}));
    // Room left in its prefetch: work can still go there.
    n.running = 3;
    BOOST_TEST(!held_for_heat({node_room(n, 0)}));
    // An older site without prefetch, as before: 7 held of 2 slots is full.
    n.running = 7;
    n.prefetch = 0;
    BOOST_TEST(!held_for_heat({node_room(n, 0)}));
}

BOOST_AUTO_TEST_CASE(a_site_with_a_prefetch_is_granted_past_its_free_cores) {
    Grid1 g;
    const JobInfo j = g.s->submit(k_bank, count_job("100"));
    // An older site (no prefetch): the two free cores only, however much it wants.
    BOOST_TEST(g.work(g.report(32, 0)).tasks.size() == 2u);
    BOOST_TEST(g.work(g.report(30, 0)).tasks.empty());
    // It reports a prefetch of 30: up to 32 held.
    BOOST_TEST(g.work(g.report(30, 30)).tasks.size() == 30u);
    BOOST_TEST(g.s->job(k_bank, j.id).running == 32u);
    BOOST_TEST(g.work(g.report(30, 30)).tasks.empty());
    // Results free room for as many again.
    std::vector<AttemptResult> done;
    for (auto it = g.held.begin(); done.size() < 5; ++it)
        done.push_back(ended(*it, AttemptStatus::ok, 1));
    for (const AttemptResult& d : done) g.held.erase(d.key);  // the site no longer holds them
    BOOST_TEST(g.work(g.report(5, 30), done).tasks.size() == 5u);
    BOOST_TEST(g.s->job(k_bank, j.id).committed == 5u);
}

BOOST_AUTO_TEST_CASE(a_node_that_wants_no_heat_gets_nothing_and_what_it_hands_back_is_requeued) {
    Grid1 g;
    const JobInfo j = g.s->submit(k_bank, count_job("40", 0));
    NodeReport warm = g.report(32, 30);
    BOOST_TEST(g.work(warm).tasks.size() == 32u);
    // The budget drops to nothing: no grant, however much it wants and prefetches.
    warm = g.report(32, 30);
    warm.heat = budget(0, 2);
    BOOST_TEST(g.work(warm).tasks.empty());
    // The worker hands its queue back: 30 never started (wall 0), the two
    // running end normally. Requeued, not failures (retries 0: a failure
    // would fail the job), and a queue's wait is charged to nobody.
    std::vector<AttemptResult> back;
    for (const AttemptKey& k : g.held)
        back.push_back(ended(k, AttemptStatus::cancelled, 0, "handed back"));
    back[0].status = back[1].status = AttemptStatus::ok;
    back[0].wall_ms = back[1].wall_ms = 500;
    g.clock.advance(std::chrono::seconds(5));
    warm = node(2, 0, 0, 0);
    warm.heat = budget(0, 2);
    BOOST_TEST(g.work(warm, back).tasks.empty());
    const JobInfo after = g.s->job(k_bank, j.id);
    BOOST_TEST(after.committed == 2u);
    BOOST_TEST(after.failed == 0u);
    BOOST_TEST(after.running == 0u);
    BOOST_TEST(after.waiting_for_heat == 38u);
    // Heat wanted again: the requeued tasks go out again, as new attempts.
    NodeReport open = g.report(32, 30);
    const WorkReply again = g.work(open);
    BOOST_TEST(again.tasks.size() == 32u);
    std::set<std::uint64_t> tasks;
    for (const TaskGrant& t : again.tasks) tasks.insert(t.key.task);
    BOOST_TEST(tasks.size() == 32u);
    BOOST_TEST(std::any_of(again.tasks.begin(), again.tasks.end(),
                           [](const TaskGrant& t) { return t.key.attempt == 2u; }));
    // Charged: the 2 x 0.5 s that ran, nothing for the 5 s the queue waited.
    PolicyInput seen;
    g.s = std::make_unique<Scheduler>(
        g.dir.file("state"), g.grid, g.clock,
        [&](const PolicyInput& in) {
            seen = in;
            return schedule(in);
        },
        g.settings);
    g.work(g.report(1, 30));
    BOOST_TEST_REQUIRE(seen.tenants.size() == 1u);
    BOOST_TEST(seen.tenants[0].usage_slot_s == 1.0, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(a_lapsed_lease_requeues_prefetched_attempts_like_running_ones) {
    Grid1 g;
    const JobInfo j = g.s->submit(k_bank, count_job("40", 0));
    BOOST_TEST(g.work(g.report(32, 30)).tasks.size() == 32u);
    g.clock.advance(std::chrono::seconds(11));
    g.s->tick();
    const JobInfo after = g.s->job(k_bank, j.id);
    BOOST_TEST(after.running == 0u);
    BOOST_TEST(after.failed == 0u);
    // The site comes back with nothing held: all 40 are there to take.
    g.held.clear();
    std::uint64_t got = 0;
    got += g.work(g.report(32, 30)).tasks.size();
    BOOST_TEST(got == 32u);
    BOOST_TEST(g.s->job(k_bank, j.id).running == 32u);
}

BOOST_AUTO_TEST_CASE(max_running_counts_prefetched_attempts) {
    Grid1 g;
    g.grid.tenants = {TenantSpec{"bank", 1, 3, ""}, TenantSpec{"studio", 1, 0, ""}};
    g.open();
    const JobInfo b = g.s->submit(k_bank, count_job("100"));
    const JobInfo s = g.s->submit(k_studio, count_job("100"));
    BOOST_TEST(g.work(g.report(32, 30)).tasks.size() == 32u);
    BOOST_TEST(g.s->job(k_bank, b.id).running == 3u);
    BOOST_TEST(g.s->job(k_studio, s.id).running == 29u);
}

BOOST_AUTO_TEST_SUITE_END()
