// `hearth sim` and `hearth serve` decide alike: the simulator's first
// decision on a scenario's queue is held against the scheduler's answer to a
// site reporting the same nodes and heat budgets, with the same jobs queued.
// Both call core/sched_policy; this proves the glue around it (jobs, tenants,
// budgets into the policy's input; grants back out) agrees too.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <tuple>

#include "core/clock.hpp"
#include "core/scenario.hpp"
#include "core/scheduler.hpp"
#include "core/sim.hpp"
#include "tests/unit/support.hpp"

using namespace hearth;
using hearth::test::TempDir;

namespace {

// One site wanting heat on some nodes more than others is not possible (a
// site has one temperature), so two sites: a cold tank (room in its budget)
// and a warm hall (little), four nodes each.
const char* k_grid = R"(
[[tenant]]
name = "bank"
share = 3
[[tenant]]
name = "studio"
share = 1
[[site]]
name = "tank"
kind = "tank"
target = 60
min = 40
max = 70
[site.thermal]
initial = 50
[[site]]
name = "hall"
kind = "room"
target = 20
min = 10
max = 30
[site.thermal]
initial = 20.4
outside = 5
)";

// memory: the nodes' `memory` ("" = not said).
std::string nodes_toml(const std::string& memory = "") {
    std::string t;
    for (const char* site : {"tank", "hall"})
        for (int n = 1; n <= 4; ++n) {
            t += "[[node]]\nname = \"" + std::string(site) + "-" + std::to_string(n) + "\"\nsite = \"" +
                 site + "\"\nslots = 4\n";
            if (!memory.empty()) t += "memory = \"" + memory + "\"\n";
        }
    return t;
}

const char* k_scenario = R"(
grid = "grid.toml"
duration = "10m"
[[job]]
name = "var"
tenant = "bank"
tasks = 40
task_time = "1m"
[[job]]
name = "frames"
tenant = "studio"
tasks = 40
task_time = "1m"
[[job]]
name = "rerun"
tenant = "bank"
tasks = 6
task_time = "1m"
priority = 5
[[job]]
name = "hotfix"
tenant = "studio"
tasks = 3
task_time = "1m"
urgent = true
)";

// The same queue with a job of 2-core tasks needing 5 GiB each, on nodes of
// 4 cores and 12 GiB: cores and memory shape both deciders' grants alike.
const char* k_wide_jobs = R"(
[[job]]
name = "pricer"
tenant = "bank"
tasks = 12
task_time = "1m"
cores_per_task = 2
mem_per_task = "5G"
priority = 10
)";

// (job, node) -> (count, overridden)
using GrantMap = std::map<std::pair<std::string, std::string>, std::pair<std::uint32_t, bool>>;

// The simulator's first decision and the scheduler's answers to both sites;
// returns the simulator's grants once they are held equal.
GrantMap check_parity(const std::string& scenario, const std::string& memory) {
    TempDir dir;
    std::ofstream(dir.file("grid.toml")) << k_grid << nodes_toml(memory);
    const Scenario sc = parse_scenario(scenario, "parity.toml", dir.path().string());

    // The simulator's first decision.
    std::optional<PolicyInput> input;
    GrantMap sim;
    SimTrace trace;
    trace.on_decision = [&](const PolicyInput& in, const std::vector<Grant>& grants) {
        if (input) return;
        input = in;
        for (const Grant& g : grants)
            sim[{sc.jobs[in.jobs[g.job].seq].name, sc.grid.nodes[g.node].name}] = {g.count, g.overridden};
    };
    simulate(sc, SimPolicy::heat_aware, trace);
    BOOST_TEST_REQUIRE(input.has_value());
    BOOST_TEST_REQUIRE(input->jobs.size() == sc.jobs.size());
    BOOST_TEST_REQUIRE(!sim.empty());
    for (const auto& [k, d] : sim) BOOST_TEST_MESSAGE(k.first << " " << k.second << " " << d.first << (d.second ? " overridden" : ""));

    // The scheduler: the same jobs in the same order, both sites reporting
    // the budgets the simulator had. One site's request sees only its own
    // nodes, so the sites ask in the simulator's heat order (the tank wants
    // heat most) and the second one's answer follows the first's grants.
    ManualClock clock;
    Scheduler sched(dir.file("state"), sc.grid, clock, hearth::schedule);
    std::map<std::string, std::string> job_name;  // id -> name
    for (const SimJob& j : sc.jobs) {
        JobSubmit s;
        s.tenant = j.tenant;
        s.split = SplitKind::count;
        s.split_text = std::to_string(j.tasks);
        s.command = {"true"};
        s.priority = j.priority;
        s.urgent = j.urgent;
        s.cores_per_task = j.cores_per_task;
        s.mem_per_task = j.mem_per_task;
        job_name[sched.submit(Role{RoleKind::operator_, "", ""}, s).id] = j.name;
    }
    GrantMap served;
    for (const char* site : {"tank", "hall"}) {
        WorkRequest r;
        r.site = site;
        r.run = "r1";
        for (std::size_t i = 0; i < sc.grid.nodes.size(); ++i) {
            if (sc.grid.nodes[i].site != site) continue;
            const PolicyNode& p = input->nodes[i];
            NodeReport n;
            n.node = sc.grid.nodes[i].name;
            n.slots = p.cap.slots;
            n.running = p.busy;
            n.want = p.cap.slots;
            n.heat = HeatReport{true, p.cap.allowed, p.cap.slots,
                                static_cast<std::int64_t>(std::llround(p.cap.waste * 1000))};
            if (p.mem_total != hearth::k_mem_unknown) {
                n.mem_total = p.mem_total;
                n.mem_available = p.mem_free;
            }
            r.nodes.push_back(n);
        }
        for (const TaskGrant& t : sched.work(site, r).tasks) {
            auto& d = served[{job_name.at(t.key.job), t.node}];
            ++d.first;
            d.second = d.second || t.overridden;
        }
    }

    BOOST_TEST_CONTEXT("the simulator's budgets: tank allowed " << input->nodes[0].cap.allowed
                                                                << ", hall allowed " << input->nodes[4].cap.allowed) {
        BOOST_TEST(served.size() == sim.size());
        for (const auto& [key, want] : sim) {
            BOOST_TEST_CONTEXT("job " << key.first << " on " << key.second) {
                BOOST_TEST_REQUIRE(served.count(key) == 1u);
                BOOST_TEST(served.at(key).first == want.first);
                BOOST_TEST(served.at(key).second == want.second);
            }
        }
    }
    return sim;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sched_parity)

BOOST_AUTO_TEST_CASE(sim_and_scheduler_grant_the_same_on_the_same_queue_and_budgets) {
    const GrantMap sim = check_parity(k_scenario, "");
    // Not vacuous: the urgent job got all it asked for, and both tenants
    // got slots.
    std::uint32_t bank = 0, studio = 0, hotfix = 0;
    for (const auto& [key, d] : sim) {
        (key.first == "frames" || key.first == "hotfix" ? studio : bank) += d.first;
        if (key.first == "hotfix") hotfix += d.first;
    }
    BOOST_TEST(hotfix == 3u);
    BOOST_TEST(bank > 0u);
    BOOST_TEST(studio > 0u);
}

BOOST_AUTO_TEST_CASE(sim_and_scheduler_place_tasks_of_two_cores_and_their_memory_alike) {
    const GrantMap sim = check_parity(std::string(k_scenario) + k_wide_jobs, "12G");
    // Not vacuous: the 2-core job ran, at most two of its tasks on a node
    // (5 GiB each of 12, and 2 cores each of 4).
    std::uint32_t pricer = 0;
    for (const auto& [key, d] : sim) {
        if (key.first != "pricer") continue;
        pricer += d.first;
        BOOST_TEST(d.first <= 2u);
    }
    BOOST_TEST(pricer > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
