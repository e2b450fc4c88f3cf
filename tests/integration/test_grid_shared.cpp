// A shared grid on the namespace test grid (tests/grid/testgrid.sh): four
// test hosts with a grid-agent each, two sites of two hosts (a: h1 h2, b: h3
// h4, 2 slots a node), one `hearth serve` on the bridge's test address, and
// one `hearth site` per site (each its own mpirun over its two hosts, through
// tests/grid/netns-ssh). Jobs go in with `hearth submit`; what happened is
// read from the scheduler's queue.db (sqlite3 shell, read-only), from a
// spans file each task appends its start and end to (host, cores, time) and,
// where the agents run heat control, from their budgets sampled during the run.
// Where namespaces cannot be made (not root, no `ip netns`) or the sqlite3
// shell is missing, the suite is skipped and says why.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "harness.hpp"
#include "heat_agent.hpp"
#include "testgrid.hpp"

using namespace hearth::test;

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Every wait is bounded: a stuck site or scheduler fails the test, not hangs it.
constexpr auto k_job_limit = std::chrono::seconds(150);

// A process of the test in a process group of its own (hearth serve, hearth
// site and the mpirun it starts), stopped at the end.
struct Proc {
    pid_t pid = -1;
    ~Proc() { stop(); }
    void start(const std::string& cmd) {
        posix_spawnattr_t at;
        ::posix_spawnattr_init(&at);
        ::posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
        ::posix_spawnattr_setpgroup(&at, 0);
        std::string c = cmd;
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), c.data(),
                                   nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, &at, argv.data(), environ);
        ::posix_spawnattr_destroy(&at);
    }
    bool running() const { return pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0; }
    // SIGTERM (or sig), up to 30 s to end, then SIGKILL to the whole group.
    int stop(int sig = SIGTERM) {
        if (pid <= 0) return 0;
        ::kill(pid, sig);
        int st = 0;
        pid_t r = 0;
        for (int i = 0; i < 300 && (r = ::waitpid(pid, &st, WNOHANG)) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (r == 0) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            st = 0x7f00;  // "did not stop": exit 127 below
        }
        ::kill(-pid, SIGKILL);  // what it left in its group (a hung mpirun)
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
};

struct Span {
    std::int64_t start = 0, end = 0;  // ms; end 0: never ended (killed)
    std::string host;                 // the test host's namespace
    std::string cpus;                 // Cpus_allowed_list of the task
};

// tag -> task -> its executions, from the spans file.
using Spans = std::map<std::string, std::map<std::uint64_t, std::vector<Span>>>;

Spans read_spans(const fs::path& file) {
    Spans s;
    for (const auto& l : lines_of(slurp(file))) {
        std::stringstream ss(l);
        std::string kind, tag, host, cpus;
        std::int64_t ns = 0;
        std::uint64_t task = 0;
        ss >> kind >> ns >> tag >> task >> host >> cpus;
        auto& v = s[tag][task];
        if (kind == "s") {
            v.push_back(Span{ns / 1000000, 0, host, cpus});
        } else {
            for (auto it = v.rbegin(); it != v.rend(); ++it)
                if (it->host == host && it->end == 0) {
                    it->end = ns / 1000000;
                    break;
                }
        }
    }
    return s;
}

std::set<int> cpu_set(const std::string& list) {
    std::set<int> c;
    std::stringstream ss(list);
    std::string part;
    while (std::getline(ss, part, ',')) {
        if (part.empty()) continue;
        auto dash = part.find('-');
        int a = std::stoi(part.substr(0, dash));
        int b = dash == std::string::npos ? a : std::stoi(part.substr(dash + 1));
        for (int i = a; i <= b; ++i) c.insert(i);
    }
    return c;
}

// The most tasks that ran at once on each host (ended spans only).
std::map<std::string, int> max_concurrency(const Spans& s) {
    std::map<std::string, std::vector<std::pair<std::int64_t, int>>> ev;
    for (const auto& [tag, tasks] : s)
        for (const auto& [task, spans] : tasks)
            for (const auto& sp : spans)
                if (sp.end) {
                    ev[sp.host].emplace_back(sp.start, 1);
                    ev[sp.host].emplace_back(sp.end, -1);
                }
    std::map<std::string, int> most;
    for (auto& [host, e] : ev) {
        std::sort(e.begin(), e.end());  // an end before a start at the same ms
        int now = 0;
        for (const auto& [at, d] : e) most[host] = std::max(most[host], now += d);
    }
    return most;
}

// Two tasks on one host at the same time, bound to a common core: their names.
std::vector<std::string> shared_cores(const Spans& s) {
    struct Run {
        std::string who;
        Span sp;
    };
    std::map<std::string, std::vector<Run>> by_host;
    for (const auto& [tag, tasks] : s)
        for (const auto& [task, spans] : tasks)
            for (const auto& sp : spans)
                if (sp.end) by_host[sp.host].push_back({tag + "/" + std::to_string(task), sp});
    std::vector<std::string> bad;
    for (const auto& [host, runs] : by_host)
        for (std::size_t i = 0; i < runs.size(); ++i)
            for (std::size_t j = i + 1; j < runs.size(); ++j) {
                const auto& x = runs[i].sp;
                const auto& y = runs[j].sp;
                if (x.end <= y.start || y.end <= x.start) continue;
                auto cx = cpu_set(x.cpus), cy = cpu_set(y.cpus);
                bool common =
                    std::any_of(cx.begin(), cx.end(), [&](int c) { return cy.count(c) > 0; });
                if (common)
                    bad.push_back(host + ": " + runs[i].who + " (" + x.cpus + ") and " +
                                  runs[j].who + " (" + y.cpus + ")");
            }
    return bad;
}

// The grid file: sites a (h1 h2) and b (h3 h4), rooms at 20 C (band 1 C)
// whose static sources read the given temperatures (15: cold, every slot
// open; 20: at target, the heat control holds about half), 2 slots a node,
// two tenants of equal shares.
// With measured_c, a third site c of one node (c1, the fifth host) too.
std::string shared_grid_toml(const std::vector<std::string>& addrs, int measured_a, int measured_b,
                             std::optional<int> measured_c = std::nullopt) {
    std::ostringstream g;
    std::vector<std::pair<std::string, int>> sites = {{"a", measured_a}, {"b", measured_b}};
    if (measured_c) sites.emplace_back("c", *measured_c);
    for (const auto& [s, measured] : sites)
        g << "[[site]]\nname = \"" << s << "\"\nkind = \"room\"\ntarget = 20\nmin = 10\nmax = 30\n"
          << "[site.source]\ntype = \"static\"\nmeasured = " << measured << "\n\n";
    const char* names[] = {"a1", "a2", "b1", "b2", "c1"};
    for (int i = 0; i < (measured_c ? 5 : 4); ++i)
        g << "[[node]]\nname = \"" << names[i] << "\"\nsite = \"" << names[i][0] << "\"\nhost = \""
          << addrs[i] << "\"\nslots = 2\n\n";
    g << "[[tenant]]\nname = \"bank\"\nshare = 1\n\n[[tenant]]\nname = \"studio\"\nshare = 1\n";
    return g.str();
}

// A node's heat budget as its agent gives it to the worker (the socket's
// budget op): the slots it may fill now; nullopt while it has none.
std::optional<int> agent_budget(const fs::path& socket) {
    auto j = nlohmann::json::parse(agent_socket_line(socket.string(), R"({"op":"budget"})"),
                                   nullptr, false);
    if (!j.is_object() || !j.value("ok", false) || !j.value("heat", false) || !j.contains("slots"))
        return std::nullopt;
    return j["slots"].get<int>();
}

// The heat controller's mode behind that budget (open, hold, cut, stop,
// safe); "" while it has none.
std::string agent_mode(const fs::path& socket) {
    auto j = nlohmann::json::parse(agent_socket_line(socket.string(), R"({"op":"budget"})"),
                                   nullptr, false);
    return j.is_object() && j.value("heat", false) ? j.value("mode", "") : "";
}

// The shared grid of one test, torn down by the destructor whatever happens.
struct SharedGrid {
    TempDir t;
    fs::path state;                         // the test grid's state dir
    std::vector<std::string> addrs;         // h1..h4
    std::map<std::string, std::string> ns;  // address -> namespace
    std::string subnet, up_output, url;
    TestCa ca;          // the scheduler's https certificate and its CA
    std::string lease;  // hearth serve --lease
    int port = 0;
    std::map<std::string, std::string> token;  // role -> token
    Proc serve;
    std::map<std::string, Proc> sites;  // a, b (and c)
    std::optional<int> measured_c;      // site c's room (add_site_c)

    // hosts: 4, or 5 for a fifth host that is no node (a site's gateway).
    // lease: hearth serve --lease (a site silent this long loses its tasks).
    explicit SharedGrid(int hosts = 4, std::string lease = "60s") : lease(std::move(lease)) {
        // The tasks run as their tenants' users (the sites are root): they
        // reach the spans file, and only it.
        fs::permissions(t.path,
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        std::ofstream(t / "spans").close();
        fs::permissions(t / "spans", fs::perms::owner_read | fs::perms::owner_write |
                                         fs::perms::group_read | fs::perms::group_write |
                                         fs::perms::others_read | fs::perms::others_write);
        up_output = sh_out("GRID_AGENT_BIN=" + quote(agent_bin()) + " " + quote(grid_script()) +
                           " up " + std::to_string(hosts) + " --agents --slots 2 2>&1");
        auto ls = lines_of(up_output);
        if (!ls.empty() && fs::exists(fs::path(ls.back()) / "env")) state = ls.back();
        if (state.empty()) return;
        subnet = trim(slurp(state / "subnet"));
        for (const auto& l : lines_of(slurp(state / "hosts.map"))) {
            std::stringstream ss(l);
            std::string addr, name;
            ss >> addr >> name;
            addrs.push_back(addr);
            ns[addr] = name;
        }
        if (addrs.size() != std::size_t(hosts)) return;
        std::ofstream(t / "grid.toml") << shared_grid_toml(addrs, 15, 15);
        for (const char* role : {"tenant:bank", "tenant:studio", "operator", "site:a", "site:b"}) {
            Result r =
                run_hearth({"token", "new", "--role", role, "--tokens", (t / "tokens").string()},
                           t.path, "env -u HEARTH_TOKEN -u HEARTH_TOKEN_FILE");
            BOOST_TEST_REQUIRE(r.code == 0, r.err);
            token[role] = r.out.substr(0, r.out.find('\n'));
        }
        ::chmod((t / "tokens").c_str(), 0600);
        for (const char* s : {"a", "b"}) {
            fs::path f = t / (std::string("site-") + s + ".token");
            std::ofstream(f) << token[std::string("site:") + s] << "\n";
            ::chmod(f.c_str(), 0600);
            fs::create_directories(t / (std::string("site-") + s));
        }
        fs::create_directories(t / "serve");
        fs::create_directories(t / "client");
        start_serve("0");
    }
    ~SharedGrid() {
        for (auto& [name, p] : sites) p.stop();
        serve.stop();
        if (!state.empty())
            std::system((quote(grid_script()) + " down " + quote(state.string())).c_str());
    }
    SharedGrid(const SharedGrid&) = delete;
    SharedGrid& operator=(const SharedGrid&) = delete;

    bool up() const { return !state.empty() && addrs.size() >= 4 && port > 0; }

    // A third site, c: one node (c1) on the fifth host, its room reading
    // `measured`, and a token of its own. The grid file names it from the
    // next heat_control on; the scheduler from its next start.
    void add_site_c(int measured) {
        BOOST_TEST_REQUIRE(addrs.size() >= 5u, "site c needs a fifth host");
        measured_c = measured;
        Result r =
            run_hearth({"token", "new", "--role", "site:c", "--tokens", (t / "tokens").string()},
                       t.path, "env -u HEARTH_TOKEN -u HEARTH_TOKEN_FILE");
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        token["site:c"] = r.out.substr(0, r.out.find('\n'));
        const fs::path f = t / "site-c.token";
        std::ofstream(f) << token["site:c"] << "\n";
        ::chmod(f.c_str(), 0600);
        fs::create_directories(t / "site-c");
    }
    void restart_serve() {
        serve.stop();
        start_serve("0");
    }
    std::vector<std::string> grid_nodes() const {
        std::vector<std::string> v = {"a1", "a2", "b1", "b2"};
        if (measured_c) v.push_back("c1");
        return v;
    }
    fs::path db() const { return t / "queue" / "queue.db"; }

    // The scheduler on the bridge's address (a test address, in the root
    // namespace): the sites' dispatchers reach it as they would over a LAN.
    void start_serve(const std::string& want_port) {
        const fs::path err = t / "serve" / ".bg.err";
        std::ofstream(err, std::ios::app) << "-- start\n";
        const std::string before = slurp(err);
        if (ca.dir.empty()) {
            const std::string why = ca.make(t / "ca", subnet + ".1");
            BOOST_TEST_REQUIRE(why.empty(), "hearth tls: " << why);
        }
        serve.start("cd " + quote((t / "serve").string()) + " && exec " + quote(hearth_bin()) +
                    " serve --grid " + quote((t / "grid.toml").string()) + " --state " +
                    quote((t / "queue").string()) + " --listen " + subnet + ".1:" + want_port +
                    " --tokens " + quote((t / "tokens").string()) + " --lease " + lease +
                    ca.serve_args() + " >>" + quote((t / "serve" / ".bg.out").string()) + " 2>>" +
                    quote(err.string()) + " </dev/null");
        std::string said;
        bool listening = wait_for(
            [&] {
                said = slurp(err).substr(before.size());
                return said.find("listening on port ") != std::string::npos || !serve.running();
            },
            std::chrono::seconds(30));
        auto at = said.find("listening on port ");
        BOOST_TEST_REQUIRE((listening && at != std::string::npos),
                           "hearth serve did not start: " + said);
        port = std::stoi(said.substr(at + 18));
        url = "https://" + subnet + ".1:" + std::to_string(port);
    }

    // hearth site NAME from the root namespace: rank 0 here, one worker on
    // each of the site's hosts, reached through the grid's launch agent.
    // With in_ns, hearth site runs on that test host instead (a host that is
    // none of the site's nodes: Open MPI would take a node's address for
    // the local host).
    void start_site(const std::string& name, const std::string& in_ns = "") {
        const fs::path dir = t / ("site-" + name);
        const std::string where = in_ns.empty() ? ""
                                                : "exec ip netns exec " + in_ns +
                                                      " unshare --uts -- sh -c 'hostname " + in_ns +
                                                      "s && " + "exec \"$0\" \"$@\"' ";
        sites[name].start(
            "cd " + quote(dir.string()) + " && . " + quote((state / "env").string()) + " && " +
            (where.empty() ? "exec " : where) + quote(hearth_bin()) + " site --cacert " +
            quote(ca.cacert()) + " --grid " + quote((t / "grid.toml").string()) + " --site " +
            name + " --server " + url + " --token-file " +
            quote((t / ("site-" + name + ".token")).string()) + " --state " +
            quote((dir / "state").string()) + " >>" + quote((dir / ".bg.out").string()) + " 2>>" +
            quote((dir / ".bg.err").string()) + " </dev/null");
    }

    Result client(const std::string& role, const std::vector<std::string>& args) {
        fs::create_directories(t / "client" / "home");
        return run_hearth(
            args, t / "client",
            "timeout -k 5 60 env -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT HOME=" +
                quote((t / "client" / "home").string()) + " HEARTH_TOKEN=" + quote(token[role]) +
                " HEARTH_SERVER=" + quote(url) + " HEARTH_CACERT=" + quote(ca.cacert()));
    }

    // A job of `count` tasks of `seconds` each; each task appends its start
    // (with its host and the cores it may use) and its end to the spans file.
    std::string submit(const std::string& tenant, const std::string& tag, int count,
                       double seconds) {
        const std::string spans = quote((t / "spans").string());
        const std::string script = "echo \"s $(date +%s%N) " + tag +
                                   " {task} $(hostname) $(sed -n "
                                   "'s/^Cpus_allowed_list:[[:space:]]*//p' /proc/$$/status)\" >> " +
                                   spans + "; sleep " + std::to_string(seconds) +
                                   "; echo \"e $(date +%s%N) " + tag + " {task} $(hostname)\" >> " +
                                   spans;
        Result r = client("tenant:" + tenant,
                          {"submit", "--count", std::to_string(count), "--", "sh", "-c", script});
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return trim(r.out.substr(0, r.out.find('\n')));
    }

    // The sqlite3 shell on the queue, read-only: one row a line, fields by spaces.
    std::vector<std::string> sql(const std::string& q) const {
        return lines_of(sh_out("sqlite3 -readonly -separator ' ' " + quote(db().string()) + " " +
                               quote(q) + " 2>&1"));
    }
    std::int64_t sql_int(const std::string& q) const {
        auto r = sql(q);
        if (r.empty()) return -1;
        try {
            return std::stoll(r[0]);
        } catch (...) {
            return -1;
        }
    }

    bool all_done(const std::vector<std::string>& jobs) const {
        for (const auto& j : jobs) {
            auto r = sql("SELECT state FROM jobs WHERE id='" + j + "'");
            if (r.empty() || (r[0] != "finished" && r[0] != "failed" && r[0] != "cancelled"))
                return false;
        }
        return true;
    }
    bool wait_jobs(const std::vector<std::string>& jobs) const {
        return wait_for([&] { return all_done(jobs); }, k_job_limit);
    }

    // The programs' own words, for a failure's message: streamed only when
    // an assertion fails (Boost.Test's messages are lazy).
    struct Logs {
        const SharedGrid* g;
        friend std::ostream& operator<<(std::ostream& o, const Logs& l) {
            return o << l.g->logs_text();
        }
    };
    Logs logs() const { return Logs{this}; }
    std::string logs_text() const {
        std::string s;
        for (const char* n : {"a", "b", "c"})
            if (fs::exists(t / ("site-" + std::string(n)) / ".bg.err"))
                s += std::string("\n--- site ") + n + ":\n" +
                     slurp(t / ("site-" + std::string(n)) / ".bg.err") +
                     "\n--- its mpirun.log (tail):\n" +
                     sh_out(
                         "tail -n 15 " +
                         quote((t / ("site-" + std::string(n)) / "state" / "mpirun.log").string()) +
                         " 2>&1");
        s += "\n--- serve:\n" + slurp(t / "serve" / ".bg.err");
        s += "\n--- jobs:\n";
        for (const auto& l : sql("SELECT id, tenant, state, done, failed, task_count FROM jobs"))
            s += l + "\n";
        return s;
    }

    // Every task of the job committed exactly once, the job finished.
    void check_committed_once(const std::string& job, int tasks) const {
        BOOST_TEST(
            sql("SELECT job, task, count(*) FROM commits GROUP BY 1,2 HAVING count(*)>1").empty());
        BOOST_TEST(
            sql_int("SELECT count(DISTINCT task) FROM commits WHERE job='" + job + "'") == tasks,
            job);
        BOOST_TEST(sql_int("SELECT count(*) FROM commits WHERE job='" + job + "'") == tasks, job);
        BOOST_TEST(sql_int("SELECT count(*) FROM commits WHERE job='" + job +
                           "' AND (task<0 OR task>=" + std::to_string(tasks) + ")") == 0);
        // Each commit names a successful attempt of that task.
        BOOST_TEST(sql_int("SELECT count(*) FROM commits c JOIN attempts a ON a.job=c.job AND "
                           "a.task=c.task AND "
                           "a.attempt=c.attempt AND a.state='ok' WHERE c.job='" +
                           job + "'") == tasks);
        auto st = sql("SELECT state, done, failed FROM jobs WHERE id='" + job + "'");
        BOOST_TEST_REQUIRE(st.size() == 1u, job);
        BOOST_TEST(st[0] == "finished " + std::to_string(tasks) + " 0", job);
    }

    // testgrid.sh VERB on a host (kill, cut, mend): its exit status.
    int act(const std::string& verb, const std::string& host) const {
        return std::system((quote(grid_script()) + " " + verb + " " + quote(state.string()) + " " +
                            quote(host) + " 2>/dev/null")
                               .c_str());
    }

    // Heat control on the four agents: the grid file's sources read
    // measured_a and measured_b, and each agent is restarted as its grid
    // node with that file (its site's source and controller, slot
    // throttling, a control step every 0.2 s). Returns once every agent
    // gives its worker the budget its controller decides (budget_a and
    // budget_b slots a node). Before any site starts: the sites read the
    // same file.
    // With site c (add_site_c), c1's agent too, until it gives budget_c.
    void heat_control(int measured_a, int measured_b, int budget_a, int budget_b,
                      int budget_c = 0) {
        std::ofstream(t / "grid.toml")
            << shared_grid_toml(addrs, measured_a, measured_b, measured_c);
        for (const std::string& node : grid_nodes()) {
            std::ofstream(agent_dir(node) / "agent_args")
                << "--grid\n"
                << (t / "grid.toml").string() << "\n--node\n"
                << node << "\n--throttle\nslots\n--control\n0.2\n";
            BOOST_TEST_REQUIRE(act("revive", ns_of(node)) == 0, "the agent of " << node);
        }
        for (const std::string& node : grid_nodes()) {
            const int want = node[0] == 'a' ? budget_a : node[0] == 'b' ? budget_b : budget_c;
            BOOST_TEST_REQUIRE(
                // No slot: decided by the controller, not its safe start.
                wait_for([&] { return budget(node) == want && (want > 0 || mode(node) == "cut"); },
                         std::chrono::seconds(20)),
                "the agent of " << node << " gives no budget of " << want << ": "
                                << slurp(agent_dir(node) / "agent.log"));
        }
    }
    fs::path agent_dir(const std::string& node) const { return state / "hosts" / ns_of(node); }
    std::optional<int> budget(const std::string& node) const {
        return agent_budget(agent_dir(node) / "agent.sock");
    }
    std::string mode(const std::string& node) const {
        return agent_mode(agent_dir(node) / "agent.sock");
    }

    // The namespace a grid node runs in (a1 -> h1's, ...).
    std::string ns_of(const std::string& node) const {
        static const std::map<std::string, int> idx = {
            {"a1", 0}, {"a2", 1}, {"b1", 2}, {"b2", 3}, {"c1", 4}};
        return ns.at(addrs.at(idx.at(node)));
    }
};

boost::test_tools::assertion_result shared_grid_possible(boost::unit_test::test_unit_id) {
    int code = 0;
    std::string why = trim(sh_out(quote(grid_script()) + " check 2>&1", &code));
    if (code != 0) {
        boost::test_tools::assertion_result r(false);
        r.message() << "no test grid here: " << (why.empty() ? "testgrid.sh check failed" : why);
        return r;
    }
    if (sh_out("command -v sqlite3").empty()) {
        boost::test_tools::assertion_result r(false);
        r.message() << "no sqlite3 shell to read the scheduler's queue (apt-get install sqlite3)";
        return r;
    }
    return true;
}

// Spans still open (a task that never wrote its end), as "tag/task@host".
std::vector<std::string> open_spans(const Spans& s) {
    std::vector<std::string> v;
    for (const auto& [tag, tasks] : s)
        for (const auto& [task, spans] : tasks)
            for (const auto& sp : spans)
                if (!sp.end) v.push_back(tag + "/" + std::to_string(task) + "@" + sp.host);
    return v;
}

std::size_t executions(const Spans& s, const std::string& tag) {
    std::size_t n = 0;
    auto it = s.find(tag);
    if (it == s.end()) return 0;
    for (const auto& [task, spans] : it->second) n += spans.size();
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grid_shared, *boost::unit_test::precondition(shared_grid_possible))

// Every budget an agent gave during the run, sampled five times a second.
struct BudgetSampler {
    std::map<std::string, std::pair<int, int>> seen;  // node -> least, most slots allowed
    std::mutex mu;
    std::atomic<bool> on{true};
    std::thread thread;
    explicit BudgetSampler(const SharedGrid& g) {
        thread = std::thread([this, &g] {
            while (on) {
                for (const char* node : {"a1", "a2", "b1", "b2"})
                    if (auto b = g.budget(node)) {
                        std::lock_guard l(mu);
                        auto [it, fresh] = seen.try_emplace(node, *b, *b);
                        it->second.first = std::min(it->second.first, *b);
                        it->second.second = std::max(it->second.second, *b);
                    }
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
            }
        });
    }
    std::map<std::string, std::pair<int, int>> stop() {
        on = false;
        if (thread.joinable()) thread.join();
        return seen;
    }
    ~BudgetSampler() { stop(); }
};

BOOST_AUTO_TEST_CASE(a_bank_job_and_a_studio_job_share_two_sites_fairly_within_each_node_s_slots) {
    SharedGrid g;
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    // Heat control on every node: site a's rooms are cold (every slot
    // open), site b's at their target (the controller holds half the power:
    // 1 slot of 2), so the sites' budgets, not only their slots, bound what
    // runs where.
    g.heat_control(15, 20, 2, 1);
    BudgetSampler sampler(g);
    // Both queued before any site asks, so neither gets a head start.
    const int n = 40;
    const std::string bank = g.submit("bank", "bank", n, 1.0);
    const std::string studio = g.submit("studio", "studio", n, 1.0);
    g.start_site("a");
    g.start_site("b");
    BOOST_TEST_REQUIRE(g.wait_jobs({bank, studio}), g.logs());
    const auto budgets = sampler.stop();
    g.check_committed_once(bank, n);
    g.check_committed_once(studio, n);
    // The budgets were as set up, all through the run.
    const std::map<std::string, std::pair<int, int>> expected = {
        {"a1", {2, 2}}, {"a2", {2, 2}}, {"b1", {1, 1}}, {"b2", {1, 1}}};
    for (const auto& [node, want] : expected) {
        BOOST_TEST_REQUIRE(budgets.count(node) == 1u, node << ": no budget sampled");
        BOOST_TEST(budgets.at(node).first == want.first,
                   node << " allowed as few as " << budgets.at(node).first);
        BOOST_TEST(budgets.at(node).second == want.second,
                   node << " allowed as many as " << budgets.at(node).second);
    }
    // No fault: one attempt a task, each a success, spread over both sites
    // and all four nodes.
    BOOST_TEST(g.sql_int("SELECT count(*) FROM attempts") == 2 * n, g.logs());
    BOOST_TEST(g.sql("SELECT job, task, attempt, state FROM attempts WHERE state!='ok'").empty());
    BOOST_TEST(g.sql("SELECT DISTINCT site FROM attempts ORDER BY 1") ==
               (std::vector<std::string>{"a", "b"}));
    BOOST_TEST(g.sql("SELECT DISTINCT node FROM attempts ORDER BY 1") ==
               (std::vector<std::string>{"a1", "a2", "b1", "b2"}));
    // One run a site: nothing relaunched.
    BOOST_TEST(g.sql_int("SELECT count(DISTINCT run) FROM attempts WHERE site='a'") == 1);
    BOOST_TEST(g.sql_int("SELECT count(DISTINCT run) FROM attempts WHERE site='b'") == 1);
    // Each node's agent charged every attempt that ran there.
    BOOST_TEST(g.sql_int("SELECT count(*) FROM attempts WHERE energy_uj<=0") == 0);

    // What the tasks saw: each ran once, on the node the scheduler placed it on.
    Spans s = read_spans(g.t / "spans");
    BOOST_TEST(open_spans(s).empty());
    BOOST_TEST(executions(s, "bank") == std::size_t(n));
    BOOST_TEST(executions(s, "studio") == std::size_t(n));
    std::map<std::string, std::string> job_tag = {{bank, "bank"}, {studio, "studio"}};
    for (const auto& row : g.sql("SELECT job, task, node FROM attempts")) {
        std::stringstream ss(row);
        std::string job, node;
        std::uint64_t task = 0;
        ss >> job >> task >> node;
        const auto& spans = s[job_tag[job]][task];
        BOOST_TEST_REQUIRE(spans.size() == 1u, row);
        BOOST_TEST(spans[0].host == g.ns_of(node), row);
    }
    // Never more tasks at once on a node than its 2 slots or the most its
    // heat budget allowed at any sample; no two running tasks on one node
    // bound to a common core.
    auto most = max_concurrency(s);
    BOOST_TEST(most.size() == 4u);
    for (const char* node : {"a1", "a2", "b1", "b2"}) {
        const int m = most[g.ns_of(node)];
        const int allowed = std::min(2, budgets.at(node).second);
        BOOST_TEST_MESSAGE("most tasks at once on " << node << ": " << m << " (budget " << allowed
                                                    << ")");
        BOOST_TEST(m <= allowed, node << " ran " << m << " tasks at once, its budget " << allowed);
    }
    auto shared = shared_cores(s);
    BOOST_TEST(shared.empty(), shared.size() << " overlapping pairs share a core, e.g. "
                                             << (shared.empty() ? "" : shared[0]));

    // Equal shares: each tenant's slot-time while both jobs ran within 10
    // points of half.
    auto first_last = [&](const std::string& tag) {
        std::int64_t first = std::numeric_limits<std::int64_t>::max(), last = 0;
        for (const auto& [task, spans] : s[tag])
            for (const auto& sp : spans)
                first = std::min(first, sp.start), last = std::max(last, sp.end);
        return std::pair{first, last};
    };
    auto [b0, b1] = first_last("bank");
    auto [s0, s1] = first_last("studio");
    const std::int64_t from = std::max(b0, s0), to = std::min(b1, s1);
    BOOST_TEST_REQUIRE(to - from > 3000, "the jobs overlapped only " << (to - from) << " ms");
    auto slot_ms = [&](const std::string& tag) {
        std::int64_t sum = 0;
        for (const auto& [task, spans] : s[tag])
            for (const auto& sp : spans)
                sum += std::max<std::int64_t>(0, std::min(sp.end, to) - std::max(sp.start, from));
        return sum;
    };
    const double bank_ms = slot_ms("bank"), studio_ms = slot_ms("studio");
    const double bank_share = bank_ms / (bank_ms + studio_ms);
    BOOST_TEST_MESSAGE("overlap " << (to - from) << " ms: bank " << bank_ms << " slot-ms, studio "
                                  << studio_ms << " slot-ms; bank's share " << bank_share);
    BOOST_TEST(std::abs(bank_share - 0.5) <= 0.10, "bank's share of slot-time " << bank_share);

    // The clients see it too: hearth jobs lists both, finished.
    Result jobs = g.client("operator", {"jobs", "--json"});
    BOOST_TEST_REQUIRE(jobs.code == 0, jobs.err);
    auto j = nlohmann::json::parse(jobs.out, nullptr, false);
    std::map<std::string, std::string> listed;
    for (const auto& job : j.value("jobs", nlohmann::json::array()))
        listed[job.value("id", job.value("job", ""))] = job.value("state", "");
    BOOST_TEST(listed[bank] == "finished", jobs.out);
    BOOST_TEST(listed[studio] == "finished", jobs.out);
    BOOST_TEST(g.sites["a"].stop() == 0, g.logs());
    BOOST_TEST(g.sites["b"].stop() == 0, g.logs());
}

BOOST_AUTO_TEST_CASE(
    a_host_killed_mid_job_relaunches_only_its_site_and_every_task_is_committed_once) {
    SharedGrid g;
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    const int n = 48;
    const std::string bank = g.submit("bank", "bank", n, 1.0);
    g.start_site("a");
    g.start_site("b");
    // The victim: site a's second host (a2), once work is done on both sites
    // and a2 runs a task, so that the host takes work in flight with it.
    const std::string victim = g.addrs[1];
    const std::string victim_ns = g.ns.at(victim);
    std::string run_a, run_b;
    bool ready = wait_for(
        [&] {
            if (g.sql_int("SELECT count(*) FROM commits") < 6) return false;
            if (g.sql_int("SELECT count(*) FROM attempts WHERE node='a2' AND state='running'") < 1)
                return false;
            if (g.sql_int("SELECT count(*) FROM attempts WHERE site='b'") < 1) return false;
            for (const auto& sp : open_spans(read_spans(g.t / "spans")))
                if (sp.find("@" + victim_ns) != std::string::npos) return true;
            return false;
        },
        std::chrono::seconds(90));
    BOOST_TEST_REQUIRE(ready, g.logs());
    run_a = trim(slurp(g.t / "site-a" / "state" / "run"));
    run_b = trim(slurp(g.t / "site-b" / "state" / "run"));
    BOOST_TEST_REQUIRE(!run_a.empty());
    BOOST_TEST_REQUIRE(!run_b.empty());
    const std::int64_t killed_ms = now_ms();
    BOOST_REQUIRE_EQUAL(g.act("kill", victim), 0);
    BOOST_TEST_REQUIRE(g.wait_jobs({bank}), g.logs());
    BOOST_TEST_MESSAGE("job finished " << (now_ms() - killed_ms) << " ms after the kill");
    g.check_committed_once(bank, n);

    // Only site a relaunched: a new run id there, the same one at site b.
    const std::string run_a2 = trim(slurp(g.t / "site-a" / "state" / "run"));
    BOOST_TEST(run_a2 != run_a, g.logs());
    BOOST_TEST(trim(slurp(g.t / "site-b" / "state" / "run")) == run_b);
    BOOST_TEST(g.sql("SELECT DISTINCT run FROM attempts WHERE site='b'") ==
               std::vector<std::string>{run_b});
    // The relaunched site spoke to the scheduler under its new run id (it may
    // get no work: site b can finish the job first).
    BOOST_TEST(g.sql("SELECT run FROM sites WHERE name='a'") == std::vector<std::string>{run_a2}, g.logs());
    const std::string err_a = slurp(g.t / "site-a" / ".bg.err");
    const std::string err_b = slurp(g.t / "site-b" / ".bg.err");
    BOOST_TEST(err_a.find("lost host " + victim) != std::string::npos, g.logs());
    BOOST_TEST(count_lines(sh_out("grep 'launching run' " +
                                  quote((g.t / "site-b" / ".bg.err").string()))) == 1u,
               err_b);
    // Site b lost nothing: every attempt it was given succeeded.
    BOOST_TEST(
        g.sql("SELECT task, attempt, state FROM attempts WHERE site='b' AND state!='ok'").empty());
    // What a2 held died with it: lost (not failed), and run again elsewhere.
    auto lost = g.sql("SELECT task FROM attempts WHERE node='a2' AND state IN ('lost','lapsed')");
    BOOST_TEST(!lost.empty(), g.logs());
    BOOST_TEST(g.sql("SELECT task, attempt, state FROM attempts WHERE state='failed'").empty());
    for (const auto& task : lost)
        BOOST_TEST(g.sql_int("SELECT count(*) FROM commits c JOIN attempts a USING(job, task, "
                             "attempt) WHERE c.task=" +
                             task + " AND a.node!='a2'") == 1,
                   "task " << task);
    // Nothing ran on a2 after the relaunch, and site b's tasks kept going
    // through the loss: one of them started and ended while site a recovered.
    BOOST_TEST(
        g.sql_int("SELECT count(*) FROM attempts WHERE node='a2' AND run!='" + run_a + "'") == 0);
    Spans s = read_spans(g.t / "spans");
    bool b_worked = false;
    for (const auto& [task, spans] : s["bank"])
        for (const auto& sp : spans)
            b_worked = b_worked || ((sp.host == g.ns_of("b1") || sp.host == g.ns_of("b2")) &&
                                    sp.start > killed_ms && sp.end > 0);
    BOOST_TEST(b_worked);
    for (const auto& [host, m] : max_concurrency(s))
        BOOST_TEST(m <= 2, host << " ran " << m << " tasks at once");
    BOOST_TEST(g.sites["b"].stop() == 0, g.logs());
}

BOOST_AUTO_TEST_CASE(the_scheduler_sigkilled_mid_job_and_restarted_loses_nothing) {
    SharedGrid g;
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    const int n = 32;
    const std::string bank = g.submit("bank", "bank", n, 1.0);
    const std::string studio = g.submit("studio", "studio", n, 1.0);
    g.start_site("a");
    g.start_site("b");
    bool ready = wait_for([&] { return g.sql_int("SELECT count(*) FROM commits") >= 8; },
                          std::chrono::seconds(90));
    BOOST_TEST_REQUIRE(ready, g.logs());
    g.serve.stop(SIGKILL);
    const std::int64_t killed_ms = now_ms();
    // What was committed before the kill (read once it is down: nothing moves).
    const auto committed_before = g.sql("SELECT job, task, attempt FROM commits ORDER BY 1,2");
    const auto running_before = g.sql_int("SELECT count(*) FROM attempts WHERE state='running'");
    BOOST_TEST_REQUIRE(committed_before.size() >= 8u);
    // The sites run on while it is away: wait for a task to end with no
    // scheduler to hear of it (its result kept at the site), then restart
    // on the same state and the same address.
    bool finished_while_down = wait_for(
        [&] {
            for (const auto& [tag, tasks] : read_spans(g.t / "spans"))
                for (const auto& [task, spans] : tasks)
                    for (const auto& sp : spans)
                        if (sp.end > killed_ms) return true;
            return false;
        },
        std::chrono::seconds(30));
    BOOST_TEST(finished_while_down);
    g.start_serve(std::to_string(g.port));
    BOOST_TEST_REQUIRE(g.wait_jobs({bank, studio}), g.logs());
    g.check_committed_once(bank, n);
    g.check_committed_once(studio, n);
    // Nothing committed before the kill was lost or changed.
    const auto committed_after = g.sql("SELECT job, task, attempt FROM commits ORDER BY 1,2");
    for (const auto& c : committed_before)
        BOOST_TEST(
            (std::find(committed_after.begin(), committed_after.end(), c) != committed_after.end()),
            c);
    // At most the attempts in flight at the kill ran again (none failed).
    Spans s = read_spans(g.t / "spans");
    BOOST_TEST(open_spans(s).empty());
    std::size_t repeated = 0;
    for (const auto& [tag, tasks] : s)
        for (const auto& [task, spans] : tasks) repeated += spans.size() - 1;
    BOOST_TEST_MESSAGE(running_before << " attempts running at the kill; " << repeated
                                      << " tasks ran again");
    BOOST_TEST(repeated <= std::size_t(std::max<std::int64_t>(running_before, 0)));
    BOOST_TEST(g.sql("SELECT task, attempt, state FROM attempts WHERE state='failed'").empty());
    for (const auto& [host, m] : max_concurrency(s))
        BOOST_TEST(m <= 2, host << " ran " << m << " tasks at once");
    // Neither site relaunched for it: the scheduler, not the site, was away.
    BOOST_TEST(g.sql_int("SELECT count(DISTINCT run) FROM attempts WHERE site='a'") == 1);
    BOOST_TEST(g.sql_int("SELECT count(DISTINCT run) FROM attempts WHERE site='b'") == 1);
    BOOST_TEST(g.sites["a"].stop() == 0, g.logs());
    BOOST_TEST(g.sites["b"].stop() == 0, g.logs());
}

// Site b's hearth site runs on a fifth host (h5, its gateway) that reaches
// the scheduler over an uplink of its own (testgrid.sh uplink), as a site
// reaches a scheduler over its broadband while its nodes share a LAN: cutting
// the uplink cuts site b off the scheduler while its mpirun, on the grid's
// links, runs on. (Cutting h5's grid link instead aborts its mpirun: Open
// MPI's sends fail at once on a local link that is down.) Waits until site
// b runs tasks and some are committed, then cuts; returns the time.
std::int64_t cut_site_b(SharedGrid& g) {
    bool ready = wait_for(
        [&] {
            if (g.sql_int("SELECT count(*) FROM commits") < 4) return false;
            // A task of site b that started less than half its second ago
            // (from the spans: the scheduler's "running" includes attempts
            // already ended whose result is on its way): it ends in the cut.
            const std::int64_t now = now_ms();
            const Spans s = read_spans(g.t / "spans");
            for (const auto& [tag, tasks] : s)
                for (const auto& [task, spans] : tasks)
                    for (const auto& sp : spans)
                        if (!sp.end && now - sp.start < 500 &&
                            (sp.host == g.ns_of("b1") || sp.host == g.ns_of("b2")))
                            return true;
            return false;
        },
        std::chrono::seconds(90));
    BOOST_TEST_REQUIRE(ready, g.logs());
    const std::int64_t at = now_ms();
    BOOST_TEST_REQUIRE(g.act("cut-uplink", g.addrs[4]) == 0);
    return at;
}

BOOST_AUTO_TEST_CASE(
    a_site_cut_off_shorter_than_its_lease_delivers_its_completions_once_when_back) {
    SharedGrid g(5);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    const int n = 40;
    const std::string bank = g.submit("bank", "bank", n, 1.0);
    g.start_site("a");
    BOOST_TEST_REQUIRE(g.act("uplink", g.addrs[4]) == 0);
    g.start_site("b", g.ns.at(g.addrs[4]));
    const std::string run_b = [&] {
        std::string r;
        wait_for([&] { return !(r = trim(slurp(g.t / "site-b" / "state" / "run"))).empty(); },
                 std::chrono::seconds(60));
        return r;
    }();
    BOOST_TEST_REQUIRE(!run_b.empty(), g.logs());
    const std::int64_t cut_ms = cut_site_b(g);
    // 15 s, well short of the 60 s lease: site b's tasks end meanwhile and
    // wait at the site (the job cannot finish without them).
    std::this_thread::sleep_for(std::chrono::seconds(15));
    BOOST_TEST(g.all_done({bank}) == false, "the job finished without site b's results");
    const std::int64_t mend_ms = now_ms();
    BOOST_TEST_REQUIRE(g.act("mend-uplink", g.addrs[4]) == 0);
    BOOST_TEST_REQUIRE(g.wait_jobs({bank}), g.logs());
    g.check_committed_once(bank, n);
    // No attempt lost, lapsed or failed: the site kept what it ran.
    BOOST_TEST(g.sql("SELECT site, task, attempt, state FROM attempts WHERE state!='ok'").empty(),
               g.logs());
    BOOST_TEST(g.sql_int("SELECT count(*) FROM attempts") == n);
    // Site b ran on through the cut: the same run, no relaunch.
    BOOST_TEST(trim(slurp(g.t / "site-b" / "state" / "run")) == run_b);
    BOOST_TEST(g.sql("SELECT DISTINCT run FROM attempts WHERE site='b'") ==
               std::vector<std::string>{run_b});
    // The dispatcher's words (in the site's mpirun.log: rank 0 writes through
    // mpirun, whose forwarding may lag the reply that let the job finish).
    std::string err_b;
    wait_for(
        [&] {
            err_b = slurp(g.t / "site-b" / "state" / "mpirun.log");
            return err_b.find("the scheduler answers again") != std::string::npos;
        },
        std::chrono::seconds(10));
    BOOST_TEST(err_b.find("no answer from the scheduler") != std::string::npos, err_b);
    BOOST_TEST(err_b.find("the scheduler answers again") != std::string::npos, err_b);
    // Tasks of site b that ended during the cut: each ran once and was
    // committed once, after the link came back.
    Spans s = read_spans(g.t / "spans");
    BOOST_TEST(open_spans(s).empty());
    int ended_in_cut = 0;
    for (const auto& [task, spans] : s["bank"]) {
        BOOST_TEST(spans.size() == 1u, "task " << task << " ran " << spans.size() << " times");
        for (const auto& sp : spans) {
            if (sp.host != g.ns_of("b1") && sp.host != g.ns_of("b2")) continue;
            if (sp.end <= cut_ms || sp.end >= mend_ms) continue;
            ++ended_in_cut;
            BOOST_TEST(g.sql_int("SELECT committed_ms FROM commits WHERE job='" + bank +
                                 "' AND task=" + std::to_string(task)) >= mend_ms,
                       "task " << task);
        }
    }
    BOOST_TEST(ended_in_cut >= 1);
    BOOST_TEST_MESSAGE(ended_in_cut << " of site b's tasks ended while it was cut off");
    BOOST_TEST(g.sites["b"].stop() == 0, g.logs());
}

BOOST_AUTO_TEST_CASE(
    a_site_cut_off_past_its_lease_has_its_tasks_rerun_elsewhere_each_committed_once) {
    SharedGrid g(5, "12s");
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    const int n = 40;
    const std::string bank = g.submit("bank", "bank", n, 1.0);
    g.start_site("a");
    BOOST_TEST_REQUIRE(g.act("uplink", g.addrs[4]) == 0);
    g.start_site("b", g.ns.at(g.addrs[4]));
    const std::int64_t cut_ms = cut_site_b(g);
    // hearth serve --lease 12s: site b's attempts lapse about 12 s into the
    // cut (its last request came at most a third of the lease before it).
    const bool lapsed = wait_for(
        [&] {
            return g.sql_int("SELECT count(*) FROM attempts WHERE site='b' AND state='lapsed'") > 0;
        },
        std::chrono::seconds(100));
    BOOST_TEST_REQUIRE(lapsed, g.logs());
    BOOST_TEST_MESSAGE("site b's attempts lapsed " << (now_ms() - cut_ms) << " ms into the cut");
    BOOST_TEST(now_ms() - cut_ms >= 7000);
    // Their tasks rerun at site a, and the job finishes while b is still cut off.
    BOOST_TEST_REQUIRE(g.wait_jobs({bank}), g.logs());
    g.check_committed_once(bank, n);
    const auto lapsed_tasks =
        g.sql("SELECT DISTINCT task FROM attempts WHERE site='b' AND state='lapsed'");
    BOOST_TEST(!lapsed_tasks.empty());
    for (const auto& task : lapsed_tasks)
        BOOST_TEST(
            g.sql_int(
                "SELECT count(*) FROM commits c JOIN attempts a USING(job, task, attempt) WHERE "
                "c.task=" +
                task + " AND a.site='a' AND a.attempt>=2") == 1,
            "task " << task);
    // Back on the network: site b delivers what it finished meanwhile; late
    // successes are recorded (as ok, "late") and none commits a task again.
    const std::int64_t mend_ms = now_ms();
    BOOST_TEST_REQUIRE(g.act("mend-uplink", g.addrs[4]) == 0);
    const bool delivered = wait_for(
        [&] {
            return g.sql_int("SELECT count(*) FROM attempts WHERE site='b' AND state='lapsed'") ==
                   0;
        },
        std::chrono::seconds(120));
    BOOST_TEST(delivered, g.logs());
    BOOST_TEST(
        g.sql_int(
            "SELECT count(*) FROM attempts WHERE site='b' AND reason LIKE 'late%' AND ended_ms>=" +
            std::to_string(mend_ms)) >= 1,
        g.logs());
    g.check_committed_once(bank, n);
    BOOST_TEST(g.sql("SELECT task, attempt, state FROM attempts WHERE state='failed'").empty());
    BOOST_TEST(g.sites["b"].stop() == 0, g.logs());
}

// What site c held (its state/held.json, rewritten after every reply: the
// attempts its workers run or keep queued) and c1's heat budget, sampled ten
// times a second while the other sites run the jobs.
struct HeldSampler {
    std::atomic<bool> on{true};
    std::atomic<int> samples{0}, most_held{0}, most_budget{-1};
    std::thread thread;
    explicit HeldSampler(const SharedGrid& g) {
        thread = std::thread([this, &g] {
            while (on) {
                auto j = nlohmann::json::parse(slurp(g.t / "site-c" / "state" / "held.json"),
                                               nullptr, false);
                if (j.is_object() && j.contains("held") && j["held"].is_array()) {
                    ++samples;
                    most_held = std::max<int>(most_held, static_cast<int>(j["held"].size()));
                }
                if (auto b = g.budget("c1")) most_budget = std::max<int>(most_budget, *b);
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        });
    }
    void stop() {
        on = false;
        if (thread.joinable()) thread.join();
    }
    ~HeldSampler() { stop(); }
};

// The most attempts out at once on each node, as the scheduler saw them
// (granted to ended: queued at the site or running), from its attempts.
std::map<std::string, int> most_out(const SharedGrid& g) {
    std::map<std::string, std::vector<std::pair<std::int64_t, int>>> ev;
    for (const auto& row : g.sql("SELECT node, started_ms, ended_ms FROM attempts")) {
        std::stringstream ss(row);
        std::string node;
        std::int64_t a = 0, b = 0;
        ss >> node >> a >> b;
        ev[node].emplace_back(a, 1);
        ev[node].emplace_back(b, -1);
    }
    std::map<std::string, int> most;
    for (auto& [node, e] : ev) {
        std::sort(e.begin(), e.end());
        int now = 0;
        for (const auto& [at, d] : e) most[node] = std::max(most[node], now += d);
    }
    return most;
}

// A third site whose room is warm (25 C against a target of 20, band 1):
// its heat source wants no heat, its agent cuts it to no slot, and the site
// neither runs nor holds queued (prefetched) any task while sites a and b
// finish the jobs, though it keeps asking. Then its source asks for heat:
// the next job runs there. Tasks are short, so that sites a and b do
// prefetch past their slots meanwhile.
BOOST_AUTO_TEST_CASE(a_site_that_wants_no_heat_holds_no_work_until_its_source_asks_for_heat) {
    SharedGrid g(5);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    g.add_site_c(25);
    g.heat_control(15, 15, 2, 2, 0);
    g.restart_serve();  // it reads site c and its token
    const int n = 120;
    const std::string bank = g.submit("bank", "bank", n, 0.02);
    const std::string studio = g.submit("studio", "studio", n, 0.02);
    const std::int64_t queued_ms = now_ms();
    HeldSampler sampler(g);
    g.start_site("c");
    g.start_site("a");
    g.start_site("b");
    BOOST_TEST_REQUIRE(g.wait_jobs({bank, studio}), g.logs());
    sampler.stop();
    g.check_committed_once(bank, n);
    g.check_committed_once(studio, n);
    // Site c asked all along (its lease was renewed after the jobs were
    // queued), was granted nothing (a grant is an attempt row from the
    // moment it is made, queued at the site or not), held nothing, and no
    // task ran on its host; c1's budget stayed at no slot.
    BOOST_TEST(g.sql_int("SELECT count(*) FROM sites WHERE name='c' AND lease_expires_ms>" +
                         std::to_string(queued_ms)) == 1,
               g.logs());
    BOOST_TEST(g.sql_int("SELECT count(*) FROM attempts WHERE site='c'") == 0, g.logs());
    BOOST_TEST(sampler.samples > 0, "site c never wrote its held attempts: " << g.logs());
    BOOST_TEST(sampler.most_held == 0, "site c held " << sampler.most_held << " attempts");
    BOOST_TEST(sampler.most_budget == 0, "c1's budget reached " << sampler.most_budget);
    Spans s = read_spans(g.t / "spans");
    for (const auto& [tag, tasks] : s)
        for (const auto& [task, spans] : tasks)
            for (const auto& sp : spans) BOOST_TEST(sp.host != g.ns_of("c1"), tag << "/" << task);
    // The sites that want heat did prefetch: more attempts out on a node at
    // once than its 2 slots (never more running: the spans).
    const auto out = most_out(g);
    int most = 0;
    for (const char* node : {"a1", "a2", "b1", "b2"}) {
        const int o = out.count(node) ? out.at(node) : 0;
        BOOST_TEST_MESSAGE("most attempts out at once on " << node << ": " << o);
        most = std::max(most, o);
    }
    BOOST_TEST(most > 2, "no node held more than its slots: no prefetch");
    for (const auto& [host, m] : max_concurrency(s)) BOOST_TEST(m <= 2, host << " ran " << m);

    // Sites a and b go away, and c's room turns cold: as a facility would
    // say, with `hearth heat measured` through the site's agent. (A budget
    // reaches a worker within a second, so a's and b's going warm instead
    // could still start a task or two there meanwhile.)
    BOOST_TEST(g.sites["a"].stop() == 0, g.logs());
    BOOST_TEST(g.sites["b"].stop() == 0, g.logs());
    std::string token;
    for (const auto& l : lines_of(slurp(g.state / "env")))
        if (l.rfind("export HEARTH_TOKEN='", 0) == 0) token = l.substr(21, l.size() - 22);
    BOOST_TEST_REQUIRE(!token.empty(), "no token in " << (g.state / "env"));
    Result r = run_hearth({"heat", "measured", "c", "15", "--grid", (g.t / "grid.toml").string()},
                          g.t / "client", "env -u HEARTH_TOKEN_FILE HEARTH_TOKEN=" + quote(token));
    BOOST_TEST_REQUIRE(r.code == 0, "hearth heat measured: " << r.err << r.out);
    BOOST_TEST_REQUIRE(wait_for([&] { return g.budget("c1") == 2; }, std::chrono::seconds(20)),
                       "c1 gives no budget of 2: " << slurp(g.agent_dir("c1") / "agent.log"));
    const std::string late = g.submit("bank", "late", 10, 0.02);
    BOOST_TEST_REQUIRE(g.wait_jobs({late}), g.logs());
    g.check_committed_once(late, 10);
    BOOST_TEST(g.sql("SELECT DISTINCT site FROM attempts WHERE job='" + late + "'") ==
                   std::vector<std::string>{"c"},
               g.logs());
    s = read_spans(g.t / "spans");
    BOOST_TEST(executions(s, "late") == 10u);
    for (const auto& [task, spans] : s["late"])
        for (const auto& sp : spans) BOOST_TEST(sp.host == g.ns_of("c1"), "late/" << task);
    BOOST_TEST(g.sites["c"].stop() == 0, g.logs());
}

BOOST_AUTO_TEST_SUITE_END()

// Hostile tenants on the shared grid (issue 18): one site's worker runs a
// bank task and, as the studio, tasks that try to reach it. Each refusal is
// a case of its own; the grid is made once for the suite.
namespace {

struct HostileGrid {
    SharedGrid g;
    fs::path rv;  // where the tasks leave what they saw (world-writable)
    std::string bank_dir, bank_pid;
    int probes = 0;
    HostileGrid() {
        if (!g.up()) return;
        rv = g.t / "rv";
        fs::create_directories(rv);
        fs::permissions(rv, fs::perms::all);
        g.start_site("a");
        const std::string r = rv.string();
        const fs::path sh = rv / "bank.sh";
        std::ofstream(sh) << "echo bank-secret > secret.txt\n"
                          << "pwd > " << r << "/bank.dir.tmp; echo $$ > " << r << "/bank.pid\n"
                          << "mv " << r << "/bank.dir.tmp " << r << "/bank.dir\n"
                          << "exec env BANK_KEY=s3cr3t sh -c 'while [ ! -e " << r
                          << "/release ]; do sleep 0.1; done'\n";
        fs::permissions(sh, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
        Result s = g.client("tenant:bank", {"submit", "--count", "1", "--", "sh", sh.string()});
        BOOST_TEST_REQUIRE(s.code == 0, s.err);
        wait_for([&] { return fs::exists(rv / "bank.dir"); }, std::chrono::seconds(60));
        bank_dir = trim(slurp(rv / "bank.dir"));
        bank_pid = trim(slurp(rv / "bank.pid"));
    }
    ~HostileGrid() {
        if (!rv.empty()) std::ofstream(rv / "release") << "1";
    }
    // Runs script as a studio task on the same site's worker; what it printed.
    std::string as_studio(const std::string& script) {
        const std::string n = std::to_string(++probes);
        const fs::path sh = rv / ("studio" + n + ".sh");
        const std::string out = (rv / ("studio" + n + ".out")).string();
        std::ofstream(sh) << "exec > " << out << " 2>&1\n" << script << "\nexit 0\n";
        fs::permissions(sh, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
        Result r = g.client("tenant:studio", {"run", "--count", "1", "--", "sh", sh.string()});
        BOOST_TEST_INFO("hearth run --server: " << r.err);
        BOOST_TEST(r.code == 0);
        const std::string said = slurp(out);
        BOOST_TEST_MESSAGE("studio task said: " << said);
        return said;
    }
};

HostileGrid* g_hostile = nullptr;
struct HostileFixture {
    std::unique_ptr<HostileGrid> owned;
    void setup() {
        owned = std::make_unique<HostileGrid>();
        g_hostile = owned.get();
    }
    void teardown() {
        g_hostile = nullptr;
        owned.reset();
    }
};

bool refused_here(const std::string& out) {
    return out.find("Permission denied") != std::string::npos ||
           out.find("Operation not permitted") != std::string::npos ||
           out.find("PermissionError") != std::string::npos;
}

HostileGrid& hostile() {
    BOOST_TEST_REQUIRE(g_hostile != nullptr);
    BOOST_TEST_REQUIRE(!g_hostile->bank_dir.empty(),
                       "the bank's task did not start: " << g_hostile->g.logs());
    return *g_hostile;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grid_shared_tenants, *boost::unit_test::precondition(shared_grid_possible) *
                                               boost::unit_test::fixture<HostileFixture>())

BOOST_AUTO_TEST_CASE(on_the_shared_grid_a_studio_task_cannot_read_the_banks_scratch) {
    HostileGrid& h = hostile();
    const std::string out = h.as_studio("cat " + h.bank_dir + "/secret.txt; ls " + h.bank_dir);
    BOOST_TEST(out.find("bank-secret") == std::string::npos, out);
    BOOST_TEST(refused_here(out), out);
}

BOOST_AUTO_TEST_CASE(on_the_shared_grid_a_studio_task_cannot_read_the_banks_environment) {
    HostileGrid& h = hostile();
    const std::string out = h.as_studio("cat /proc/" + h.bank_pid + "/environ");
    BOOST_TEST(out.find("s3cr3t") == std::string::npos, out);
    BOOST_TEST(refused_here(out), out);
}

BOOST_AUTO_TEST_CASE(on_the_shared_grid_a_studio_task_cannot_signal_the_banks_task) {
    HostileGrid& h = hostile();
    const std::string out = h.as_studio("kill -STOP " + h.bank_pid + "; kill -KILL " + h.bank_pid);
    BOOST_TEST(refused_here(out), out);
    BOOST_TEST(fs::exists("/proc/" + h.bank_pid), "the bank's task was killed");
}

BOOST_AUTO_TEST_CASE(on_the_shared_grid_a_studio_task_cannot_write_under_the_banks_job_directory) {
    HostileGrid& h = hostile();
    const std::string job_dir = fs::path(h.bank_dir).parent_path().string();
    const std::string out =
        h.as_studio("touch " + job_dir + "/planted; touch " + h.bank_dir + "/planted");
    BOOST_TEST(!fs::exists(job_dir + "/planted"));
    BOOST_TEST(!fs::exists(h.bank_dir + "/planted"));
    BOOST_TEST(refused_here(out), out);
}

BOOST_AUTO_TEST_CASE(on_the_shared_grid_a_studio_task_cannot_reach_any_agents_socket) {
    HostileGrid& h = hostile();
    std::string sockets;
    for (const auto& e : fs::directory_iterator(h.g.state / "hosts"))
        if (fs::exists(e.path() / "agent.sock"))
            sockets += " " + (e.path() / "agent.sock").string();
    BOOST_TEST_REQUIRE(!sockets.empty(), "no agent sockets under " << h.g.state);
    const std::string out = h.as_studio(
        "for s in" + sockets +
        "; do python3 -c \"import socket,sys; s = socket.socket(socket.AF_UNIX); "
        "s.connect(sys.argv[1]); s.sendall(b'{}'); print('CONNECTED', s.recv(99))\" $s; done");
    BOOST_TEST(out.find("CONNECTED") == std::string::npos, out);
    BOOST_TEST(refused_here(out), out);
}

BOOST_AUTO_TEST_SUITE_END()
