// The whole agent in one process, in virtual time: fake /proc files, a fake
// meter and a manual clock, tasks registered through the socket's operations
// (no socket), the sampling loop driven one step() at a time. What the
// integration suites check through a real daemon and real time, here in
// milliseconds: the ledger holds every joule measured, a task's reply is the
// ledger's figure, a dead task is dropped, a restart re-adopts its tasks.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include <httplib.h>

#include "core/ledger.hpp"
#include "grid-agent/agent.hpp"
#include "tests/fakes/fake_energy.hpp"
#include "tests/fakes/fake_fs.hpp"
#include "tests/unit/support.hpp"

using namespace hearth;
using hearth::test::FakeEnergySource;
using hearth::test::FakeFs;
using hearth::test::TempDir;

namespace {

// The workers' user: "nobody" exists on every Debian system, and is neither
// root (whose registrations skip the owner check) nor the test's own user.
constexpr uid_t k_worker_uid = 65534;
constexpr int k_pid = 4242;

std::string stat_line(int pid, unsigned long long utime, unsigned long long start = 100) {
    return std::to_string(pid) + " (busy) R 1 " + std::to_string(pid) + " " + std::to_string(pid) +
           " 0 -1 4194304 0 0 0 0 " + std::to_string(utime) + " 0 0 0 20 0 1 0 " +
           std::to_string(start) + " 1000 10\n";
}

std::string proc_stat(unsigned long long busy, unsigned long long idle) {
    return "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) +
           " 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n";
}

struct World {
    TempDir dir;
    std::shared_ptr<FakeFs> fs = std::make_shared<FakeFs>();
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
    FakeEnergySource* meter = nullptr;  // owned by the agent's SourceChoice
    std::uint64_t measured = 0;         // what the meter advanced, in total
    std::uint64_t unsampled = 0;        // used while no agent ran
    unsigned long long busy = 0, idle = 0, task_cpu = 0;
    std::unique_ptr<Agent> agent;

    World() {
        fs->write("/proc/stat", proc_stat(0, 0));
        fs->write("/proc/" + std::to_string(k_pid) + "/stat", stat_line(k_pid, 0));
        fs->write("/proc/" + std::to_string(k_pid) + "/status",
                  "Name:\tbusy\nUid:\t" + std::to_string(k_worker_uid) + "\t65534\t65534\t65534\n");
        start();
    }
    AgentConfig config() const {
        AgentConfig c;
        c.node = "n1";
        c.site = "pool";
        c.ledger = dir.file("ledger.db");
        c.socket = dir.file("agent.sock");  // never bound: no run()
        c.listen = "127.0.0.1:0";
        c.no_auth = true;
        c.idle_watts = 20;
        c.max_watts = 100;
        c.metrics_interval_s = 1;
        c.worker_user = "nobody";
        return c;
    }
    void start() {
        // A meter resumed from the ledger's checkpoint: its first reading is
        // what was used while no agent ran.
        auto source = std::make_unique<FakeEnergySource>();
        meter = source.get();
        meter->total = Microjoules{unsampled};
        unsampled = 0;
        SourceChoice choice;
        choice.source = std::move(source);
        choice.summary = "energy source: fake-meter";
        agent = std::make_unique<Agent>(config(), fs, clock, std::move(choice));
    }
    void pass(std::chrono::milliseconds dt, std::uint64_t uj) {
        clock->advance(dt);
        meter->total += Microjoules{uj};
        measured += uj;
    }
    // Time and energy pass while no agent runs.
    void stopped_for(std::chrono::milliseconds dt, std::uint64_t uj) {
        agent.reset();
        meter = nullptr;
        clock->advance(dt);
        unsampled += uj;
        measured += uj;
    }
    // One 100 ms sample at 30 W; the task uses 6 of the 8 busy ticks.
    void step() {
        pass(std::chrono::milliseconds(100), 3'000'000);
        busy += 8;
        idle += 12;
        task_cpu += 6;
        fs->write("/proc/stat", proc_stat(busy, idle));
        if (fs->exists("/proc/" + std::to_string(k_pid) + "/stat"))
            fs->write("/proc/" + std::to_string(k_pid) + "/stat", stat_line(k_pid, task_cpu));
        agent->step();
    }
    nlohmann::json request(const nlohmann::json& req, uid_t uid = k_worker_uid) {
        return nlohmann::json::parse(agent->handle_request(req.dump(), Agent::Peer{1, uid, uid}));
    }
    nlohmann::json register_task() {
        return request({{"op", "register"},
                        {"tenant", "bank"},
                        {"job", "j1"},
                        {"task", 0},
                        {"attempt", 1},
                        {"pid", k_pid},
                        {"cores", 1}});
    }
    nlohmann::json unregister_attempt() {
        return request(
            {{"op", "unregister"}, {"tenant", "bank"}, {"job", "j1"}, {"task", 0}, {"attempt", 1}});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_inprocess)

BOOST_AUTO_TEST_CASE(a_registered_task_is_charged_and_the_ledger_holds_every_joule) {
    World w;
    auto reg = w.register_task();
    BOOST_TEST_REQUIRE(reg.value("ok", false), reg.dump());
    BOOST_TEST(w.agent->node_json()["tasks"].size() == 1u);
    for (int i = 0; i < 30; ++i) w.step();

    auto node = w.agent->node_json();
    BOOST_TEST(node["tasks"][0]["tenant"] == "bank");
    BOOST_TEST(node["energy_uj"].get<std::uint64_t>() == w.measured);
    // Three seconds at metrics_interval 1: the tenant's counter is shown.
    BOOST_TEST(w.agent->metrics_text().find("tenant=\"bank\"") != std::string::npos);

    auto un = w.unregister_attempt();
    BOOST_TEST_REQUIRE(un.value("ok", false), un.dump());
    const auto task_uj = un["energy_uj"].get<std::uint64_t>();
    BOOST_TEST(!un.contains("from_ledger"));
    BOOST_TEST(w.agent->node_json()["tasks"].empty());

    Ledger ro(w.config().ledger, true);
    BOOST_TEST(ro.total_energy().value == w.measured);
    BOOST_TEST(ro.total_charged().value == w.measured);
    BOOST_TEST(ro.task_energy("j1", 0, 1).value == task_uj);
    // Half the static power (one core of two) and most of the dynamic: more
    // than a third of the node, never all of it.
    BOOST_TEST(task_uj > w.measured / 3);
    BOOST_TEST(task_uj < w.measured);
}

BOOST_AUTO_TEST_CASE(
    the_same_attempt_again_keeps_its_id_and_a_late_unregister_gets_the_ledgers_figure) {
    World w;
    auto first = w.register_task();
    w.step();
    auto again = w.register_task();
    BOOST_TEST(again["id"] == first["id"]);
    for (int i = 0; i < 5; ++i) w.step();
    auto un = w.unregister_attempt();
    auto late = w.unregister_attempt();
    BOOST_TEST(late.value("from_ledger", false));
    BOOST_TEST(late["energy_uj"] == un["energy_uj"]);
}

BOOST_AUTO_TEST_CASE(a_task_whose_process_ended_is_dropped_within_a_second) {
    World w;
    w.register_task();
    for (int i = 0; i < 3; ++i) w.step();
    w.fs->remove("/proc/" + std::to_string(k_pid));
    for (int i = 0; i < 10; ++i) w.step();  // rate 10 Hz: checked once in 10 samples
    BOOST_TEST(w.agent->node_json()["tasks"].empty());
    auto late = w.unregister_attempt();
    BOOST_TEST(late.value("from_ledger", false));
    BOOST_TEST(late["energy_uj"].get<std::uint64_t>() > 0u);
}

BOOST_AUTO_TEST_CASE(only_the_workers_user_registers_and_only_its_own_processes) {
    World w;
    auto stranger = w.request({{"op", "register"},
                               {"tenant", "bank"},
                               {"job", "j1"},
                               {"task", 0},
                               {"attempt", 1},
                               {"pid", k_pid}},
                              1234);
    BOOST_TEST(!stranger.value("ok", true));
    BOOST_TEST(stranger["error"].get<std::string>().find("may not register tasks") !=
               std::string::npos);
    // The worker (pid 1 here) did not start this one: its parent is pid 77.
    w.fs->write(
        "/proc/" + std::to_string(k_pid) + "/stat",
        std::to_string(k_pid) + " (other) S 77 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1 1\n");
    w.fs->write("/proc/77/stat", "77 (sshd) S 0 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 50 1 1\n");
    auto other = w.register_task();
    BOOST_TEST(!other.value("ok", true));
    BOOST_TEST(other["error"].get<std::string>().find(
                   "is not a process of the registering pid 1") != std::string::npos);
    BOOST_TEST(w.agent->node_json()["tasks"].empty());
    // A budget or a ping is anyone's.
    BOOST_TEST(w.request({{"op", "ping"}}, 1234)["node"] == "n1");
    BOOST_TEST(w.request({{"op", "budget"}}, 1234)["heat"] == false);
    w.agent->set_drained(true);
    BOOST_TEST(w.request({{"op", "budget"}}, 1234)["mode"] == "drain");
}

BOOST_AUTO_TEST_CASE(a_restarted_agent_re_adopts_its_tasks_and_charges_the_gap_to_the_house) {
    World w;
    auto id = w.register_task()["id"];
    for (int i = 0; i < 5; ++i) w.step();
    w.stopped_for(std::chrono::seconds(5), 50'000'000);
    w.start();
    auto node = w.agent->node_json();
    BOOST_TEST_REQUIRE(node["tasks"].size() == 1u);
    BOOST_TEST(node["tasks"][0]["id"] == id);
    for (int i = 0; i < 5; ++i) w.step();
    auto un = w.unregister_attempt();
    BOOST_TEST_REQUIRE(un.value("ok", false), un.dump());

    Ledger ro(w.config().ledger, true);
    BOOST_TEST(ro.total_energy().value == w.measured);
    BOOST_TEST(ro.total_charged().value == w.measured);
    // The gap's 50 J went to the house, not to the task.
    BOOST_TEST(un["energy_uj"].get<std::uint64_t>() < w.measured - 50'000'000);
}

BOOST_AUTO_TEST_CASE(the_http_api_serves_the_agents_figures_and_checks_its_routes) {
    World w;
    w.register_task();
    // One second: the ledger, which /v1/energy reads, has the group written
    // then (intervals are written at least once a second).
    for (int i = 0; i < 10; ++i) w.step();
    // A second API on the same agent, on a free loopback port: the routes
    // without the daemon's loop and socket.
    const AgentConfig cfg = w.config();
    HttpApi api(cfg, w.clock, *w.agent);
    api.start();
    httplib::Client c("127.0.0.1", api.port());
    auto health = c.Get("/v1/health");
    BOOST_TEST_REQUIRE(static_cast<bool>(health));
    BOOST_TEST(health->status == 200);
    BOOST_TEST(nlohmann::json::parse(health->body)["node"] == "n1");
    auto node = c.Get("/v1/node");
    BOOST_TEST(nlohmann::json::parse(node->body)["tasks"].size() == 1u);
    auto energy = c.Get("/v1/energy?by=tenant");
    BOOST_TEST(energy->status == 200);
    auto rows = nlohmann::json::parse(energy->body)["rows"];
    std::uint64_t sum = 0;
    for (const auto& r : rows) sum += r["energy_uj"].get<std::uint64_t>();
    BOOST_TEST(sum == w.measured);
    BOOST_TEST(c.Get("/v1/energy?colour=red")->status == 400);
    BOOST_TEST(c.Get("/v1/nowhere")->status == 404);
    BOOST_TEST(c.Post("/v1/node/drain", "{\"drain\": true}", "text/plain")->status == 415);
    BOOST_TEST(c.Post("/v1/node/drain", "{\"drain\": true}", "application/json")->status == 200);
    BOOST_TEST(w.agent->drained());
    BOOST_TEST(c.Get("/metrics")->body.find("hearth_node_tasks{site=\"pool\",node=\"n1\"} 1") !=
               std::string::npos);
    api.stop();
}

BOOST_AUTO_TEST_CASE(intervals_are_written_in_groups_at_least_once_a_second) {
    World w;
    auto written = [&] { return Ledger(w.config().ledger, true).total_energy().value; };
    w.register_task();  // a registration is written before the reply
    const auto at_register = written();
    BOOST_TEST(at_register == w.measured);
    for (int i = 0; i < 5; ++i) w.step();
    BOOST_TEST(written() == at_register);  // half a second collected, not yet written
    BOOST_TEST(w.measured > at_register);
    for (int i = 0; i < 5; ++i) w.step();
    BOOST_TEST(written() == w.measured);  // a second after the last write: all of it
    w.step();
    auto un = w.unregister_attempt();  // written at once: the worker is told the ledger's figure
    BOOST_TEST_REQUIRE(un.value("ok", false), un.dump());
    BOOST_TEST(written() == w.measured);
    BOOST_TEST(Ledger(w.config().ledger, true).task_energy("j1", 0, 1).value ==
               un["energy_uj"].get<std::uint64_t>());
    w.step();
    w.agent.reset();  // a clean end writes the rest
    BOOST_TEST(written() == w.measured);
}

BOOST_AUTO_TEST_SUITE_END()
