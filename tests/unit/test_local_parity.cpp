// `hearth run` without a server and `hearth serve` decide alike: the local
// dispatcher's input builder (core/local_policy) and the Scheduler, fed the
// same nodes, budgets and job, grant the same tasks on the same nodes, the
// same of them past the budgets. Both call core/sched_policy through
// core/policy_input's policy_node; this proves the glue around them (the job
// into a PolicyJob, the workers into NodeReports, grants back out) agrees.
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/local_policy.hpp"
#include "core/scheduler.hpp"
#include "tests/unit/support.hpp"

using namespace hearth;
using hearth::test::TempDir;

namespace {

// One in-process site of four nodes; the slots are each node's task slots
// (tasks of one core, so cores and task slots coincide).
Grid local_grid() {
    Grid g;
    Site site;
    site.name = "local";
    g.sites = {site};
    for (int i = 1; i <= 4; ++i) {
        GridNode n;
        n.name = "n" + std::to_string(i);
        n.site = "local";
        n.slots = i == 4 ? 2 : 4;
        g.nodes.push_back(n);
    }
    return g;
}

struct Decision {
    std::uint32_t count = 0;
    bool overridden = false;
    bool operator==(const Decision&) const = default;
};
using PerNode = std::map<std::string, Decision>;

// The job and its workers through both deciders, one round, with the
// scheduler already holding what earlier rounds granted.
class Parity {
public:
    explicit Parity(JobSubmit spec)
        : m_sched(m_dir.file("state"), m_grid, m_clock, hearth::schedule) {
        spec.tenant = "bank";
        spec.split = SplitKind::count;
        spec.command = {"true"};
        m_total = std::stoull(spec.split_text);
        m_job.urgent = spec.urgent;
        m_job.deadline_ms = spec.deadline_ms;
        m_sched.submit(Role{RoleKind::operator_, "", ""}, spec);
    }
    ManualClock& clock() { return m_clock; }

    // workers[i] is node n(i+1); its in_flight is what earlier rounds
    // granted there (set here), its want and heat the test's.
    void round(std::vector<LocalWorker> workers, PerNode* local_out = nullptr,
               std::vector<LocalGrant>* grants_out = nullptr) {
        BOOST_TEST_REQUIRE(workers.size() == m_grid.nodes.size());
        for (std::size_t i = 0; i < workers.size(); ++i) workers[i].in_flight = m_in_flight[i];
        std::uint32_t running = 0;
        for (std::uint32_t f : m_in_flight) running += f;
        m_job.running = running;
        m_job.queued = m_total - m_granted;
        const PolicyInput in = local_policy_input(m_job, workers, m_clock.unix_ms());
        const std::vector<LocalGrant> local = local_grants(in, schedule(in), m_job, workers);
        PerNode mine;
        for (std::size_t i = 0; i < local.size(); ++i)
            if (local[i].count > 0)
                mine[m_grid.nodes[i].name] = {local[i].count, local[i].overridden > 0};

        WorkRequest r;
        r.site = "local";
        r.run = "r1";
        r.held.assign(m_held.begin(), m_held.end());
        const bool deadline_work = m_job.urgent || m_job.deadline_ms > 0;
        for (std::size_t i = 0; i < workers.size(); ++i) {
            NodeReport n = local_node_report(workers[i], deadline_work);
            n.node = m_grid.nodes[i].name;
            r.nodes.push_back(n);
        }
        PerNode served;
        for (const TaskGrant& t : m_sched.work("local", r).tasks) {
            Decision& d = served[t.node];
            ++d.count;
            d.overridden = d.overridden || t.overridden;
            m_held.insert(t.key);
            ++m_in_flight[std::stoul(t.node.substr(1)) - 1];
            ++m_granted;
        }
        for (const auto& [node, d] : mine)
            BOOST_TEST_MESSAGE(node << " " << d.count << (d.overridden ? " overridden" : ""));
        BOOST_TEST(served.size() == mine.size());
        for (const auto& [node, d] : mine) {
            BOOST_TEST_CONTEXT("node " << node) {
                BOOST_TEST_REQUIRE(served.count(node) == 1u);
                BOOST_TEST(served.at(node).count == d.count);
                BOOST_TEST(served.at(node).overridden == d.overridden);
            }
        }
        if (local_out) *local_out = mine;
        if (grants_out) *grants_out = local;
    }

private:
    TempDir m_dir;
    Grid m_grid = local_grid();
    ManualClock m_clock;
    Scheduler m_sched;
    LocalJob m_job;
    std::uint64_t m_total = 0, m_granted = 0;
    std::vector<std::uint32_t> m_in_flight = std::vector<std::uint32_t>(4, 0);
    std::set<AttemptKey> m_held;
};

LocalWorker node(std::uint32_t slots, std::uint32_t want, bool heat, std::uint32_t allowed = 0,
                 std::int64_t waste_mk = 0) {
    LocalWorker w;
    w.slots = slots;
    w.want = want;
    if (heat) w.heat = HeatReport{true, allowed, slots, waste_mk};
    return w;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sched_parity)

BOOST_AUTO_TEST_CASE(local_dispatcher_and_scheduler_grant_the_same_free_slots) {
    JobSubmit s;
    s.split_text = "40";
    Parity p(s);
    PerNode got;
    // A site wanting heat, one with a slot of budget, one wanting none, one
    // without heat control. Each worker asks for what its budget starts.
    p.round({node(4, 4, true, 4, -2000), node(4, 1, true, 1, 500), node(4, 0, true, 0, 3000),
             node(2, 2, false)},
            &got);
    BOOST_TEST(got.at("n1").count == 4u);
    BOOST_TEST(got.at("n2").count == 1u);
    BOOST_TEST(got.count("n3") == 0u);
    BOOST_TEST(got.at("n4").count == 2u);
    // Budgets move: n3 opens two slots, n1 closes to two (it runs four).
    p.round({node(4, 0, true, 2, -2000), node(4, 0, true, 1, 500), node(4, 2, true, 2, 1000),
             node(2, 0, false)},
            &got);
    BOOST_TEST(got.size() == 1u);
    BOOST_TEST(got.at("n3").count == 2u);
}

BOOST_AUTO_TEST_CASE(local_dispatcher_and_scheduler_open_the_same_slots_for_a_deadline) {
    JobSubmit s;
    s.split_text = "40";
    ManualClock start;
    s.deadline_ms = start.unix_ms() + 300'000;  // five minutes: 40 tasks of (a guessed) minute
    Parity p(s);
    PerNode got;
    std::vector<LocalGrant> grants;
    const std::vector<LocalWorker> budgets = {node(4, 4, true, 4, -2000), node(4, 1, true, 1, 500),
                                              node(4, 0, true, 0, 3000), node(2, 2, false)};
    // 40 x 60 s x 1.1 in 300 s: 9 slots; the budgets give 7, so 2 open past
    // them where least heat is wasted (n2: n1 has none spare, n3 wastes more).
    p.round(budgets, &got, &grants);
    BOOST_TEST(got.at("n2").count == 3u);
    BOOST_TEST(got.at("n2").overridden);
    BOOST_TEST(grants[1].overridden == 2u);
    BOOST_TEST(!got.at("n1").overridden);
    BOOST_TEST(got.count("n3") == 0u);
    // Three minutes on, nothing finished: 2 minutes left for 31 tasks more
    // than the 9 running. n2's last spare slot, then n3's.
    p.clock().advance(std::chrono::minutes(3));
    p.round({node(4, 0, true, 4, -2000), node(4, 0, true, 2, 500), node(4, 0, true, 0, 3000),
             node(2, 0, false)},
            &got, &grants);
    BOOST_TEST(got.at("n2").count == 1u);
    BOOST_TEST(got.at("n3").count == 4u);
    BOOST_TEST(got.at("n3").overridden);
    BOOST_TEST(grants[2].overridden == 4u);
}

BOOST_AUTO_TEST_CASE(local_dispatcher_and_scheduler_place_urgent_work_alike) {
    JobSubmit s;
    s.split_text = "3";
    s.urgent = true;
    Parity p(s);
    PerNode got;
    // Every site wants no heat: three slots open, least waste first.
    p.round({node(4, 0, true, 0, 800), node(4, 0, true, 0, -300), node(4, 0, true, 0, 3000),
             node(2, 0, true, 0, 100)},
            &got);
    BOOST_TEST(got.size() == 1u);
    BOOST_TEST(got.at("n2").count == 3u);
    BOOST_TEST(got.at("n2").overridden);
}

BOOST_AUTO_TEST_SUITE_END()
