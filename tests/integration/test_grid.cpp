// Multi-host jobs on the test grid (tests/grid/testgrid.sh): test hosts are
// network namespaces on a bridge, which mpirun reaches through
// tests/grid/netns-ssh as it would reach real nodes over ssh. Where
// namespaces cannot be made (not root, no `ip netns`) the suite is skipped
// and says why.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <optional>

#include "harness.hpp"
#include "testgrid.hpp"

using namespace hearth::test;

namespace {

// Every limit on a command: a stuck mpirun must fail the test, not hang it.
constexpr int k_limit_s = 120;

// A grid for one test, torn down by the destructor whatever happens.
struct Grid {
    fs::path state;
    std::vector<std::string> addrs;         // in host order: h1, h2, ...
    std::map<std::string, std::string> ns;  // address -> namespace
    std::string up_output;

    explicit Grid(int n, const std::string& opts = "") {
        const char* a = std::getenv("GRID_AGENT_BIN");
        std::string agent = fs::absolute(a && *a ? a : "build/bin/grid-agent").string();
        up_output = sh_out("GRID_AGENT_BIN=" + quote(agent) + " " + quote(grid_script()) + " up " +
                           std::to_string(n) + " " + opts + " 2>&1");
        auto ls = lines_of(up_output);
        if (!ls.empty() && fs::exists(fs::path(ls.back()) / "env")) state = ls.back();
        if (state.empty()) return;
        for (const auto& l : lines_of(slurp(state / "hosts.map"))) {
            std::stringstream ss(l);
            std::string addr, name;
            ss >> addr >> name;
            addrs.push_back(addr);
            ns[addr] = name;
        }
    }
    ~Grid() {
        if (!state.empty())
            std::system((quote(grid_script()) + " down " + quote(state.string())).c_str());
    }
    Grid(const Grid&) = delete;
    Grid& operator=(const Grid&) = delete;

    bool up() const { return !state.empty() && !addrs.empty(); }
    std::string hostfile() const { return (state / "hostfile").string(); }
    // The shell prefix that puts a command on the grid: its launch agent and interfaces.
    std::string env() const { return ". " + quote((state / "env").string()) + " &&"; }
    int act(const std::string& verb, const std::string& host) const {
        return std::system((quote(grid_script()) + " " + verb + " " + quote(state.string()) + " " +
                            quote(host) + " 2>/dev/null")
                               .c_str());
    }
};

std::string hearth_cmd(const Grid& g, const std::vector<std::string>& args, const fs::path& cwd) {
    std::string cmd = "cd " + quote(cwd.string()) + " && " + g.env() + " exec timeout -k 5 " +
                      std::to_string(k_limit_s) + " " + quote(hearth_bin());
    for (const auto& a : args) cmd += " " + quote(a);
    return cmd;
}

Result run_on(const Grid& g, const std::vector<std::string>& args, const fs::path& cwd) {
    std::string cmd = hearth_cmd(g, args, cwd) + " >" + quote((cwd / ".out").string()) + " 2>" +
                      quote((cwd / ".err").string()) + " </dev/null";
    int st = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(cwd / ".out");
    r.err = slurp(cwd / ".err");
    return r;
}

pid_t start_on(const Grid& g, const std::vector<std::string>& args, const fs::path& cwd) {
    std::string cmd = hearth_cmd(g, args, cwd) + " >" + quote((cwd / ".bg.out").string()) + " 2>" +
                      quote((cwd / ".bg.err").string()) + " </dev/null";
    pid_t pid = -1;
    std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), cmd.data(),
                               nullptr};
    ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
    return pid;
}

// Commits per task, from the journal's "done" records.
std::map<std::uint64_t, int> commits(const fs::path& job) {
    std::map<std::uint64_t, int> c;
    for (const auto& r : journal(job))
        if (r["e"] == "done") c[r["t"].get<std::uint64_t>()]++;
    return c;
}

// The node each task was committed on.
std::map<std::uint64_t, std::string> done_nodes(const fs::path& job) {
    std::map<std::uint64_t, std::string> n;
    for (const auto& r : journal(job))
        if (r["e"] == "done") n[r["t"].get<std::uint64_t>()] = r["n"].get<std::string>();
    return n;
}

void check_each_task_committed_once(const fs::path& job, std::uint64_t tasks) {
    auto c = commits(job);
    BOOST_TEST(c.size() == tasks);
    for (const auto& [task, n] : c)
        BOOST_TEST(n == 1, "task " << task << " committed " << n << " times");
}

// Why a test grid cannot be made here, for the skip message.
boost::test_tools::assertion_result grid_possible(boost::unit_test::test_unit_id) {
    int code = 0;
    std::string why = trim(sh_out(quote(grid_script()) + " check 2>&1", &code));
    boost::test_tools::assertion_result r(code == 0);
    if (code != 0)
        r.message() << "no test grid here: " << (why.empty() ? "testgrid.sh check failed" : why);
    return r;
}

// Loses a host (testgrid.sh `how`: kill or cut) while a 30-task job runs in
// t, checks that the job completes without it and names it; returns it.
std::string lose_a_host_mid_job(const Grid& g, const TempDir& t, const std::string& how) {
    pid_t pid = start_on(g,
                         {"run", "--tenant", "t", "--hosts", g.hostfile(), "--count", "30",
                          "--job-dir", "job", "--", "sh", "-c", "sleep 0.5"},
                         t.path);
    // The victim: the host of the attempt started last, once some work is
    // done, so that the host takes work in flight with it.
    std::string victim;
    std::uint64_t victim_task = 0;
    bool chosen = wait_for(
        [&] {
            std::vector<std::pair<std::uint64_t, std::string>> started;
            std::set<std::uint64_t> ended;
            std::size_t done = 0;
            for (const auto& r : json_lines(slurp(t / "job/journal"))) {
                if (r["e"] == "start")
                    started.emplace_back(r["t"].get<std::uint64_t>(), r["n"].get<std::string>());
                if (r["e"] == "done" || r["e"] == "fail") ended.insert(r["t"].get<std::uint64_t>());
                done += r["e"] == "done";
            }
            if (done < 6 || started.empty() || ended.count(started.back().first)) return false;
            std::tie(victim_task, victim) = started.back();
            return true;
        },
        std::chrono::seconds(60));
    if (!chosen) ::kill(pid, SIGKILL);
    BOOST_REQUIRE(chosen);
    auto killed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    BOOST_REQUIRE_EQUAL(g.act(how, victim), 0);
    int code = wait_exit(pid);
    std::string err = slurp(t / ".bg.err");
    BOOST_TEST_INFO(err);
    BOOST_REQUIRE_EQUAL(code, 0);

    check_each_task_committed_once(t / "job", 30);
    // The journal marks the host down, naming the attempts lost with it; the
    // relaunch leaves it out and nothing is committed from it afterwards.
    std::optional<nlohmann::json> down;
    bool after_down = false;
    for (const auto& r : journal(t / "job")) {
        if (r["e"] == "node" && r["state"] == "down") {
            BOOST_TEST(r["n"] == victim);
            down = r;
        }
        if (down && r["e"] == "done") {
            after_down = true;
            BOOST_TEST(r["n"] != victim);
        }
    }
    BOOST_REQUIRE(down.has_value());
    BOOST_TEST(after_down);
    double noticed_s = ((*down)["ts"].get<std::int64_t>() - killed_ms) / 1000.0;
    BOOST_TEST_MESSAGE("host " << victim << " lost (" << how << "); marked down " << noticed_s
                               << " s later");
    bool lost_listed = false;
    for (const auto& l : (*down)["lost"]) lost_listed = lost_listed || l[0] == victim_task;
    BOOST_TEST(lost_listed, "task " << victim_task << " in flight on " << victim << " not listed");
    // The lost attempt was run again elsewhere, with the next attempt number.
    for (const auto& r : journal(t / "job"))
        if (r["e"] == "done" && r["t"] == victim_task) {
            BOOST_TEST(r["n"] != victim);
            BOOST_TEST(r["a"].get<int>() >= 2);
        }
    auto launch = nlohmann::json::parse(slurp(t / "job/launch.json"));
    BOOST_TEST(launch["ranks"].size() == 2u);
    for (const auto& rk : launch["ranks"]) BOOST_TEST(rk["host"] != victim);

    // The summary names the host and what it cost.
    auto s = summary(t / "job");
    BOOST_TEST(s["state"] == "finished");
    BOOST_TEST(s["launches"] == 2);
    BOOST_REQUIRE_EQUAL(s["lost_hosts"].size(), 1u);
    const auto& lost = s["lost_hosts"][0];
    BOOST_TEST(lost["host"] == victim);
    BOOST_TEST(lost["reason"].get<std::string>().find("No route to host") != std::string::npos);
    BOOST_TEST(lost["attempts"].size() == (*down)["lost"].size());
    BOOST_TEST(err.find("lost host " + victim) != std::string::npos);
    // JSON Lines consumers see the node go down.
    bool event = false;
    for (const auto& ev : json_lines(slurp(t / ".bg.out")))
        event = event ||
                (ev.value("event", "") == "node" && ev["state"] == "down" && ev["node"] == victim);
    BOOST_TEST(event);
    return victim;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grid, *boost::unit_test::precondition(grid_possible))

BOOST_AUTO_TEST_CASE(testgrid_run_runs_a_job_on_three_hosts_and_leaves_nothing_behind) {
    TempDir t;
    std::string prefix = "gt" + std::to_string(::getpid() % 1000000);
    // Each task says where it ran: its host's address and host name (each
    // test host is named after its namespace).
    std::string job_cmd =
        quote(hearth_bin()) +
        " run --tenant t --hosts \"$HEARTH_GRID_HOSTFILE\" --count 9 --collect 'where_*.txt'"
        " --job-dir job -- sh -c 'echo {task} $(hostname -I) $(hostname) > "
        "where_{task}.txt; sleep 0.3'";
    std::string cmd = "cd " + quote(t.path.string()) + " && HEARTH_GRID_PREFIX=" + prefix +
                      " timeout -k 5 " + std::to_string(k_limit_s) + " " + quote(grid_script()) +
                      " run 3 -- sh -c " +
                      quote(job_cmd + " && cat \"$HEARTH_GRID_HOSTFILE\" > hosts.seen") +
                      " >.out 2>.err </dev/null";
    int st = std::system(cmd.c_str());
    BOOST_TEST_INFO(slurp(t / ".err"));
    BOOST_REQUIRE_EQUAL(WEXITSTATUS(st), 0);

    std::vector<std::string> hosts;
    for (const auto& l : lines_of(slurp(t / "hosts.seen")))
        hosts.push_back(l.substr(0, l.find(' ')));
    BOOST_REQUIRE_EQUAL(hosts.size(), 3u);
    for (const auto& h : hosts) BOOST_TEST(h.rfind("198.18.", 0) == 0u, h);
    check_each_task_committed_once(t / "job", 9);
    auto nodes = done_nodes(t / "job");
    std::set<std::string> used;
    for (const auto& [task, node] : nodes) {
        used.insert(node);
        // The collected file came back to the submit host and names the
        // namespace of the node the journal says ran the task.
        std::string where = slurp(t / ("job/out/where_" + std::to_string(task) + ".txt"));
        std::stringstream ss(where);
        std::uint64_t said_task = 0;
        std::string addr, ns;
        ss >> said_task >> addr >> ns;
        BOOST_TEST(said_task == task);
        BOOST_TEST(addr == node,
                   "task " << task << " ran at " << addr << ", journal says " << node);
        std::size_t i = std::find(hosts.begin(), hosts.end(), node) - hosts.begin();
        BOOST_TEST(ns == prefix + "-h" + std::to_string(i + 1));
    }
    BOOST_TEST(used == std::set<std::string>(hosts.begin(), hosts.end()));
    // The trap tore it all down: no namespace, no link, no state left.
    BOOST_TEST(sh_out("ip netns list | grep -c '^" + prefix + "-' || true") == "0\n");
    BOOST_TEST(sh_out("ip -o link show | grep -c ' " + prefix + "-' || true") == "0\n");
    BOOST_TEST(sh_out("ls -d ${TMPDIR:-/tmp}/hearth-grid-" + prefix + "-* 2>/dev/null | wc -l") ==
               "0\n");
}

BOOST_AUTO_TEST_CASE(rank_0_dispatches_from_the_submit_host_and_each_host_runs_a_worker) {
    Grid g(3);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    // The submit host is a node too: local nodes share rank 0's hostfile line.
    std::ofstream(t / "hosts") << "localhost slots=1\n" << slurp(g.hostfile());
    pid_t pid = start_on(g,
                         {"run", "--tenant", "t", "--hosts", (t / "hosts").string(), "--count",
                          "12", "--job-dir", "job", "--", "sh", "-c", "sleep 0.7"},
                         t.path);
    bool all_up = wait_for(
        [&] {
            int up = 0;
            for (const auto& r : json_lines(slurp(t / "job/journal"))) up += r["e"] == "node";
            return up == 4;
        },
        std::chrono::seconds(60));
    // Where each rank runs, from the processes themselves: rank and network namespace.
    std::map<int, std::string> rank_ns;
    std::string job_dir = fs::absolute(t / "job").string();
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::string pid_s = e.path().filename().string();
        if (pid_s.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline = slurp(e.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (cmdline.find(" worker " + job_dir) == std::string::npos) continue;
        std::string environ_s = slurp(e.path() / "environ");
        auto at = environ_s.find("OMPI_COMM_WORLD_RANK=");
        if (at == std::string::npos) continue;
        int rank = std::stoi(environ_s.substr(at + 21));
        rank_ns[rank] = trim(sh_out("ip netns identify " + pid_s + " 2>/dev/null"));
    }
    int code = wait_exit(pid);
    BOOST_TEST_INFO(slurp(t / ".bg.err"));
    BOOST_REQUIRE(all_up);
    BOOST_REQUIRE_EQUAL(code, 0);
    // Rank 0 (the dispatcher) and the local worker on the submit host (no
    // namespace); one worker in each test host's namespace.
    BOOST_REQUIRE_EQUAL(rank_ns.size(), 5u);
    BOOST_TEST(rank_ns[0] == "");
    BOOST_TEST(rank_ns[1] == "");
    std::set<std::string> worker_ns;
    for (int r = 2; r <= 4; ++r) worker_ns.insert(rank_ns[r]);
    std::set<std::string> grid_ns;
    for (const auto& [addr, name] : g.ns) grid_ns.insert(name);
    BOOST_TEST(worker_ns == grid_ns);
    BOOST_TEST(lines_of(slurp(t / "job/mpi-hosts")).at(1) == "localhost slots=2");
    check_each_task_committed_once(t / "job", 12);
    std::set<std::string> used;
    for (const auto& [task, node] : done_nodes(t / "job")) used.insert(node);
    std::set<std::string> want(g.addrs.begin(), g.addrs.end());
    want.insert("localhost");
    BOOST_TEST(used == want);
}

BOOST_AUTO_TEST_CASE(each_host_s_agent_charges_the_tasks_that_ran_there) {
    Grid g(3, "--agents");
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    Result r = run_on(g,
                      {"run", "--tenant", "bank", "--hosts", g.hostfile(), "--count", "9",
                       "--job-dir", "job", "--", "sh", "-c", "sleep 0.3"},
                      t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    check_each_task_committed_once(t / "job", 9);
    // What each node's attempts were charged (journal), against what each
    // host's own agent booked in its own ledger, asked over the network.
    std::map<std::string, std::uint64_t> journal_uj;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done") {
            BOOST_TEST(rec.contains("uj"));
            journal_uj[rec["n"].get<std::string>()] += rec.value("uj", std::uint64_t{0});
        }
    BOOST_TEST(journal_uj.size() == 3u);
    auto s = summary(t / "job");
    Result e = run_on(g,
                      {"energy", "--hosts", g.hostfile(), "--job", s["job"].get<std::string>(),
                       "--by", "node", "--format", "json"},
                      t.path);
    BOOST_TEST_INFO(e.err);
    BOOST_REQUIRE_EQUAL(e.code, 0);
    auto j = nlohmann::json::parse(e.out);
    std::map<std::string, std::uint64_t> ledger_uj;
    for (const auto& row : j["rows"])
        ledger_uj[row["node"].get<std::string>()] = row["energy_uj"].get<std::uint64_t>();
    BOOST_TEST((ledger_uj == journal_uj));
    BOOST_TEST(j["total_uj"] == s["energy_uj"]);
}

BOOST_AUTO_TEST_CASE(a_host_that_dies_mid_job_is_marked_down_and_the_job_completes) {
    Grid g(3);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    std::string victim = lose_a_host_mid_job(g, t, "kill");

    // The host comes back and rejoins the next job.
    BOOST_REQUIRE_EQUAL(g.act("revive", victim), 0);
    Result again = run_on(g,
                          {"run", "--tenant", "t", "--hosts", g.hostfile(), "--count", "9",
                           "--job-dir", "again", "--", "sh", "-c", "sleep 0.3"},
                          t.path);
    BOOST_TEST_INFO(again.err);
    BOOST_REQUIRE_EQUAL(again.code, 0);
    check_each_task_committed_once(t / "again", 9);
    bool back = false;
    for (const auto& r : journal(t / "again"))
        back = back || (r["e"] == "node" && r["n"] == victim && r["state"] == "up");
    BOOST_TEST(back);
    BOOST_TEST(summary(t / "again")["lost_hosts"].empty());
}

BOOST_AUTO_TEST_CASE(a_host_cut_off_the_network_is_marked_down_and_its_orphans_stop) {
    Grid g(3);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    // Its processes live on behind a dead link, as on a site whose broadband
    // dropped: mpirun hears nothing (no FIN, no RST) and must not wait forever.
    std::string victim = lose_a_host_mid_job(g, t, "cut");
    // Cut off from mpirun, the host's daemon gives up too and takes the
    // worker and its tasks with it: nothing runs on there for nobody.
    std::string left;
    bool stopped = wait_for(
        [&] {
            left = sh_out("ip netns pids " + quote(g.ns.at(victim)));
            return left.empty();
        },
        std::chrono::seconds(30));
    BOOST_TEST(stopped, "processes left on " << victim << ": " << left);
}

BOOST_AUTO_TEST_SUITE_END()
