// hearth site with the real scheduler: hearth serve on loopback (tokens for
// two tenants and the site), two tenants' jobs submitted with hearth submit,
// and hearth site over two local nodes of one slot each. Every task is
// committed once, never more tasks run than the nodes' slots, and a worker
// rank killed mid-job relaunches the site, the scheduler requeues what it lost.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>

#include "harness.hpp"

using namespace hearth::test;

namespace {

const char* k_grid = R"(
[[site]]
name = "home"
kind = "room"
target = 20
min = 10
max = 30
[site.source]
type = "static"
measured = 15

[[node]]
name = "n1"
site = "home"
host = "localhost"
slots = 1

[[node]]
name = "n2"
site = "home"
host = "127.0.0.1"
slots = 1
)";

template <class F>
bool eventually(F&& f, int seconds) {
    for (int i = 0; i < seconds * 5; ++i) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return f();
}

// A process of the test (hearth serve, hearth site), stopped at the end.
struct Background {
    pid_t pid = -1;
    int sig = SIGTERM;
    ~Background() { stop(); }
    int stop() {
        if (pid <= 0) return 0;
        ::kill(pid, sig);
        const int code = wait_exit(pid);
        pid = -1;
        return code;
    }
};

struct Grid {
    TempDir t;
    std::map<std::string, std::string> token;  // role -> token
    Background serve, site;
    std::string url;

    Grid() {
        std::ofstream(t / "grid.toml") << k_grid;
        for (const char* role : {"tenant:bank", "tenant:studio", "site:home"}) {
            Result r = run_hearth({"token", "new", "--role", role, "--tokens", (t / "tokens").string()}, t.path);
            BOOST_TEST_REQUIRE(r.code == 0, r.err);
            token[role] = r.out.substr(0, r.out.find('\n'));
        }
        std::ofstream(t / "site.token") << token["site:home"] << "\n";
        ::chmod((t / "site.token").c_str(), 0600);
        fs::create_directories(t / "serve");
        serve.sig = SIGKILL;
        serve.pid = start_hearth({"serve", "--grid", (t / "grid.toml").string(), "--state", (t / "queue").string(),
                                  "--listen", "127.0.0.1:0", "--tokens", (t / "tokens").string()},
                                 t / "serve");
        const std::string port = listening_port(t / "serve");
        BOOST_TEST_REQUIRE(!port.empty(),
                           "hearth serve did not start: " + slurp(t / "serve" / ".bg.err"));
        url = "http://127.0.0.1:" + port;
    }

    void start_site() {
        fs::create_directories(t / "site");
        site.pid = start_hearth({"site", "--grid", (t / "grid.toml").string(), "--site", "home", "--server", url,
                                 "--token-file", (t / "site.token").string(), "--state", (t / "state").string()},
                                t / "site");
    }

    Result client(const std::string& role, const std::vector<std::string>& args) {
        fs::create_directories(t / "client" / "home");
        return run_hearth(args, t / "client",
                          "env -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT HOME=" +
                              quote((t / "client" / "home").string()) + " HEARTH_TOKEN=" +
                              quote(token[role]) + " HEARTH_SERVER=" + quote(url));
    }

    std::string submit(const std::string& tenant, int count, double seconds) {
        // Each task: its start and end (ns) into the shared spans file, an output.
        // The tasks run as their tenants' users (the site is root here):
        // they reach the spans file, and only it.
        fs::permissions(t.path,
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        if (!fs::exists(t / "spans")) std::ofstream(t / "spans").close();
        fs::permissions(t / "spans", fs::perms::owner_read | fs::perms::owner_write |
                                         fs::perms::group_read | fs::perms::group_write |
                                         fs::perms::others_read | fs::perms::others_write);
        const std::string spans = quote((t / "spans").string());
        const std::string script = "echo \"s $(date +%s%N)\" >> " + spans + "; echo " + tenant +
                                   " {item} > out-{item}.txt; sleep " + std::to_string(seconds) +
                                   "; echo \"e $(date +%s%N)\" >> " + spans;
        Result r = client("tenant:" + tenant, {"submit", "--count", std::to_string(count), "--collect",
                                               "out-*.txt", "--", "sh", "-c", script});
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return r.out.substr(0, r.out.find('\n'));
    }

    nlohmann::json status(const std::string& tenant, const std::string& id) {
        Result r = client("tenant:" + tenant, {"status", id, "--json"});
        if (r.code != 0) return nlohmann::json::object();
        return nlohmann::json::parse(r.out, nullptr, false);
    }

    std::string logs() {
        return "site: " + slurp(t / "site" / ".bg.err") + "\nmpirun: " + slurp(t / "state" / "mpirun.log") +
               "\nserve: " + slurp(t / "serve" / ".bg.err");
    }
};

int max_overlap(const fs::path& spans) {
    std::vector<std::pair<long long, int>> ev;
    std::ifstream in(spans);
    std::string kind;
    long long ns;
    while (in >> kind >> ns) ev.emplace_back(ns, kind == "s" ? 1 : -1);
    std::sort(ev.begin(), ev.end());
    int now = 0, most = 0;
    for (const auto& [at, d] : ev) most = std::max(most, now += d);
    return most;
}

std::vector<pid_t> children(pid_t pid) {
    std::vector<pid_t> v;
    std::stringstream ss(sh_out("cat /proc/" + std::to_string(pid) + "/task/*/children 2>/dev/null"));
    pid_t c;
    while (ss >> c) v.push_back(c);
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(site_serve)

BOOST_AUTO_TEST_CASE(a_site_refuses_a_plain_http_scheduler_off_loopback_unless_told_insecure) {
    TempDir t;
    std::ofstream(t / "grid.toml") << k_grid;
    Result r = run_hearth({"site", "--grid", (t / "grid.toml").string(), "--site", "home",
                           "--server", "http://198.18.0.9:9750", "--state", (t / "s").string()},
                          t.path);
    BOOST_TEST(r.code == 2, r.err);
    BOOST_TEST(count_lines(r.err) == 1u, r.err);
    BOOST_TEST(r.err.find("plain http to a host that is not loopback") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("--insecure-http") != std::string::npos, r.err);
    BOOST_TEST(!fs::exists(t / "s"), "a refused site made its state directory");
}

BOOST_AUTO_TEST_CASE(two_tenants_jobs_finish_once_each_within_the_sites_slots) {
    Grid g;
    const std::string bank = g.submit("bank", 5, 0.4);
    const std::string studio = g.submit("studio", 5, 0.4);
    g.start_site();
    const bool done = eventually(
        [&] {
            return g.status("bank", bank).value("state", "") == "finished" &&
                   g.status("studio", studio).value("state", "") == "finished";
        },
        120);
    BOOST_TEST_REQUIRE(done, g.logs());
    for (const auto& [tenant, id] : {std::pair{"bank", bank}, std::pair{"studio", studio}}) {
        const auto s = g.status(tenant, id);
        BOOST_TEST(s.value("done", 0) == 5, s.dump());
        BOOST_TEST(s.value("failed", 0) == 0, s.dump());
        // The outputs came back through the site's uploads.
        Result f = g.client(std::string("tenant:") + tenant, {"fetch", id});
        BOOST_TEST_REQUIRE(f.code == 0, f.err);
        for (int i = 0; i < 5; ++i)
            BOOST_TEST(slurp(g.t / "client" / id / "out" / ("out-" + std::to_string(i) + ".txt")) ==
                       std::string(tenant) + " " + std::to_string(i) + "\n");
    }
    // Ten tasks ran (each once: the spans file has one start per attempt) and
    // never more at once than the two slots of the site.
    BOOST_TEST(max_overlap(g.t / "spans") <= 2);
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

// A task at a site sees the submitter's --env, its own identity and
// directory, and nothing of the site's worker (an Open MPI rank holding the
// site's settings) nor of the test runner's HEARTH_* variables.
BOOST_AUTO_TEST_CASE(a_served_task_gets_its_own_environment_not_the_sites) {
    Grid g;
    fs::create_directories(g.t / "client");
    fs::copy_file(repo_root() + "/tests/fixtures/task-world/print_env.py",
                  g.t / "client" / "print_env.py");
    Result r = g.client("tenant:bank", {"submit", "--frames", "10-13", "--chunk", "2", "--env",
                                        "GREETING=hello", "--stage", "print_env.py", "--collect",
                                        "env_*.json", "--", "./print_env.py"});
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const std::string id = r.out.substr(0, r.out.find('\n'));
    g.start_site();
    BOOST_TEST_REQUIRE(
        eventually([&] { return g.status("bank", id).value("state", "") == "finished"; }, 120),
        g.logs());
    Result f = g.client("tenant:bank", {"fetch", id});
    BOOST_TEST_REQUIRE(f.code == 0, f.err);
    for (int task = 0; task < 2; ++task) {
        BOOST_TEST_CONTEXT("task " << task) {
            const auto j = nlohmann::json::parse(
                slurp(g.t / "client" / id / "out" / ("env_" + std::to_string(task) + ".json")));
            const auto& env = j.at("env");
            for (const auto& [name, value] : env.items()) {
                if (name != "OMPI_MCA_hwloc_base_cpu_list")
                    BOOST_TEST(name.rfind("OMPI_", 0) != 0, name);
                BOOST_TEST(name.rfind("PMIX_", 0) != 0, name);
            }
            BOOST_TEST(!env.contains("HEARTH_BIN"));
            BOOST_TEST(!env.contains("HEARTH_ROOT"));
            BOOST_TEST(env.value("PWD", "") == j.at("cwd").get<std::string>());
            BOOST_TEST(env.value("TMPDIR", "") == j.at("cwd").get<std::string>());
            BOOST_TEST(env.value("HEARTH_JOB", "") == id);
            BOOST_TEST(env.value("HEARTH_TASK", "") == std::to_string(task));
            BOOST_TEST(env.value("HEARTH_TENANT", "") == "bank");
            BOOST_TEST(env.value("HEARTH_FIRST", "") == std::to_string(10 + 2 * task));
            BOOST_TEST(env.value("HEARTH_LAST", "") == std::to_string(11 + 2 * task));
            BOOST_TEST(env.value("GREETING", "") == "hello");
        }
    }
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

BOOST_AUTO_TEST_CASE(a_worker_rank_killed_mid_job_relaunches_the_site_and_every_task_is_committed) {
    Grid g;
    const std::string bank = g.submit("bank", 6, 1.0);
    g.start_site();
    BOOST_TEST_REQUIRE(eventually([&] { return g.status("bank", bank).value("done", 0) >= 1; }, 60), g.logs());
    auto mpirun = children(g.site.pid);
    BOOST_TEST_REQUIRE(mpirun.size() == 1u);
    auto ranks = children(mpirun[0]);
    BOOST_TEST_REQUIRE(ranks.size() == 3u);
    std::sort(ranks.begin(), ranks.end());
    ::kill(ranks.back(), SIGKILL);
    const bool done = eventually([&] { return g.status("bank", bank).value("state", "") == "finished"; }, 150);
    BOOST_TEST_REQUIRE(done, g.logs());
    const auto s = g.status("bank", bank);
    BOOST_TEST(s.value("done", 0) == 6, s.dump());
    BOOST_TEST(s.value("failed", 0) == 0, s.dump());
    BOOST_TEST(slurp(g.t / "site" / ".bg.err").find("relaunching") != std::string::npos, g.logs());
    BOOST_TEST(g.site.stop() == 0, g.logs());
}

// The README's "A shared grid" on a laptop: its three commands with
// examples/shared-grid/grid.toml, as a newcomer would type them (no tokens,
// loopback), then `hearth jobs`.
BOOST_AUTO_TEST_CASE(the_readmes_laptop_grid_runs_a_submitted_job) {
    TempDir t;
    const std::string grid =
        (fs::path(repo_root()) / "examples" / "shared-grid" / "grid.toml").string();
    fs::create_directories(t / "serve");
    fs::create_directories(t / "site");
    Background serve, site;
    serve.sig = SIGKILL;
    serve.pid = start_hearth({"serve", "--grid", grid, "--state", (t / "queue").string(),
                              "--no-auth", "--listen", "127.0.0.1:0"},
                             t / "serve");
    const std::string port = listening_port(t / "serve");
    BOOST_TEST_REQUIRE(!port.empty(), slurp(t / "serve" / ".bg.err"));
    const std::string url = "http://127.0.0.1:" + port;
    site.pid = start_hearth({"site", "--grid", grid, "--site", "home", "--server", url, "--state",
                             (t / "state").string()},
                            t / "site");
    const std::string env =
        "env -u HEARTH_TOKEN_FILE -u HEARTH_TOKEN -u HEARTH_CACERT -u HEARTH_TENANT";
    Result sub = run_hearth(
        {"submit", "--server", url, "--tenant", "bank", "--count", "10", "--", "echo", "{item}"},
        t.path, env);
    BOOST_TEST_REQUIRE(sub.code == 0, sub.err);
    const std::string id = sub.out.substr(0, sub.out.find('\n'));
    BOOST_TEST(id.rfind("j-", 0) == 0, sub.out);
    // A tenant the grid file does not list: refused, nothing queued.
    Result stranger =
        run_hearth({"submit", "--server", url, "--tenant", "nobody", "--count", "1", "--", "true"},
                   t.path, env);
    BOOST_TEST(stranger.code == 2, stranger.err);
    BOOST_TEST(stranger.err.find("unknown tenant 'nobody'") != std::string::npos, stranger.err);
    Result jobs;
    BOOST_TEST(eventually(
                   [&] {
                       jobs = run_hearth({"jobs", "--server", url, "--json"}, t.path, env);
                       return jobs.code == 0 && jobs.out.find("\"finished\"") != std::string::npos;
                   },
                   60),
               jobs.out + jobs.err + slurp(t / "site" / ".bg.err"));
    const auto listed = nlohmann::json::parse(jobs.out);
    BOOST_TEST_REQUIRE(listed.at("jobs").size() == 1u, jobs.out);
    BOOST_TEST(listed["jobs"][0].value("id", "") == id);
    BOOST_TEST(listed["jobs"][0].value("committed", 0) == 10, jobs.out);
    BOOST_TEST(site.stop() == 0, slurp(t / "site" / ".bg.err"));
}

BOOST_AUTO_TEST_SUITE_END()
