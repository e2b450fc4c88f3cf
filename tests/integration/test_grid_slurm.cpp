// Hearth inside Slurm allocations on a real Slurm cluster: the test grid's
// Slurm mode (tests/grid/testgrid.sh up N --slurm; slurmctld on a login node
// h0, a slurmd on each test host). Commands run on the login node as a user
// would: salloc ... hearth run, sbatch --wrap 'hearth run ...'. Skipped, with
// the reason, where namespaces or Slurm are not available.
//
// slurm_input needs no cluster: an allocation Hearth cannot use, as Slurm's
// environment describes it, is refused before anything starts.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <regex>

#include "harness.hpp"
#include "serve_http.hpp"
#include "testgrid.hpp"

using namespace hearth::test;

namespace {

// Every limit on a command: a stuck allocation must fail the test, not hang it.
constexpr int k_limit_s = 120;

// A Slurm test grid for one test, torn down by the destructor whatever happens.
struct SlurmGrid {
    fs::path state;
    std::string prefix;
    std::vector<std::string> nodes;  // Slurm node names in host order: PREFIX-h1, ...
    std::string up_output;

    SlurmGrid(int n, int cpus, bool agents = false) {
        up_output = sh_out("GRID_AGENT_BIN=" + quote(fs::absolute(agent_bin()).string()) + " " +
                           quote(grid_script()) + " up " + std::to_string(n) + " --slurm --slots " +
                           std::to_string(cpus) + (agents ? " --agents" : "") + " 2>&1");
        auto ls = lines_of(up_output);
        if (!ls.empty() && fs::exists(fs::path(ls.back()) / "slurm/slurm.conf")) state = ls.back();
        if (state.empty()) return;
        prefix = trim(slurp(state / "prefix"));
        for (const auto& l : lines_of(slurp(state / "hosts.map"))) {
            std::stringstream ss(l);
            std::string addr, ns;
            ss >> addr >> ns;
            nodes.push_back(ns);
        }
    }
    ~SlurmGrid() { down(); }
    void down() {
        if (!state.empty())
            std::system((quote(grid_script()) + " down " + quote(state.string())).c_str());
    }
    SlurmGrid(const SlurmGrid&) = delete;
    SlurmGrid& operator=(const SlurmGrid&) = delete;

    bool up() const { return !state.empty() && !nodes.empty(); }
    // A shell command line run on the login node, in cwd, within the time limit.
    std::string login(const std::string& shell_cmd, const fs::path& cwd) const {
        return quote(grid_script()) + " login " + quote(state.string()) + " -- timeout -k 5 " +
               std::to_string(k_limit_s) + " sh -c " +
               quote("cd " + quote(cwd.string()) + " && " + shell_cmd);
    }
    int act(const std::string& verb, const std::string& host) const {
        return std::system((quote(grid_script()) + " " + verb + " " + quote(state.string()) + " " +
                            quote(host) + " 2>/dev/null")
                               .c_str());
    }
    // What Slurm says of a node: idle, alloc, down*, ...
    std::string node_state(const std::string& node) const {
        return trim(sh_out("SLURM_CONF=" + quote((state / "slurm/slurm.conf").string()) +
                           " sinfo -h -N -n " + quote(node) + " -o %T 2>&1"));
    }
};

// `hearth` with args, as words for a shell.
std::string hearth_words(const std::vector<std::string>& args) {
    std::string s = quote(hearth_bin());
    for (const auto& a : args) s += " " + quote(a);
    return s;
}

Result run_login(const SlurmGrid& g, const std::string& shell_cmd, const fs::path& cwd) {
    std::string cmd = g.login(shell_cmd, cwd) + " >" + quote((cwd / ".out").string()) + " 2>" +
                      quote((cwd / ".err").string()) + " </dev/null";
    int st = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(cwd / ".out");
    r.err = slurp(cwd / ".err");
    return r;
}

pid_t start_login(const SlurmGrid& g, const std::string& shell_cmd, const fs::path& cwd) {
    std::string cmd = g.login(shell_cmd, cwd) + " >" + quote((cwd / ".bg.out").string()) + " 2>" +
                      quote((cwd / ".bg.err").string()) + " </dev/null";
    pid_t pid = -1;
    std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), cmd.data(),
                               nullptr};
    ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
    return pid;
}

// The job id in salloc's "Granted job allocation N" (or sbatch's "Submitted batch job N").
std::string slurm_job_said(const std::string& text) {
    std::smatch m;
    static const std::regex re("(Granted job allocation|Submitted batch job) ([0-9]+)");
    return std::regex_search(text, m, re) ? m[2].str() : "";
}

std::map<std::uint64_t, int> commits(const fs::path& job) {
    std::map<std::uint64_t, int> c;
    for (const auto& r : journal(job))
        if (r["e"] == "done") c[r["t"].get<std::uint64_t>()]++;
    return c;
}

void check_each_task_committed_once(const fs::path& job, std::uint64_t tasks) {
    auto c = commits(job);
    BOOST_TEST(c.size() == tasks);
    for (const auto& [task, n] : c)
        BOOST_TEST(n == 1, "task " << task << " committed " << n << " times");
}

// mpi-hosts without its comment: "HOST slots=N" lines.
std::vector<std::string> mpi_hosts(const fs::path& job) {
    std::vector<std::string> v;
    for (const auto& l : lines_of(slurp(job / "mpi-hosts")))
        if (l[0] != '#') v.push_back(l);
    return v;
}

// Each task writes "TASK HOSTNAME" to where_TASK.txt: the collected file must
// name the node the journal says ran it.
const char* k_where = "echo {task} $(hostname) > where_{task}.txt; sleep 0.2";

void check_outputs_name_their_nodes(const fs::path& job, std::uint64_t tasks) {
    std::uint64_t seen = 0;
    for (const auto& r : journal(job)) {
        if (r["e"] != "done") continue;
        auto task = r["t"].get<std::uint64_t>();
        std::stringstream ss(slurp(job / ("out/where_" + std::to_string(task) + ".txt")));
        std::uint64_t said = 0;
        std::string host;
        ss >> said >> host;
        BOOST_TEST(said == task);
        BOOST_TEST(host == r["n"].get<std::string>(),
                   "task " << task << " ran on " << host << ", journal says " << r["n"]);
        ++seen;
    }
    BOOST_TEST(seen == tasks);
}

boost::test_tools::assertion_result slurm_possible(boost::unit_test::test_unit_id) {
    int code = 0;
    std::string why = trim(sh_out(quote(grid_script()) + " check --slurm 2>&1", &code));
    boost::test_tools::assertion_result r(code == 0);
    if (code != 0)
        r.message() << "no Slurm test grid here: "
                    << (why.empty() ? "testgrid.sh check --slurm failed" : why);
    return r;
}

// A node lost inside the allocation (testgrid.sh `how`: kill, its slurmd and
// everything on it killed and its link cut; or cut, its link down while its
// processes hang on): Hearth names it down, relaunches on the rest of the
// allocation (salloc --no-kill keeps it), and commits every task once.
void lose_a_node_mid_job(const std::string& how) {
    SlurmGrid g(3, 1);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    pid_t pid = start_login(g,
                            "exec salloc -N3 --no-kill " +
                                hearth_words({"run", "--tenant", "t", "--count", "30", "--job-dir",
                                              "job", "--", "sh", "-c", "sleep 0.5"}),
                            t.path);
    // The victim: not the dispatcher's node (the first), a node with work in flight.
    std::string victim;
    bool chosen = wait_for(
        [&] {
            std::map<std::uint64_t, std::string> flight;
            std::size_t done = 0;
            for (const auto& r : json_lines(slurp(t / "job/journal"))) {
                if (r["e"] == "start") flight[r["t"]] = r["n"];
                if (r["e"] == "done" || r["e"] == "fail") flight.erase(r["t"].get<std::uint64_t>());
                done += r["e"] == "done";
            }
            for (const auto& [task, node] : flight)
                if (done >= 4 && node == g.nodes[2]) victim = node;
            return !victim.empty();
        },
        std::chrono::seconds(60));
    if (!chosen) ::kill(pid, SIGKILL);
    BOOST_REQUIRE(chosen);
    BOOST_REQUIRE_EQUAL(g.act(how, victim), 0);
    int code = wait_exit(pid);
    std::string err = slurp(t / ".bg.err");
    BOOST_TEST_INFO(err << "\nmpirun.log:\n" << slurp(t / "job/mpirun.log"));
    BOOST_REQUIRE_EQUAL(code, 0);
    check_each_task_committed_once(t / "job", 30);
    bool down = false, after = false;
    for (const auto& r : journal(t / "job")) {
        if (r["e"] == "node" && r["state"] == "down") {
            BOOST_TEST(r["n"] == victim);
            down = true;
        }
        if (down && r["e"] == "done") {
            after = true;
            BOOST_TEST(r["n"] != victim);
        }
    }
    BOOST_TEST(down);
    BOOST_TEST(after);
    auto s = summary(t / "job");
    BOOST_TEST(s["state"] == "finished");
    BOOST_TEST(s["launches"] == 2);
    BOOST_REQUIRE_EQUAL(s["lost_hosts"].size(), 1u);
    BOOST_TEST(s["lost_hosts"][0]["host"] == victim);
    BOOST_TEST(err.find("lost " + victim) != std::string::npos);
    BOOST_TEST_MESSAGE("node " << victim << " lost (" << how << "); Slurm says it is "
                               << g.node_state(victim));
}

// `hearth serve` in the background, in its own process group, stopped by pid.
struct Serve {
    pid_t pid = -1;
    std::string url;
    ~Serve() {
        if (pid <= 0) return;
        ::kill(pid, SIGTERM);
        int st = 0;
        pid_t r = 0;
        for (int i = 0; i < 100 && (r = ::waitpid(pid, &st, WNOHANG)) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ::kill(-pid, SIGKILL);
        if (r == 0) ::waitpid(pid, &st, 0);
    }
    // On the grid's bridge address (a test address in the root namespace).
    bool start(const fs::path& dir, const std::string& addr) {
        std::string cmd = "cd " + quote(dir.string()) + " && exec " + quote(hearth_bin()) +
                          " serve --grid grid.toml --state queue --listen " + addr +
                          ":0 --tokens tokens --insecure-http >serve.out 2>serve.err </dev/null";
        posix_spawnattr_t at;
        ::posix_spawnattr_init(&at);
        ::posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
        ::posix_spawnattr_setpgroup(&at, 0);
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, &at, argv.data(), environ);
        ::posix_spawnattr_destroy(&at);
        std::string said;
        wait_for(
            [&] {
                said = slurp(dir / "serve.err");
                return said.find("listening on port ") != std::string::npos;
            },
            std::chrono::seconds(30));
        auto at_port = said.find("listening on port ");
        if (at_port == std::string::npos) return false;
        url = "http://" + addr + ":" + std::to_string(std::stoi(said.substr(at_port + 18)));
        return true;
    }
};

std::string join(const std::set<std::string>& s) {
    std::string o;
    for (const auto& x : s) o += (o.empty() ? "" : ",") + x;
    return o;
}

// The nodes the scheduler recorded for a job's tasks, once it has finished
// (an operator's view: a tenant's does not name nodes).
std::set<std::string> finished_job_nodes(const TempDir& t, const Serve& s, const std::string& token,
                                         const std::string& job) {
    std::set<std::string> nodes;
    bool done = wait_for(
        [&] {
            Reply r = http(t, "GET", s.url + "/v1/jobs/" + job, token);
            return r.code == 200 && r.json().value("state", "") == "finished";
        },
        std::chrono::seconds(60));
    BOOST_TEST_REQUIRE(done, "job " << job << " did not finish");
    Reply r = http(t, "GET", s.url + "/v1/jobs/" + job + "/tasks", token);
    BOOST_TEST_REQUIRE(r.code == 200, r.body);
    const nlohmann::json j = r.json();
    for (const auto& task : j["tasks"]) nodes.insert(task.value("node", ""));
    return nodes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grid_slurm, *boost::unit_test::precondition(slurm_possible))

BOOST_AUTO_TEST_CASE(a_node_killed_mid_job_is_marked_down_by_name_and_the_job_completes) {
    lose_a_node_mid_job("kill");
}

// mpirun hears nothing from a node behind a dead link (no FIN, no RST): its
// keepalives find it lost, as a hung node.
BOOST_AUTO_TEST_CASE(a_node_cut_off_mid_job_is_marked_down_by_name_and_the_job_completes) {
    lose_a_node_mid_job("cut");
}

// Each shape of allocation on one cluster: one node with one CPU (the
// dispatcher shares the worker's slot), three nodes with uneven tasks from
// salloc on the login node, and sbatch (Hearth on the batch host).
BOOST_AUTO_TEST_CASE(salloc_and_sbatch_use_exactly_the_allocation) {
    SlurmGrid g(3, 2);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    auto run_args = [&](const std::string& dir, const std::string& count) {
        std::vector<std::string> a = {"run",       "--tenant",    "t",         "--count", count,
                                      "--collect", "where_*.txt", "--job-dir", dir,       "--",
                                      "sh",        "-c",          k_where};
        return hearth_words(a);
    };

    // One node, one CPU: used to fail (mpirun asked for two slots).
    Result one = run_login(g, "salloc -N1 -n1 " + run_args("one", "3"), t.path);
    BOOST_TEST_INFO(one.err);
    BOOST_REQUIRE_EQUAL(one.code, 0);
    check_each_task_committed_once(t / "one", 3);
    check_outputs_name_their_nodes(t / "one", 3);
    auto s1 = summary(t / "one");
    BOOST_TEST(s1["slurm_job"] == slurm_job_said(one.err));
    BOOST_TEST(one.err.find("in Slurm job " + s1["slurm_job"].get<std::string>()) !=
               std::string::npos);
    // The login node is not in the allocation: the dispatcher is on the node.
    auto h1 = mpi_hosts(t / "one");
    BOOST_REQUIRE_EQUAL(h1.size(), 1u);
    BOOST_TEST(h1[0].rfind(g.prefix + "-h", 0) == 0u, h1[0]);
    BOOST_TEST(h1[0].find(" slots=2") != std::string::npos, h1[0]);

    // Three nodes, five tasks: 2, 2 and 1 (SLURM_TASKS_PER_NODE 2(x2),1).
    Result three =
        run_login(g,
                  "salloc -N3 -n5 sh -c " +
                      quote("echo $SLURM_TASKS_PER_NODE > tasks; exec " + run_args("three", "15")),
                  t.path);
    BOOST_TEST_INFO(three.err);
    BOOST_REQUIRE_EQUAL(three.code, 0);
    check_each_task_committed_once(t / "three", 15);
    check_outputs_name_their_nodes(t / "three", 15);
    auto s3 = summary(t / "three");
    BOOST_TEST(s3["slurm_job"] == slurm_job_said(three.err));
    BOOST_TEST(trim(slurp(t / "tasks")) == "2(x2),1");
    // No hostfile given: the allocation's nodes, each once, with its tasks as slots.
    auto launch = nlohmann::json::parse(slurp(t / "three/launch.json"));
    std::map<std::string, unsigned> slots;
    for (const auto& r : launch["ranks"]) slots[r["node"]] = r["slots"];
    BOOST_TEST(slots.size() == 3u);
    std::vector<unsigned> got;
    for (const auto& n : g.nodes) got.push_back(slots[n]);
    BOOST_TEST(got == std::vector<unsigned>({2, 2, 1}), "slots " << launch.dump());
    std::set<std::string> used;
    for (const auto& r : journal(t / "three"))
        if (r["e"] == "done") used.insert(r["n"].get<std::string>());
    BOOST_TEST(used == std::set<std::string>(g.nodes.begin(), g.nodes.end()));

    // sbatch: Hearth runs on the batch host, the allocation's first node.
    Result batch = run_login(
        g, "sbatch -W -N3 -o batch.log --wrap " + quote("exec " + run_args("batch", "9") + " 2>&1"),
        t.path);
    BOOST_TEST_INFO(batch.err << slurp(t / "batch.log"));
    BOOST_REQUIRE_EQUAL(batch.code, 0);
    check_each_task_committed_once(t / "batch", 9);
    check_outputs_name_their_nodes(t / "batch", 9);
    auto sb = summary(t / "batch");
    BOOST_TEST(sb["slurm_job"] == slurm_job_said(batch.out + batch.err));
    BOOST_TEST(sb["state"] == "finished");
    auto hb = mpi_hosts(t / "batch");
    BOOST_REQUIRE_EQUAL(hb.size(), 3u);
    BOOST_TEST(hb[0] == "localhost slots=2");

    // Torn down, the cluster leaves nothing: no namespace, daemon or file.
    g.down();
    BOOST_TEST(sh_out("ip netns list | grep -c '^" + g.prefix + "-' || true") == "0\n");
    BOOST_TEST(sh_out("pgrep -f '[s]lurm|[m]unged|[o]rted' -a | grep -c " +
                      quote(g.state.string()) + " || true") == "0\n");
    BOOST_TEST(!fs::exists(g.state));
}

// scancel of the allocation stops Hearth cleanly (the journal stays whole);
// `hearth resume` in a new allocation finishes without rerunning a committed task.
BOOST_AUTO_TEST_CASE(scancel_then_resume_in_a_new_allocation_reruns_nothing_committed) {
    SlurmGrid g(2, 1);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    pid_t pid = start_login(g,
                            "exec salloc -N2 -J first " +
                                hearth_words({"run", "--tenant", "t", "--count", "20", "--job-dir",
                                              "job", "--", "sh", "-c", "sleep 0.4"}),
                            t.path);
    bool some = wait_for(
        [&] {
            std::size_t done = 0;
            for (const auto& r : json_lines(slurp(t / "job/journal"))) done += r["e"] == "done";
            return done >= 4;
        },
        std::chrono::seconds(60));
    if (!some) ::kill(pid, SIGKILL);
    BOOST_REQUIRE(some);
    std::string first = slurm_job_said(slurp(t / ".bg.err"));
    BOOST_REQUIRE(!first.empty());
    BOOST_REQUIRE_EQUAL(run_login(g, "scancel " + first, t.path).code, 0);
    int code = wait_exit(pid);
    std::string err = slurp(t / ".bg.err");
    BOOST_TEST_INFO(err);
    BOOST_TEST(code != 0);
    // Nothing runs on: no worker of this job is left on any node.
    std::string job_dir = fs::absolute(t / "job").string();
    bool gone = wait_for(
        // "[w]orker": the pattern does not match the shell that runs pgrep.
        [&] { return sh_out("pgrep -f " + quote("[w]orker " + job_dir) + " || true").empty(); },
        std::chrono::seconds(30));
    BOOST_TEST(gone);
    auto before = commits(t / "job");
    BOOST_TEST(before.size() < 20u);
    std::size_t lines_before = journal(t / "job").size();

    Result again = run_login(g, "salloc -N2 -J second " + hearth_words({"resume", "job"}), t.path);
    BOOST_TEST_INFO(again.err);
    BOOST_REQUIRE_EQUAL(again.code, 0);
    check_each_task_committed_once(t / "job", 20);
    auto records = journal(t / "job");
    for (std::size_t i = lines_before; i < records.size(); ++i)
        if (records[i]["e"] == "start")
            BOOST_TEST(!before.count(records[i]["t"].get<std::uint64_t>()),
                       "committed task " << records[i]["t"] << " ran again");
    auto s = summary(t / "job");
    BOOST_TEST(s["state"] == "finished");
    BOOST_TEST(s["slurm_job"] == slurm_job_said(again.err));
    BOOST_TEST(s["slurm_job"] != first);

    // Outside an allocation a Slurm job cannot be resumed: one line, exit 2.
    Result outside =
        run_hearth({"resume", (t / "job").string()}, t.path, "env -u SLURM_JOB_ID -u SLURM_JOBID");
    BOOST_TEST(outside.code == 2);
    BOOST_TEST(outside.err.find("salloc -N2 hearth resume") != std::string::npos, outside.err);
}

// A site that is a Slurm cluster: `hearth site` as a batch job is the site,
// on the nodes Slurm gave it; a new allocation of another size is seen by
// the scheduler (it places tasks on exactly the new nodes).
BOOST_AUTO_TEST_CASE(hearth_site_as_a_batch_job_is_one_site_on_its_allocation) {
    SlurmGrid g(3, 2);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    std::ostringstream grid;
    grid << "[[site]]\nname = \"cluster\"\nkind = \"room\"\ntarget = 20\nmin = 10\nmax = 30\n"
         << "[site.source]\ntype = \"static\"\nmeasured = 15\n\n";
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
        grid << "[[node]]\nname = \"c" << i + 1 << "\"\nsite = \"cluster\"\nhost = \"" << g.nodes[i]
             << "\"\nslots = 2\n\n";
    grid << "[[tenant]]\nname = \"bank\"\nshare = 1\n";
    std::ofstream(t / "grid.toml") << grid.str();
    std::map<std::string, std::string> token;
    for (const char* role : {"tenant:bank", "site:cluster", "operator"}) {
        Result r = run_hearth({"token", "new", "--role", role, "--tokens", "tokens"}, t.path,
                              "env -u HEARTH_TOKEN -u HEARTH_TOKEN_FILE");
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        token[role] = r.out.substr(0, r.out.find('\n'));
    }
    ::chmod((t / "tokens").c_str(), 0600);
    std::ofstream(t / "site.token") << token["site:cluster"] << "\n";
    ::chmod((t / "site.token").c_str(), 0600);
    Serve serve;
    BOOST_REQUIRE(serve.start(t.path, trim(slurp(g.state / "subnet")) + ".1"));

    auto site_job = [&](int nodes) {
        Result r = run_login(
            g,
            "sbatch -N" + std::to_string(nodes) + " -o site.log --wrap " +
                quote("exec " + hearth_words({"site", "--insecure-http", "--grid", "grid.toml",
                                              "--site", "cluster", "--server", serve.url,
                                              "--token-file", "site.token", "--state", "state"})),
            t.path);
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return slurm_job_said(r.out);
    };
    auto submit = [&](const std::string& count) {
        Result r = run_hearth({"submit", "--server", serve.url, "--tenant", "bank", "--count",
                               count, "--", "sh", "-c", "sleep 0.3"},
                              t.path, "HEARTH_TOKEN=" + token["tenant:bank"]);
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return trim(r.out);
    };

    std::string first = site_job(2);
    BOOST_REQUIRE(!first.empty());
    std::string job1 = submit("12");
    auto used1 = finished_job_nodes(t, serve, token["operator"], job1);
    BOOST_TEST_INFO(slurp(t / "site.log"));
    BOOST_TEST((used1 == std::set<std::string>{"c1", "c2"}), "used " << join(used1));

    // A new allocation with one node more: the same site, now on three nodes.
    BOOST_REQUIRE_EQUAL(run_login(g, "scancel " + first, t.path).code, 0);
    bool gone = wait_for(
        [&] { return g.node_state(g.nodes[0]) == "idle" && g.node_state(g.nodes[1]) == "idle"; },
        std::chrono::seconds(60));
    BOOST_REQUIRE(gone);
    std::string second = site_job(3);
    BOOST_REQUIRE(!second.empty());
    std::string job2 = submit("18");
    auto used2 = finished_job_nodes(t, serve, token["operator"], job2);
    BOOST_TEST_INFO(slurp(t / "site.log"));
    BOOST_TEST((used2 == std::set<std::string>{"c1", "c2", "c3"}), "used " << join(used2));
    run_login(g, "scancel " + second, t.path);
}

// Energy under Slurm: each node's grid-agent (found through the cluster's
// TaskProlog) charges the tasks Slurm's allocation ran there to the job's
// tenant, and its ledger agrees with the journal node by node.
BOOST_AUTO_TEST_CASE(each_node_s_agent_charges_the_slurm_job_s_tasks_to_its_tenant) {
    SlurmGrid g(3, 2, true);
    BOOST_TEST_INFO(g.up_output);
    BOOST_REQUIRE(g.up());
    TempDir t;
    Result r =
        run_login(g,
                  "salloc -N3 " + hearth_words({"run", "--tenant", "bank", "--count", "9",
                                                "--job-dir", "job", "--", "sh", "-c", "sleep 0.3"}),
                  t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    check_each_task_committed_once(t / "job", 9);
    std::map<std::string, std::uint64_t> journal_uj;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done") {
            BOOST_TEST(rec.value("uj", std::uint64_t{0}) > 0u);
            journal_uj[rec["n"].get<std::string>()] += rec.value("uj", std::uint64_t{0});
        }
    BOOST_TEST(journal_uj.size() == 3u);
    auto s = summary(t / "job");
    Result e = run_hearth(
        {"energy", "--hosts", (g.state / "hostfile").string(), "--job", s["job"].get<std::string>(),
         "--tenant", "bank", "--by", "node", "--format", "json"},
        t.path, ". " + quote((g.state / "env").string()) + " &&");
    BOOST_TEST_INFO(e.err);
    BOOST_REQUIRE_EQUAL(e.code, 0);
    auto j = nlohmann::json::parse(e.out);
    std::map<std::string, std::uint64_t> ledger_uj;
    for (const auto& row : j["rows"])
        ledger_uj[row["node"].get<std::string>()] = row["energy_uj"].get<std::uint64_t>();
    BOOST_TEST((ledger_uj == journal_uj));
    BOOST_TEST(j["total_uj"] == s["energy_uj"]);
}

BOOST_AUTO_TEST_SUITE_END()

// Slurm's environment as salloc or sbatch would set it, without a cluster:
// every allocation Hearth cannot use is one line, exit 2, no job directory.
BOOST_AUTO_TEST_SUITE(slurm_input)

BOOST_AUTO_TEST_CASE(an_unusable_allocation_is_refused_before_anything_starts) {
    TempDir t;
    std::ofstream(t / "hosts") << "n1 slots=1\nelsewhere slots=1\n";
    struct Case {
        std::string env, extra, says;
    };
    const std::vector<Case> cases = {
        {"SLURM_JOB_ID=5", "", "Slurm job 5 has no nodes"},
        {"SLURM_JOB_ID=5 SLURM_JOB_NODELIST='n[1-'", "", "bad Slurm host list"},
        {"SLURM_JOB_ID=5 SLURM_JOB_NODELIST='n[1-3,5]' SLURM_TASKS_PER_NODE='2(x3'", "",
         "SLURM_TASKS_PER_NODE='2(x3'"},
        {"SLURM_JOB_ID=5 SLURM_JOB_NODELIST='n[1-3,5]' SLURM_TASKS_PER_NODE='2(x2)'", "",
         "lists 4 node(s)"},
        {"SLURM_JOB_ID=5 SLURM_JOB_NODELIST='n[1-2]' SLURM_TASKS_PER_NODE='1(x2)'",
         (t / "hosts").string(), "names 'elsewhere', which is not in Slurm job 5's allocation"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"run", "--tenant",  "t",  "--count",
                                         "3",   "--job-dir", "job"};
        if (!c.extra.empty()) args.insert(args.end(), {"--hosts", c.extra});
        args.insert(args.end(), {"--", "true"});
        Result r = run_hearth(args, t.path, "env -u SLURM_JOBID " + c.env);
        BOOST_TEST_INFO(c.env << ": " << r.err);
        BOOST_TEST(r.code == 2);
        BOOST_TEST(r.err.find(c.says) != std::string::npos);
        BOOST_TEST(count_lines(r.err) == 1u);
        BOOST_TEST(!fs::exists(t / "job"));
    }
}

BOOST_AUTO_TEST_SUITE_END()
