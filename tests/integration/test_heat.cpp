// hearth heat against real grid-agents on loopback: three agents heating two
// sites of one grid file (a static-source tank with two nodes, a sim-tank
// pool with one), each on a fake powercap tree. What an agent holds is read
// back over its own HTTP API, never from hearth's output.
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <ctime>
#include <regex>

#include "harness.hpp"

using namespace hearth::test;

namespace {



nlohmann::json http_json(const std::string& url) {
    std::string out = sh_out("curl -s --noproxy '*' --max-time 5 " + quote(url));
    return out.empty() ? nlohmann::json() : nlohmann::json::parse(out);
}

// A port nothing listens on: bound and closed again (the kernel does not
// hand it out again at once).
int dead_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::int64_t now_s() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// A RAPL package zone that does not move: the agents need an energy
// counter, the heat API does not need it to advance.
void fake_powercap(const fs::path& root) {
    fs::path zone = root / "sys/class/powercap/intel-rapl:0";
    fs::create_directories(zone);
    std::ofstream(zone / "name") << "package-0\n";
    std::ofstream(zone / "max_energy_range_uj") << 50'000'000 << "\n";
    std::ofstream(zone / "constraint_0_max_power_uw") << 200'000'000 << "\n";
    std::ofstream(zone / "energy_uj") << 1'000'000 << "\n";
    fs::create_directory_symlink("/proc", root / "proc");
}

// The grid file; dhw_max lets one agent hold tighter bounds than hearth's copy.
std::string grid_text(const std::map<std::string, std::string>& urls, int dhw_max = 70) {
    std::string g = R"(
[[site]]
name = "dhw"
kind = "tank"
target = 60
min = 55
max = )" + std::to_string(dhw_max) +
                    R"(
band = 1
[site.source]
type = "static"
measured = 58

[[site]]
name = "pool"
kind = "tank"
target = 30
min = 24
max = 32
[site.source]
type = "sim-tank"
[site.thermal]
volume_litres = 300
initial = 27
)";
    for (const auto& [node, site] :
         std::map<std::string, std::string>{{"n1", "dhw"}, {"n2", "dhw"}, {"n3", "pool"}})
        g += "\n[[node]]\nname = \"" + node + "\"\nsite = \"" + site + "\"\nslots = 2\nagent = \"" +
             urls.at(node) + "\"\n";
    return g;
}

struct Agent {
    pid_t pid = -1;
    int port = 0;
    std::string name;
    Agent(const std::string& node, const fs::path& dir, const fs::path& fsroot,
          const fs::path& grid)
        : name(node) {
        fs::create_directories(dir);
        std::string log = (dir / "agent.log").string();
        std::string cmd = "exec " + quote(agent_bin()) + " --node " + node +
                          " --listen 127.0.0.1:0 --no-auth --socket " + quote((dir / "agent.sock").string()) +
                          " --ledger " + quote((dir / "ledger.db").string()) + " --fsroot " +
                          quote(fsroot.string()) + " --grid " + quote(grid.string()) +
                          " --throttle slots --control 0.2 --rate 10 --idle-watts 10 2>>" +
                          quote(log);
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        std::regex re("http 127\\.0\\.0\\.1:([0-9]+)");
        wait_for(
            [&] {
                std::smatch m;
                std::string text = slurp(log);
                if (std::regex_search(text, m, re)) port = std::stoi(m[1]);
                return port > 0;
            },
            std::chrono::seconds(10));
    }
    ~Agent() { stop(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
    nlohmann::json heat() const { return http_json(url() + "/v1/heat"); }
    void stop() {
        if (pid <= 0) return;
        ::kill(pid, SIGKILL);
        wait_exit(pid);
        pid = -1;
    }
};

// Three agents and hearth's grid file naming them. n2 may read a grid file
// whose dhw bounds are tighter than the one hearth reads.
struct Grid {
    TempDir t;
    std::vector<std::unique_ptr<Agent>> agents;
    fs::path file;
    explicit Grid(int n2_dhw_max = 70) {
        fake_powercap(t / "root");
        // The agents take only their own site and slots from the file; the
        // agent URLs in it are for hearth, written once the ports are known.
        std::map<std::string, std::string> none{{"n1", "http://127.0.0.1:1"},
                                                {"n2", "http://127.0.0.1:1"},
                                                {"n3", "http://127.0.0.1:1"}};
        std::ofstream(t / "agents.toml") << grid_text(none);
        std::ofstream(t / "agents-n2.toml") << grid_text(none, n2_dhw_max);
        for (const char* n : {"n1", "n2", "n3"})
            agents.push_back(std::make_unique<Agent>(
                n, t / n, t / "root",
                std::string(n) == "n2" ? t / "agents-n2.toml" : t / "agents.toml"));
        std::map<std::string, std::string> urls;
        for (const auto& a : agents) urls[a->name] = a->url();
        file = t / "grid.toml";
        std::ofstream(file) << grid_text(urls);
    }
    bool up() const {
        for (const auto& a : agents)
            if (a->port <= 0) return false;
        // Wait until every agent's first control step has read its source.
        return wait_for(
            [&] {
                for (const auto& a : agents)
                    if (!a->heat().value("measured", nlohmann::json()).is_number()) return false;
                return true;
            },
            std::chrono::seconds(10));
    }
    Agent& n(int i) const { return *agents.at(i - 1); }
    Result hearth(std::vector<std::string> args) const {
        args.insert(args.begin(), "heat");
        return run_hearth(args, t.path);
    }
    // What every agent holds that a facility manager can change.
    std::string settings() const {
        std::string s;
        for (const auto& a : agents) {
            auto h = a->heat();
            s += a->name + " " + h["target"].dump() + " " + h["target_until_unix"].dump() + " " +
                 h["schedule"].dump() + " " + h.value("override", nlohmann::json()).dump() + "\n";
        }
        return s;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(heat)

BOOST_AUTO_TEST_CASE(show_lists_every_site_with_target_measured_mode_and_alarm) {
    Grid g;
    BOOST_REQUIRE(g.up());
    Result r = g.hearth({"show", "--grid", g.file.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    std::stringstream ss(r.out);
    std::string header, dhw, pool, extra;
    std::getline(ss, header);
    std::getline(ss, dhw);
    std::getline(ss, pool);
    BOOST_TEST(!std::getline(ss, extra), "one line per site: " << r.out);
    BOOST_TEST(
        std::regex_search(header, std::regex("^SITE +TARGET +MEASURED +MODE +POWER\\(W\\) +"
                                             "TODAY\\(kWh\\) +MONTH\\(kWh\\) +USEFUL% +ALARM$")),
        header);
    // dhw: target 60, the static source's 58, below the band: open.
    BOOST_TEST(std::regex_search(dhw, std::regex("^dhw +60\\.0 +58\\.0 +open ")), dhw);
    BOOST_TEST(std::regex_search(pool, std::regex("^pool +30\\.0 +[0-9]+\\.[0-9] +[a-z]+ ")), pool);

    r = g.hearth({"show", "--grid", g.file.string(), "--json"});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    auto j = nlohmann::json::parse(r.out);
    BOOST_TEST(j["agents"].get<int>() == 3);
    BOOST_TEST(j["answered"].get<int>() == 3);
    BOOST_REQUIRE_EQUAL(j["sites"].size(), 2u);
    auto d = j["sites"][0], p = j["sites"][1];
    BOOST_TEST(d["site"] == "dhw");
    BOOST_TEST(d["target"].get<double>() == 60.0);
    BOOST_TEST(d["measured"].get<double>() == 58.0);
    BOOST_TEST(d["mode"] == "open");
    BOOST_TEST(d["source"] == "static");
    BOOST_TEST(d["nodes"].size() == 2u);
    BOOST_TEST(d["alarms"].empty(), d["alarms"].dump());
    BOOST_TEST(p["site"] == "pool");
    BOOST_TEST(p["target"].get<double>() == 30.0);
    BOOST_TEST(p["source"] == "sim-tank");
    BOOST_TEST(p["measured"].is_number());
    BOOST_TEST(p["nodes"].size() == 1u);
    for (const auto& s : j["sites"]) {
        BOOST_TEST(s["alarms"].is_array());
        for (const char* k :
             {"power_w", "today_kwh", "today_useful_kwh", "month_kwh", "month_useful_kwh"})
            BOOST_TEST(s[k].is_number(), k);
        BOOST_TEST(s["mode"].is_string());
    }

    // --agent alone: the sites come from what the agents say.
    r = g.hearth({"show", "--agent", g.n(3).url(), "--json"});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    j = nlohmann::json::parse(r.out);
    BOOST_REQUIRE_EQUAL(j["sites"].size(), 1u);
    BOOST_TEST(j["sites"][0]["site"] == "pool");
}

BOOST_AUTO_TEST_CASE(set_within_bounds_changes_the_target_of_every_agent_of_the_site) {
    Grid g;
    BOOST_REQUIRE(g.up());
    Result r = g.hearth({"set", "dhw", "62.5", "--grid", g.file.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("n1, n2") != std::string::npos, r.out);
    BOOST_TEST(g.n(1).heat()["target"].get<double>() == 62.5);
    BOOST_TEST(g.n(2).heat()["target"].get<double>() == 62.5);
    BOOST_TEST(g.n(1).heat()["target_until_unix"].is_null());
    BOOST_TEST(g.n(3).heat()["target"].get<double>() == 30.0);  // another site: untouched

    r = g.hearth({"show", "--grid", g.file.string(), "--json"});
    BOOST_REQUIRE_EQUAL(r.code, 0);
    BOOST_TEST(nlohmann::json::parse(r.out)["sites"][0]["target"].get<double>() == 62.5);
}

BOOST_AUTO_TEST_CASE(bad_values_exit_2_with_one_line_and_change_nothing) {
    Grid g;
    BOOST_REQUIRE(g.up());
    const std::string before = g.settings();
    const std::string f = g.file.string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"set", "dhw", "200", "--grid", f}, "outside its safety bounds 55-70"},
        {{"set", "dhw", "54", "--grid", f}, "outside its safety bounds"},
        {{"set", "dhw", "NaN", "--grid", f}, "not a temperature"},
        {{"set", "dhw", "1e309", "--grid", f}, "not a temperature"},
        {{"set", "dhw", "warm", "--grid", f}, "not a number"},
        {{"set", "dhw", "0x3c", "--grid", f}, "not a number"},
        {{"set", "sauna", "60", "--grid", f}, "site 'sauna' is not in"},
        {{"set", "dhw", "62", "--until", "tomorrow", "--grid", f}, "bad --until 'tomorrow'"},
        {{"set", "dhw", "62", "--until", "2000-01-01T00:00:00Z", "--grid", f}, "in the past"},
        {{"schedule", "dhw", "weekdays 06:00-22:00 at 90; otherwise 60", "--grid", f},
         "outside its safety bounds"},
        {{"schedule", "dhw", "sometimes at 60", "--grid", f}, "site 'dhw'"},
        {{"schedule", "dhw", "weekdays 06:00-22:00 at 60", "--grid", f}, "otherwise"},
        {{"schedule", "sauna", "none", "--grid", f}, "site 'sauna' is not in"},
        {{"measured", "pool", "25", "--grid", f}, "static source"},
        {{"measured", "dhw", "nan", "--grid", f}, "not plausible"},
        {{"set", "dhw", "62"}, "--grid"},
    };
    for (const auto& [args, needle] : cases) {
        Result r = g.hearth(args);
        std::string what = args[0] + " " + args[1] + " " + args[2];
        BOOST_TEST(r.code == 2, what << ": " << r.err);
        BOOST_TEST(count_lines(r.err) == 1u, what << ": " << r.err);
        BOOST_TEST(r.err.find(needle) != std::string::npos, what << ": " << r.err);
        BOOST_TEST(r.out.empty(), what << ": " << r.out);
    }
    BOOST_TEST(g.settings() == before);
}

BOOST_AUTO_TEST_CASE(set_until_a_duration_or_a_utc_time) {
    Grid g;
    BOOST_REQUIRE(g.up());
    const std::int64_t t0 = now_s();
    Result r = g.hearth({"set", "dhw", "63", "--until", "2h", "--grid", g.file.string()});
    const std::int64_t t1 = now_s();
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    for (int i : {1, 2}) {
        auto h = g.n(i).heat();
        BOOST_TEST(h["target"].get<double>() == 63.0);
        std::int64_t until = h["target_until_unix"].get<std::int64_t>();
        BOOST_TEST(until >= t0 + 7200);
        BOOST_TEST(until <= t1 + 7201);
        BOOST_TEST(h["base_target"].get<double>() == 60.0);
    }
    r = g.hearth(
        {"set", "dhw", "57", "--until", "2099-01-01T00:00:00Z", "--grid", g.file.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("until 2099-01-01T00:00:00Z") != std::string::npos, r.out);
    for (int i : {1, 2}) {
        auto h = g.n(i).heat();
        BOOST_TEST(h["target"].get<double>() == 57.0);
        BOOST_TEST(h["target_until_unix"].get<std::int64_t>() == 4070908800);
    }
}

BOOST_AUTO_TEST_CASE(schedule_is_applied_to_every_agent_of_the_site_and_none_clears_it) {
    Grid g;
    BOOST_REQUIRE(g.up());
    BOOST_REQUIRE_EQUAL(g.hearth({"set", "dhw", "66", "--grid", g.file.string()}).code, 0);
    Result r = g.hearth(
        {"schedule", "dhw", "daily 00:00-24:00 at 62; otherwise 58", "--grid", g.file.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    std::string sched = g.n(1).heat()["schedule"];
    BOOST_TEST(!sched.empty());
    for (int i : {1, 2}) {
        auto h = g.n(i).heat();
        BOOST_TEST(h["schedule"] == sched);
        // The schedule replaces the target set by hand: all day at 62.
        BOOST_TEST(h["target"].get<double>() == 62.0);
    }
    BOOST_TEST(g.n(3).heat()["schedule"] == "");

    r = g.hearth({"schedule", "dhw", "none", "--grid", g.file.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("schedule cleared") != std::string::npos, r.out);
    for (int i : {1, 2}) {
        BOOST_TEST(g.n(i).heat()["schedule"] == "");
        BOOST_TEST(g.n(i).heat()["target"].get<double>() == 60.0);
    }
}

BOOST_AUTO_TEST_CASE(measured_reaches_every_agent_of_a_static_site) {
    Grid g;
    BOOST_REQUIRE(g.up());
    Result r = g.hearth({"measured", "dhw", "61.5", "--grid", g.file.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    for (int i : {1, 2})
        BOOST_TEST(
            wait_for([&] { return g.n(i).heat()["measured"] == 61.5; }, std::chrono::seconds(10)),
            g.n(i).heat().dump());
}

BOOST_AUTO_TEST_CASE(an_unreachable_agent_fails_set_with_exit_3_and_applies_nothing) {
    Grid g;
    BOOST_REQUIRE(g.up());
    const std::string n2_url = g.n(2).url();
    g.n(2).stop();
    Result r = g.hearth({"set", "dhw", "64", "--grid", g.file.string()});
    BOOST_TEST(r.code == 3, r.err);
    BOOST_TEST(count_lines(r.err) == 1u, r.err);
    BOOST_TEST(r.err.find("node n2") != std::string::npos, r.err);
    BOOST_TEST(r.err.find(n2_url) != std::string::npos, r.err);
    BOOST_TEST(r.err.find("nothing was changed") != std::string::npos, r.err);
    BOOST_TEST(g.n(1).heat()["target"].get<double>() == 60.0);
    r = g.hearth({"schedule", "dhw", "otherwise 58", "--grid", g.file.string()});
    BOOST_TEST(r.code == 3, r.err);
    BOOST_TEST(g.n(1).heat()["schedule"] == "");

    // show still answers, with the dead agent as an alarm of its site.
    r = g.hearth({"show", "--grid", g.file.string()});
    BOOST_TEST(r.code == 0, r.err);
    std::regex dhw_row("\ndhw +60\\.0 +58\\.0 +open .*unreachable: n2 \\(" + n2_url + "\\)");
    BOOST_TEST(std::regex_search(r.out, dhw_row), r.out);
    r = g.hearth({"show", "--grid", g.file.string(), "--json"});
    BOOST_REQUIRE_EQUAL(r.code, 0);
    auto j = nlohmann::json::parse(r.out);
    BOOST_TEST(j["answered"].get<int>() == 2);
    BOOST_TEST(j["sites"][0]["alarms"].size() == 1u);
    BOOST_TEST(j["sites"][1]["alarms"].empty());

    // No agent at all: exit 3, the table still printed.
    std::map<std::string, std::string> dead;
    for (const char* n : {"n1", "n2", "n3"})
        dead[n] = "http://127.0.0.1:" + std::to_string(dead_port());
    std::ofstream(g.t / "dead.toml") << grid_text(dead);
    r = g.hearth({"show", "--grid", (g.t / "dead.toml").string()});
    BOOST_TEST(r.code == 3, r.err);
    BOOST_TEST(r.out.find("unreachable: n3") != std::string::npos, r.out);
    BOOST_TEST(r.err.find("none of the 3 grid-agents answered") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(a_later_agent_refusing_rolls_back_the_earlier_ones) {
    // n2 reads a grid file where dhw's maximum is 62: it refuses 65, which
    // hearth's own copy (max 70) allows and n1 has already taken.
    Grid g(62);
    BOOST_REQUIRE(g.up());
    Result r = g.hearth({"set", "dhw", "65", "--grid", g.file.string()});
    BOOST_TEST(r.code == 2, r.err);
    BOOST_TEST(r.err.find("node n2") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("undone on n1") != std::string::npos, r.err);
    auto h1 = g.n(1).heat();
    BOOST_TEST(h1["target"].get<double>() == 60.0);
    BOOST_TEST(h1["target_until_unix"].is_null());
    BOOST_TEST(!h1.contains("override"), h1.dump());

    // A target set by hand with an end is put back as it was, end included.
    r = g.hearth({"set", "dhw", "61", "--until", "2099-01-01", "--grid", g.file.string()});
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string before = g.settings();
    r = g.hearth({"set", "dhw", "65", "--grid", g.file.string()});
    BOOST_TEST(r.code == 2, r.err);
    BOOST_TEST(g.settings() == before);

    // A schedule n2 refuses: n1 gets its old schedule and hand-set target back.
    r = g.hearth(
        {"schedule", "dhw", "daily 06:00-22:00 at 66; otherwise 60", "--grid", g.file.string()});
    BOOST_TEST(r.code == 2, r.err);
    BOOST_TEST(g.settings() == before);
}

BOOST_AUTO_TEST_SUITE_END()
