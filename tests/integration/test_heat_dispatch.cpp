// Work follows heat, with real programs: a grid-agent reads its site's
// temperature from a grid file's static source, the worker fills only the
// slots the agent's budget allows, a deadline or --urgent opens slots past
// the budget, and a site past its maximum gets its tasks handed back.
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <regex>

#include "harness.hpp"
#include "heat_agent.hpp"

using namespace hearth::test;

namespace {



// A room at 25 C with a 20 C target: too warm, no heat wanted (budget 0).
void write_grid(const fs::path& file, double measured) {
    std::ofstream(file) << "[[site]]\nname = \"lab\"\nkind = \"room\"\ntarget = 20\nmin = 10\nmax = 30\n"
                        << "[site.source]\ntype = \"static\"\nmeasured = " << measured << "\n"
                        << "[[node]]\nname = \"n1\"\nsite = \"lab\"\nhost = \"localhost\"\nslots = 2\n";
}

std::size_t count_events(const fs::path& job, const std::string& e) {
    std::size_t n = 0;
    for (const auto& r : journal(job))
        if (r.value("e", "") == e) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(heat_dispatch)

BOOST_AUTO_TEST_CASE(a_site_that_wants_no_heat_holds_work_until_it_does) {
    TempDir t;
    write_grid(t / "grid.toml", 25);
    HeatAgent agent(t.path, t / "grid.toml");
    BOOST_TEST_REQUIRE(wait_for([&] { return agent.heat().value("mode", "") == "cut"; },
                                std::chrono::seconds(5)));
    BOOST_TEST(agent.heat()["slots_allowed"].get<int>() == 0);
    pid_t job = start_hearth({"run", "--tenant", "studio", "--count", "4", "--job-dir", "j", "--json",
                              "--", "sleep", "0.2"},
                             t.path);
    // While the room is too warm, no task starts.
    BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(t / "j" / "journal"); }, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    BOOST_TEST(count_events(t / "j", "start") == 0u);
    // The facility manager raises the target: the room now wants heat.
    std::string reply = agent.post("target", R"({"target": 28})");
    BOOST_TEST(reply.find("\"mode\"") != std::string::npos, reply);
    BOOST_TEST(wait_exit(job) == 0, slurp(t / ".bg.err"));
    auto s = summary(t / "j");
    BOOST_TEST(s["committed"].get<int>() == 4);
    BOOST_TEST(s["failed"].get<int>() == 0);
    BOOST_TEST(s["heat_override_attempts"].get<int>() == 0);
}

BOOST_AUTO_TEST_CASE(a_deadline_opens_slots_past_the_budget_and_reports_it) {
    TempDir t;
    write_grid(t / "grid.toml", 25);
    HeatAgent agent(t.path, t / "grid.toml");
    BOOST_TEST_REQUIRE(wait_for([&] { return agent.heat().value("mode", "") == "cut"; },
                                std::chrono::seconds(5)));
    auto r = run_hearth({"run", "--tenant", "bank", "--count", "4", "--deadline", "60s", "--job-dir",
                         "j", "--", "sleep", "0.2"},
                        t.path);
    BOOST_TEST(r.code == 0, r.err);
    auto s = summary(t / "j");
    BOOST_TEST(s["committed"].get<int>() == 4);
    BOOST_TEST(s["heat_override_attempts"].get<int>() == 4);
    BOOST_TEST(r.err.find("heat budgets overridden") != std::string::npos, r.err);
    for (const auto& rec : journal(t / "j"))
        if (rec.value("e", "") == "done") BOOST_TEST(rec.value("ovr", false));
}

BOOST_AUTO_TEST_CASE(urgent_work_ignores_the_budget) {
    TempDir t;
    write_grid(t / "grid.toml", 25);
    HeatAgent agent(t.path, t / "grid.toml");
    BOOST_TEST_REQUIRE(wait_for([&] { return agent.heat().value("mode", "") == "cut"; },
                                std::chrono::seconds(5)));
    auto r = run_hearth({"run", "--tenant", "bank", "--count", "3", "--urgent", "--job-dir", "j", "--",
                         "true"},
                        t.path);
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(summary(t / "j")["committed"].get<int>() == 3);
}

BOOST_AUTO_TEST_CASE(a_site_past_its_maximum_gets_its_tasks_handed_back_not_failed) {
    TempDir t;
    write_grid(t / "grid.toml", 15);  // cold: open
    HeatAgent agent(t.path, t / "grid.toml");
    BOOST_TEST_REQUIRE(wait_for([&] { return agent.heat().value("mode", "") == "open"; },
                                std::chrono::seconds(5)));
    pid_t job = start_hearth({"run", "--tenant", "studio", "--count", "2", "--retries", "0",
                              "--job-dir", "j", "--json", "--", "sleep", "4"},
                             t.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return fs::exists(t / "j" / "journal") && count_events(t / "j", "start") == 2; },
                                std::chrono::seconds(15)));
    // The room overheats past its 30 C maximum: stop, hand back.
    agent.post("measured", R"({"measured": 31})");
    BOOST_TEST(wait_for([&] { return agent.heat().value("mode", "") == "stop"; }, std::chrono::seconds(5)));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    BOOST_TEST(count_events(t / "j", "done") == 0u);
    BOOST_TEST(count_events(t / "j", "fail") == 0u);  // a requeue, not a failure
    // It cools down: the tasks run again and the job completes, with --retries 0.
    agent.post("measured", R"({"measured": 15})");
    BOOST_TEST(wait_exit(job) == 0, slurp(t / ".bg.err"));
    auto s = summary(t / "j");
    BOOST_TEST(s["committed"].get<int>() == 2);
    BOOST_TEST(s["failed"].get<int>() == 0);
}

BOOST_AUTO_TEST_CASE(out_of_bounds_targets_are_refused_and_nothing_changes) {
    TempDir t;
    write_grid(t / "grid.toml", 25);
    HeatAgent agent(t.path, t / "grid.toml");
    for (const char* body : {R"({"target": 200})", R"({"target": "NaN"})", R"({"target": 1e309})",
                             R"({"nope": 1})", "not json", R"([20])"}) {
        BOOST_TEST_CONTEXT(body) {
            std::string code = sh_out("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -X POST -d " + quote(body) +
                                      " " + quote(agent.url() + "/v1/heat/target"));
            BOOST_TEST(code == "400");
        }
    }
    std::string err = agent.post("target", R"({"target": 200})");
    BOOST_TEST(err.find("outside its safety bounds 10-30 C") != std::string::npos, err);
    BOOST_TEST(agent.heat()["target"].get<double>() == 20.0);
    BOOST_TEST(agent.post("schedule", R"({"schedule": "daily 00:00-24:00 at 99; otherwise 20"})")
                   .find("error") != std::string::npos);
    BOOST_TEST(agent.heat()["schedule"].get<std::string>().empty());
}

BOOST_AUTO_TEST_CASE(nodes_lists_each_node_as_its_agent_sees_it) {
    TempDir t;
    write_grid(t / "grid.toml", 25);
    HeatAgent agent(t.path, t / "grid.toml");
    BOOST_TEST_REQUIRE(wait_for([&] { return agent.heat().value("mode", "") == "cut"; },
                                std::chrono::seconds(5)));
    // The same grid as a facility manager's copy, with the agents' addresses;
    // n2's agent does not exist.
    std::ofstream(t / "view.toml")
        << "[[site]]\nname = \"lab\"\nkind = \"room\"\ntarget = 20\nmin = 10\nmax = 30\n"
        << "[[node]]\nname = \"n1\"\nsite = \"lab\"\nslots = 2\nagent = \"" << agent.url() << "\"\n"
        << "[[node]]\nname = \"n2\"\nsite = \"lab\"\nslots = 2\nagent = \"http://127.0.0.1:9\"\n";
    auto r = run_hearth({"nodes", "--grid", "view.toml", "--json"}, t.path);
    BOOST_TEST(r.code == 0, r.err);
    auto j = nlohmann::json::parse(r.out);
    BOOST_TEST_REQUIRE(j["nodes"].size() == 2u);
    BOOST_TEST(j["nodes"][0]["state"] == "up");
    BOOST_TEST(j["nodes"][0]["mode"] == "cut");
    BOOST_TEST(j["nodes"][0]["slots_allowed"].get<int>() == 0);
    BOOST_TEST(j["nodes"][1]["state"] == "unreachable");
    auto table = run_hearth({"nodes", "--grid", "view.toml"}, t.path);
    BOOST_TEST(table.out.find("unreachable") != std::string::npos, table.out);
    auto none = run_hearth({"nodes", "--agent", "http://127.0.0.1:9"}, t.path);
    BOOST_TEST(none.code == 3);
    auto bad = run_hearth({"nodes"}, t.path);
    BOOST_TEST(bad.code == 2);
    BOOST_TEST(bad.err.find("--grid") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_CASE(a_task_whose_process_died_unregistered_is_dropped) {
    // A worker killed with its tasks (a relaunch after a lost host) never
    // unregisters them: the agent must stop charging them.
    TempDir t;
    write_grid(t / "grid.toml", 15);
    HeatAgent agent(t.path, t / "grid.toml");
    pid_t child = -1;
    std::vector<char*> argv = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
    BOOST_TEST_REQUIRE(::posix_spawnp(&child, "sleep", nullptr, nullptr, argv.data(), environ) == 0);
    // Registered by this process, the sleep's parent (the agent accepts only
    // a registering process's own tasks).
    std::string reg =
        agent_socket_line(agent.socket,
                          "{\"op\":\"register\",\"tenant\":\"t\",\"job\":\"j\",\"task\":0,"
                          "\"attempt\":1,\"pid\":" +
                              std::to_string(child) + ",\"cores\":1}");
    BOOST_TEST_REQUIRE(reg.find("\"ok\":true") != std::string::npos, reg);
    auto tasks = [&] {
        return nlohmann::json::parse(sh_out("curl -s " + quote(agent.url() + "/v1/node")))["tasks"].size();
    };
    BOOST_TEST(tasks() == 1u);
    ::kill(child, SIGKILL);
    wait_exit(child);
    BOOST_TEST(wait_for([&] { return tasks() == 0u; }, std::chrono::seconds(10)));
    BOOST_TEST(slurp(t / "agent.log").find("ended without being unregistered") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
