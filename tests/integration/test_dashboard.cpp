// The web dashboard (issue 8): two real grid-agents with tokens, of two
// sites, and `hearth dashboard` over both. dashboard_api checks the
// dashboard's API with curl; dashboard_browser drives the page in Debian's
// chromium (tests/browser/dashboard.mjs, playwright-core) and skips, saying
// why, where chromium or playwright-core is not installed.
#include <sys/socket.h>
#include <sys/un.h>

#include <boost/test/unit_test.hpp>
#include <ctime>
#include <regex>

#include "harness.hpp"

using namespace hearth::test;
using nlohmann::json;

namespace {

// The agents' grid: a small tank and a small room, simulated, so their
// temperatures move while the test runs. agents: the nodes' agent URLs,
// known once the agents listen (the agents themselves do not need them).
std::string grid_text(const std::string& tank_agent = "", const std::string& room_agent = "") {
    auto agent = [](const std::string& url) { return url.empty() ? "" : "agent = \"" + url + "\"\n"; };
    return R"([[site]]
name = "tank"
kind = "tank"
target = 60
min = 50
max = 70
band = 1.0
[site.source]
type = "sim-tank"
[site.thermal]
volume_litres = 2
loss_w_per_k = 3.0
ambient = 15
initial = 57

[[site]]
name = "room"
kind = "room"
target = 21
min = 15
max = 26
band = 0.5
[site.source]
type = "sim-room"
[site.thermal]
capacity_j_per_k = 2e5
resistance_k_per_w = 0.05
outside = 5
initial = 19

[[node]]
name = "n1"
site = "tank"
slots = 2
idle_watts = 20
max_watts = 100
)" + agent(tank_agent) +
           R"(
[[node]]
name = "r1"
site = "room"
slots = 2
idle_watts = 20
max_watts = 100
)" + agent(room_agent);
}

// A grid-agent with a tokens file, a point of history every second.
struct Agent {
    pid_t pid = -1;
    int port = 0;
    fs::path dir;
    std::string socket;
    Agent(const fs::path& d, const std::string& node, const fs::path& grid, const fs::path& tokens)
        : dir(d) {
        fs::create_directories(d);
        socket = (d / "agent.sock").string();
        std::string cmd = "exec " + quote(agent_bin()) + " --node " + node + " --grid " +
                          quote(grid.string()) +
                          " --energy model --throttle slots --control 0.2 --history-step 1"
                          " --listen 127.0.0.1:0 --tokens " +
                          quote(tokens.string()) + " --socket " + quote(socket) + " --ledger " +
                          quote((d / "ledger.db").string()) + " 2>>" +
                          quote((d / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        std::regex re("http 127\\.0\\.0\\.1:([0-9]+)");
        wait_for(
            [&] {
                std::smatch m;
                std::string log = slurp(d / "agent.log");
                if (std::regex_search(log, m, re)) port = std::stoi(m[1]);
                return port > 0 && fs::exists(socket);
            },
            std::chrono::seconds(15));
    }
    ~Agent() { stop(); }
    void stop() {
        if (pid <= 0) return;
        ::kill(pid, SIGTERM);
        wait_exit(pid);
        pid = -1;
    }
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
    std::string log() const { return slurp(dir / "agent.log"); }
};

struct Reply {
    int status = 0;
    json body;
    std::string text;
};

// curl with a bearer token ("" sends none); POST when body is given.
Reply call(const std::string& url, const std::string& token, const std::string& body = "") {
    std::string cmd = "curl -s --max-time 20 -w '\\n%{http_code}'";
    if (!token.empty()) cmd += " -H " + quote("Authorization: Bearer " + token);
    if (!body.empty()) cmd += " -H 'Content-Type: application/json' -X POST -d " + quote(body);
    std::string out = sh_out(cmd + " " + quote(url));
    Reply r;
    auto nl = out.rfind('\n');
    if (nl == std::string::npos) return r;
    r.status = std::atoi(out.c_str() + nl + 1);
    r.text = out.substr(0, nl);
    r.body = json::parse(r.text, nullptr, false);
    return r;
}

// Registers a task of tenant `tenant` on the agent over its socket, lets it
// be charged for a while and unregisters it: the tenant then has energy.
bool charge_a_task(const Agent& a, const std::string& tenant, const std::string& job) {
    pid_t task = -1;
    std::vector<char*> argv = {const_cast<char*>("/bin/sleep"), const_cast<char*>("30"), nullptr};
    if (::posix_spawn(&task, "/bin/sleep", nullptr, nullptr, argv.data(), environ) != 0) return false;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, a.socket.c_str(), sizeof addr.sun_path - 1);
    auto ask = [&](const json& req) {
        std::string line = req.dump() + "\n";
        if (::write(fd, line.data(), line.size()) < 0) return json();
        std::string got;
        char c;
        while (::read(fd, &c, 1) == 1 && c != '\n') got += c;
        return json::parse(got, nullptr, false);
    };
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        json r = ask({{"op", "register"}, {"tenant", tenant}, {"job", job}, {"task", 0},
                      {"attempt", 1}, {"pid", task}, {"cores", 1}});
        if (r.is_object() && r.value("ok", false)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            json u = ask({{"op", "unregister"}, {"id", r["id"]}, {"cpu_s", 1.0}});
            ok = u.is_object() && u.value("ok", false);
        }
    }
    ::close(fd);
    ::kill(task, SIGKILL);
    wait_exit(task);
    return ok;
}

std::string new_token(const fs::path& tokens, const std::string& role, const fs::path& cwd,
                      const std::string& sites = "") {
    std::vector<std::string> args = {
        "token",    "new",           "--role",  role,
        "--tokens", tokens.string(), "--label", "dashboard test " + role};
    if (!sites.empty()) args.insert(args.end(), {"--sites", sites});
    Result r = run_hearth(args, cwd);
    std::smatch m;
    static const std::regex re("hearth(_|~[A-Za-z0-9._-]+~)[0-9a-f]{64}");
    return r.code == 0 && std::regex_search(r.out, m, re) ? m.str() : "";
}

// Two agents of two sites with tokens, a tenant with energy on the tank
// node, history on both, and `hearth dashboard` over them.
struct Grid {
    TempDir t;
    std::string facility, tenant, operator_;
    std::string facility_tank;  // a facility token for site tank's agents only
    std::unique_ptr<Agent> tank, room;
    pid_t dash = -1;
    int dash_port = 0;

    Grid() {
        fs::path tokens = t / "tokens";
        facility = new_token(tokens, "facility", t.path);
        tenant = new_token(tokens, "tenant:bank", t.path);
        operator_ = new_token(tokens, "operator", t.path);
        facility_tank = new_token(tokens, "facility", t.path, "tank");
        BOOST_TEST_REQUIRE((!facility.empty() && !tenant.empty() && !operator_.empty()),
                           "hearth token new failed: " << slurp(t / ".err"));
        {
            std::ofstream(t / "agents.toml") << grid_text();
        }
        tank = std::make_unique<Agent>(t / "n1", "n1", t / "agents.toml", tokens);
        room = std::make_unique<Agent>(t / "r1", "r1", t / "agents.toml", tokens);
        BOOST_TEST_REQUIRE(tank->port > 0, "grid-agent n1 did not start: " << tank->log());
        BOOST_TEST_REQUIRE(room->port > 0, "grid-agent r1 did not start: " << room->log());
        std::ofstream(t / "grid.toml") << grid_text(tank->url(), room->url());

        BOOST_TEST_REQUIRE(charge_a_task(*tank, "bank", "risk"),
                           "could not register a task with n1: " << tank->log());
        bool charged = wait_for(
            [&] {
                Reply r = call(tank->url() + "/v1/energy?by=job", tenant);
                return r.status == 200 && r.text.find("\"risk\"") != std::string::npos;
            },
            std::chrono::seconds(15));
        BOOST_TEST_REQUIRE(charged, "the tenant's task was not charged: " << tank->log());
        for (Agent* a : {tank.get(), room.get()}) {
            bool history = wait_for(
                [&] {
                    Reply r = call(a->url() + "/v1/history", facility);
                    return r.status == 200 && r.body.is_object() && r.body["points"].size() >= 2;
                },
                std::chrono::seconds(30));
            BOOST_TEST_REQUIRE(history, "no history points from " << a->url() << ": " << a->log());
        }

        dash = start_hearth({"dashboard", "--grid", (t / "grid.toml").string(), "--listen",
                             "127.0.0.1:0", "--timeout-ms", "3000"},
                            t.path);
        std::regex re("http://127\\.0\\.0\\.1:([0-9]+)/");
        wait_for(
            [&] {
                std::smatch m;
                std::string log = slurp(t / ".bg.err");
                if (std::regex_search(log, m, re)) dash_port = std::stoi(m[1]);
                return dash_port > 0;
            },
            std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(dash_port > 0, "hearth dashboard did not start: " << slurp(t / ".bg.err"));
    }
    ~Grid() {
        if (dash > 0) {
            ::kill(dash, SIGTERM);
            wait_exit(dash);
        }
    }
    std::string dash_url() const { return "http://127.0.0.1:" + std::to_string(dash_port); }
};

constexpr int k_week_points = 10020;  // seed_week's

fs::path browser_dir() { return fs::path(repo_root()) / "tests" / "browser"; }

boost::test_tools::assertion_result browser_possible(boost::unit_test::test_unit_id) {
    std::string why;
    if (!fs::exists("/usr/bin/chromium"))
        why = "/usr/bin/chromium is not installed (tools/install-deps.sh installs it)";
    else if (!fs::exists(browser_dir() / "node_modules" / "playwright-core" / "package.json"))
        why = "tests/browser/node_modules/playwright-core is missing (make test runs npm ci for it)";
    else if (sh_out("command -v node").empty())
        why = "node is not installed";
    boost::test_tools::assertion_result r(why.empty());
    if (!why.empty()) r.message() << "no browser test: " << why;
    return r;
}

fs::path artifacts() { return fs::path(hearth_bin()).parent_path().parent_path() / "test-artifacts"; }

// Runs dashboard.mjs against url; returns its exit code, its output in *out.
int run_browser(const std::string& url, int sites, const std::string& heat_urls,
                const std::string& shot, const Grid& g, std::string* out) {
    std::string env =
        "HEARTH_DASH_URL=" + quote(url) + " HEARTH_DASH_SITES=" + std::to_string(sites) +
        " HEARTH_DASH_SITE=tank HEARTH_DASH_HEAT_URLS=" + quote(heat_urls) +
        " HEARTH_DASH_TARGET=62.5 HEARTH_DASH_JOB=risk" +
        " HEARTH_DASH_WEEK_MIN=" + std::to_string(k_week_points) +
        " HEARTH_DASH_TRY=" + quote("daily 6:00-22:00 at 63; otherwise 58") +
        " HEARTH_DASH_TRY_CANON=" + quote("daily 06:00-22:00 at 63; otherwise 58") +
        " HEARTH_TOKEN_FACILITY=" + quote(g.facility) + " HEARTH_TOKEN_TENANT=" + quote(g.tenant) +
        " HEARTH_ARTIFACTS=" + quote(artifacts().string()) + " HEARTH_DASH_SHOT=" + quote(shot) +
        " CHROMIUM=/usr/bin/chromium";
    int code = -1;
    *out = sh_out("cd " + quote(repo_root()) + " && " + env +
                      " timeout -k 5 240 node tests/browser/dashboard.mjs 2>&1",
                  &code);
    return code;
}

// A week of minute points in an agent's ledger, ending an hour ago (the
// agent writes its own from now on): the 7-day view has a week to draw.
// Temperature a daily ramp 57-61 C, power 20 and 100 W by turns each hour.
void seed_week(const fs::path& ledger) {
    const long long now_min = static_cast<long long>(std::time(nullptr)) / 60;
    const std::string sql =
        ".timeout 10000\n"
        "WITH RECURSIVE m(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM m WHERE i < " +
        std::to_string(k_week_points) + ") INSERT OR IGNORE INTO history SELECT 60, (" +
        std::to_string(now_min - 10080) +
        " + i) * 60000, 20 + 80 * ((i / 60) % 2), 57 + (i % 1440) / 360.0, 60, 2, 2 FROM m;\n";
    int code = -1;
    std::string out =
        sh_out("printf %s " + quote(sql) + " | sqlite3 " + quote(ledger.string()) + " 2>&1", &code);
    BOOST_TEST_REQUIRE(code == 0, "could not seed a week of history: " << out);
}

void check_png(const fs::path& p) {
    BOOST_TEST_REQUIRE(fs::exists(p), p.string() + " was not written");
    const std::string png = slurp(p);
    BOOST_TEST(png.size() > 1000u);
    BOOST_TEST(png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0, p.string() + " is not a PNG");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dashboard_api)

BOOST_AUTO_TEST_CASE(hearth_dashboard_refuses_a_listen_address_off_loopback) {
    TempDir t;
    std::ofstream(t / "grid.toml") << grid_text("http://127.0.0.1:1", "http://127.0.0.1:2");
    for (const char* listen : {"0.0.0.0:9760", "192.0.2.1:9760"}) {
        Result r = run_hearth({"dashboard", "--grid", (t / "grid.toml").string(), "--listen", listen},
                              t.path);
        BOOST_TEST(r.code == 2, r.err);
        BOOST_TEST(count_lines(r.err) == 1u, r.err);
        BOOST_TEST(r.err.find("loopback") != std::string::npos, r.err);
    }
}

BOOST_AUTO_TEST_CASE(hearth_dashboard_passes_the_callers_token_on_and_merges_the_grid) {
    Grid g;
    const std::string d = g.dash_url();
    // The page itself is open; the data is not.
    Reply page = call(d + "/", "");
    BOOST_TEST(page.status == 200);
    BOOST_TEST(page.text.find("data-testid=\"token-form\"") != std::string::npos);
    BOOST_TEST(call(d + "/app.js", "").status == 200);
    BOOST_TEST(call(d + "/v1/grid", "").status == 401);
    BOOST_TEST(call(d + "/v1/grid", "hearth_" + std::string(64, '0')).status == 401);
    Reply tenant_grid = call(d + "/v1/grid", g.tenant);
    BOOST_TEST(tenant_grid.status == 403, tenant_grid.text);
    BOOST_TEST(tenant_grid.body.contains("error"));

    Reply who = call(d + "/v1/whoami", g.tenant);
    BOOST_TEST(who.status == 200, who.text);
    BOOST_TEST(who.body.value("kind", "") == "tenant");
    BOOST_TEST(who.body.value("tenant", "") == "bank");

    Reply grid = call(d + "/v1/grid", g.facility);
    BOOST_TEST_REQUIRE(grid.status == 200, grid.text);
    BOOST_REQUIRE_EQUAL(grid.body["sites"].size(), 2u);
    BOOST_TEST(grid.body["sites"][0]["site"] == "tank");
    BOOST_TEST(grid.body["sites"][0]["heat"]["target"].get<double>() == 60.0);
    BOOST_TEST(grid.body["sites"][0]["nodes"][0]["state"] == "up");
    BOOST_TEST(grid.body["sites"][0]["nodes"][0]["agent"] == g.tank->url());
    BOOST_TEST(grid.body["sites"][1]["site"] == "room");
    BOOST_TEST(call(d + "/v1/grid", g.operator_).status == 200);

    Reply hist = call(d + "/v1/history?site=tank", g.facility);
    BOOST_TEST(hist.status == 200, hist.text);
    BOOST_TEST(hist.body["points"].size() >= 2u, hist.text);
    BOOST_TEST(hist.body["nodes"] == json::array({"n1"}));
    BOOST_TEST(call(d + "/v1/history?site=nowhere", g.facility).status == 400);
    BOOST_TEST(call(d + "/v1/history?site=tank", g.tenant).status == 403);

    Reply energy = call(d + "/v1/energy?by=job", g.tenant);
    BOOST_TEST(energy.status == 200, energy.text);
    BOOST_TEST(energy.text.find("\"risk\"") != std::string::npos, energy.text);
    BOOST_TEST(energy.body.value("answered", 0) == 2);
    // A tenant may not ask for another tenant's energy, through the dashboard either.
    BOOST_TEST(call(d + "/v1/energy?by=job&tenant=house", g.tenant).status == 403);

    // Changes: refused for a tenant, out of bounds refused, in bounds on every agent.
    Reply t403 = call(d + "/v1/heat/target", g.tenant, R"({"site":"tank","target":61})");
    BOOST_TEST(t403.status == 403, t403.text);
    Reply t400 = call(d + "/v1/heat/target", g.facility, R"({"site":"tank","target":200})");
    BOOST_TEST(t400.status == 400, t400.text);
    BOOST_TEST(t400.body.value("error", "").find("200") != std::string::npos, t400.text);
    BOOST_TEST(call(g.tank->url() + "/v1/heat", g.facility).body["target"].get<double>() == 60.0);
    Reply ok = call(d + "/v1/heat/target", g.facility, R"({"site":"tank","target":61.5})");
    BOOST_TEST(ok.status == 200, ok.text);
    BOOST_TEST(ok.body["nodes"] == json::array({"n1"}));
    BOOST_TEST(call(g.tank->url() + "/v1/heat", g.facility).body["target"].get<double>() == 61.5);
    Reply sched = call(d + "/v1/heat/schedule", g.facility,
                       R"({"site":"room","schedule":"weekdays 07:00-19:00 at 22; otherwise 17"})");
    BOOST_TEST(sched.status == 200, sched.text);
    BOOST_TEST(call(g.room->url() + "/v1/heat", g.facility).body.value("schedule", "") != "");
    Reply bad_sched = call(d + "/v1/heat/schedule", g.facility, R"({"site":"room","schedule":"always at 90"})");
    BOOST_TEST(bad_sched.status == 400, bad_sched.text);
    BOOST_TEST(call(d + "/v1/heat/target", g.facility, R"({"target":61})").status == 400);
    BOOST_TEST(call(d + "/v1/heat/target", g.facility, R"({"site":"mars","target":61})").status == 400);

    // A node that stops answering: its site shows it down, with an alarm.
    g.room->stop();
    Reply down = call(d + "/v1/grid", g.facility);
    BOOST_TEST_REQUIRE(down.status == 200, down.text);
    const json& room = down.body["sites"][1];
    BOOST_TEST(room["nodes"][0]["state"] == "down");
    BOOST_TEST(room["heat"].is_null());
    BOOST_TEST(room["alarms"].dump().find("node r1: no answer") != std::string::npos, room.dump());
    // ... and a change to it is refused with nothing changed.
    BOOST_TEST(call(d + "/v1/heat/target", g.facility, R"({"site":"room","target":20})").status == 502);
    // ... and so is a try of it: no agent of the site to simulate it.
    Reply no_try = call(d + "/v1/heat/try", g.facility, R"({"site":"room","target":20})");
    BOOST_TEST(no_try.status == 502, no_try.text);
    BOOST_TEST(no_try.body.value("error", "").find("no grid-agent of site 'room' answered") !=
                   std::string::npos,
               no_try.text);
}

BOOST_AUTO_TEST_CASE(a_token_scoped_to_a_site_goes_only_to_that_sites_agents) {
    Grid g;
    const std::string d = g.dash_url();
    BOOST_TEST_REQUIRE(g.facility_tank.rfind("hearth~tank~", 0) == 0u, g.facility_tank);
    // Both agents would take it (one tokens file): the dashboard's refusal
    // is what keeps it from the room's.
    BOOST_TEST(call(g.room->url() + "/v1/heat", g.facility_tank).status == 200);
    Reply grid = call(d + "/v1/grid", g.facility_tank);
    BOOST_TEST_REQUIRE(grid.status == 200, grid.text);
    BOOST_TEST(grid.body["sites"][0]["nodes"][0]["state"] == "up", grid.text);
    const json& room = grid.body["sites"][1];
    BOOST_TEST(room["nodes"][0]["state"] == "down", room.dump());
    BOOST_TEST(room.dump().find("it is for site tank, and that agent is of site 'room'") !=
                   std::string::npos,
               room.dump());
    // A change: on its own site, done; on the other, refused with nothing sent.
    Reply ok = call(d + "/v1/heat/target", g.facility_tank, R"({"site":"tank","target":61})");
    BOOST_TEST(ok.status == 200, ok.text);
    Reply other = call(d + "/v1/heat/target", g.facility_tank, R"({"site":"room","target":20})");
    BOOST_TEST(other.status == 400, other.text);
    BOOST_TEST(other.text.find("hearth token new --sites") != std::string::npos, other.text);
    BOOST_TEST(call(g.room->url() + "/v1/heat", g.facility).body["target"].get<double>() == 21.0);
    // The scope is the issuer's: a facility:SITE token cannot name another.
    Result bad = run_hearth({"token", "new", "--role", "facility:room", "--tokens",
                             (g.t / "tokens").string(), "--sites", "tank"},
                            g.t.path);
    BOOST_TEST(bad.code == 2, bad.err);
    BOOST_TEST(bad.err.find("does not match the role facility:room") != std::string::npos, bad.err);
    Result odd = run_hearth({"token", "new", "--role", "facility", "--tokens",
                             (g.t / "tokens").string(), "--sites", "tank,../x"},
                            g.t.path);
    BOOST_TEST(odd.code == 2, odd.err);
    BOOST_TEST(odd.err.find("'../x' is not a site name") != std::string::npos, odd.err);
}

// POST /v1/heat/try: the site's next day or week, simulated from its state
// now under a proposed schedule or target, for facility and operator tokens;
// through an agent and through hearth dashboard alike. It changes nothing.
BOOST_AUTO_TEST_CASE(a_try_simulates_the_sites_next_day_or_week_and_changes_nothing) {
    Grid g;
    const std::string agent = g.tank->url(), d = g.dash_url();
    const json before = call(agent + "/v1/heat", g.facility).body;
    const std::string sched =
        R"({"site":"tank","schedule":"daily 06:00-22:00 at 62; otherwise 55"})";

    // Tenants and strangers are refused with a JSON error.
    for (const std::string& url : {agent, d}) {
        Reply t = call(url + "/v1/heat/try", g.tenant, sched);
        BOOST_TEST(t.status == 403, t.text);
        BOOST_TEST(t.body.value("error", "").find("may not try") != std::string::npos, t.text);
        BOOST_TEST(call(url + "/v1/heat/try", "", sched).status == 401);
    }

    for (const std::string& url : {agent, d}) {
        Reply r = call(url + "/v1/heat/try", g.facility, sched);
        BOOST_TEST_REQUIRE(r.status == 200, url << ": " << r.text);
        const json& b = r.body;
        BOOST_TEST(b["site"] == "tank");
        BOOST_TEST(b["horizon_h"] == 24);
        BOOST_TEST(b["proposal"]["schedule"] == "daily 06:00-22:00 at 62; otherwise 55");
        BOOST_TEST_REQUIRE(b["points"].size() == 24u * 12 + 1, r.text.substr(0, 300));
        const double start = b["start_c"].get<double>();
        BOOST_TEST(start > 40.0);  // the simulated tank's temperature now, near 60
        BOOST_TEST(start < 75.0);
        BOOST_TEST(b["start_from"] == "measured now");
        std::int64_t last = 0;
        for (const auto& p : b["points"]) {
            BOOST_TEST(p["t_ms"].get<std::int64_t>() > last);
            last = p["t_ms"].get<std::int64_t>();
            const double t = p["target_c"].get<double>();
            BOOST_TEST((t == 62.0 || t == 55.0), p.dump());
            BOOST_TEST(p["plan_c"].get<double>() ==
                       before["target"].get<double>());     // today's plan
            BOOST_TEST(p["temp_c"].get<double>() >= 15.0);  // never below the tank's ambient
            BOOST_TEST(p["temp_c"].get<double>() <= 70.0);  // nor above its maximum
        }
        // The first point is now, at the temperature measured now.
        BOOST_TEST(b["points"][0]["temp_c"].get<double>() == start);
    }
    // A week, from an operator token.
    Reply week =
        call(d + "/v1/heat/try", g.operator_, R"({"site":"tank","target":58,"horizon_h":168})");
    BOOST_TEST_REQUIRE(week.status == 200, week.text);
    BOOST_TEST(week.body["points"].size() == 7u * 96 + 1);
    BOOST_TEST(week.body["points"][1]["target_c"].get<double>() == 58.0);

    // A bad schedule: refused with the message of `hearth heat schedule`.
    for (const std::string bad : {"always at 62", "daily 06:00-22:00 at 80; otherwise 55"}) {
        Result cli = run_hearth(
            {"heat", "schedule", "tank", bad, "--grid", (g.t / "grid.toml").string()}, g.t.path);
        BOOST_TEST(cli.code == 2, cli.err);
        const json body{{"site", "tank"}, {"schedule", bad}};
        for (const std::string& url : {agent, d}) {
            Reply r = call(url + "/v1/heat/try", g.facility, body.dump());
            BOOST_TEST(r.status == 400, r.text);
            const std::string msg = r.body.value("error", "");
            BOOST_TEST(!msg.empty(), r.text);
            BOOST_TEST(cli.err.find(msg) != std::string::npos,
                       "cli: " << cli.err << " api: " << msg);
        }
    }
    // Bounds: the horizon, the request's size, one of schedule or target.
    Reply h48 = call(agent + "/v1/heat/try", g.facility, R"({"target":60,"horizon_h":48})");
    BOOST_TEST(h48.status == 400, h48.text);
    BOOST_TEST(h48.body.value("error", "").find("24 or 168") != std::string::npos, h48.text);
    const std::string big = json{{"schedule", std::string(9000, ' ') + "otherwise 60"}}.dump();
    Reply too_big = call(agent + "/v1/heat/try", g.facility, big);
    BOOST_TEST(too_big.status == 400, too_big.text);
    BOOST_TEST(too_big.body.value("error", "").find("8 KiB") != std::string::npos, too_big.text);
    BOOST_TEST(
        call(agent + "/v1/heat/try", g.facility, R"({"target":60,"schedule":"otherwise 60"})")
            .status == 400);
    BOOST_TEST(call(d + "/v1/heat/try", g.facility, R"({"site":"mars","target":60})").status ==
               400);
    BOOST_TEST(call(d + "/v1/heat/try", g.facility, R"({"target":60})").status == 400);

    // Nothing changed on the agent.
    const json after = call(agent + "/v1/heat", g.facility).body;
    BOOST_TEST(after["schedule"] == before["schedule"]);
    BOOST_TEST(after["target"] == before["target"]);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dashboard_browser, *boost::unit_test::precondition(browser_possible))

BOOST_AUTO_TEST_CASE(a_manager_and_a_tenant_use_hearth_dashboard_over_two_sites) {
    Grid g;
    seed_week(g.tank->dir / "ledger.db");
    std::string out;
    int code = run_browser(g.dash_url(), 2, g.tank->url(), "dashboard.png", g, &out);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(code == 0, out);
    check_png(artifacts() / "dashboard.png");
}

BOOST_AUTO_TEST_CASE(a_grid_agent_serves_the_dashboard_of_its_own_site) {
    Grid g;
    seed_week(g.tank->dir / "ledger.db");
    std::string out;
    int code = run_browser(g.tank->url(), 1, g.tank->url(), "agent-dashboard.png", g, &out);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(code == 0, out);
    check_png(artifacts() / "agent-dashboard.png");
}

BOOST_AUTO_TEST_SUITE_END()
