// One cgroup per task (core/cgroup, issue 18): a task that leaves its
// process group with setsid() is still killed by --timeout and at its end,
// with real processes in this machine's cgroup v2 hierarchy.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "harness.hpp"

using namespace hearth::test;

namespace {

boost::test_tools::assertion_result cgroups_possible(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(
        ::geteuid() == 0 && slurp("/proc/self/mounts").find(" cgroup2 ") != std::string::npos);
    if (!r) r.message() << "needs root and a cgroup2 hierarchy, to make a cgroup per task";
    return r;
}

// Alive, and not a zombie waiting for a parent (the container's init may
// never reap it).
bool running(const std::string& pid) {
    std::string st = slurp("/proc/" + pid + "/stat");
    if (st.empty()) return false;
    auto close = st.rfind(')');
    return close != std::string::npos && st.size() > close + 2 && st[close + 2] != 'Z';
}

// A task that starts "sleep 300" in a session of its own, writes its pid
// to rv/escaped.pid, then runs `then`.
struct Escape {
    TempDir t;
    fs::path rv;
    Escape() {
        fs::permissions(t.path, fs::perms::owner_all | fs::perms::others_exec);
        rv = t / "rv";
        fs::create_directories(rv);
        fs::permissions(rv, fs::perms::all);  // the task's user writes here
    }
    Result run(const std::string& then, const std::vector<std::string>& extra) {
        const fs::path sh = rv / "task.sh";
        std::ofstream(sh) << "setsid sh -c 'echo $$ > " << (rv / "escaped.pid").string()
                          << "; exec sleep 300' &\n"
                          << "while [ ! -s " << (rv / "escaped.pid").string()
                          << " ]; do sleep 0.05; done\n"
                          << then << "\n";
        fs::permissions(sh, fs::perms::owner_all | fs::perms::others_read);
        std::vector<std::string> args = {"run", "--tenant",  "bank", "--count",
                                         "1",   "--retries", "0"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--", "sh", sh.string()});
        return run_hearth(args, t.path);
    }
    std::string escaped() const {
        std::string p = slurp(rv / "escaped.pid");
        while (!p.empty() && p.back() == '\n') p.pop_back();
        return p;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(task_cgroup, *boost::unit_test::precondition(cgroups_possible))

BOOST_AUTO_TEST_CASE(a_task_escaping_with_setsid_is_killed_by_the_timeout) {
    Escape e;
    Result r = e.run("sleep 300", {"--timeout", "1s"});
    BOOST_TEST(r.code == 1, r.err);
    BOOST_TEST(r.out.find("timed out") != std::string::npos, r.out);
    const std::string pid = e.escaped();
    BOOST_TEST_REQUIRE(!pid.empty(), "the task did not start its escapee");
    BOOST_TEST(!running(pid), "pid " << pid << " outlived the timeout");
    if (running(pid)) ::kill(std::stoi(pid), SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_task_escaping_with_setsid_does_not_outlive_its_end) {
    Escape e;
    Result r = e.run("exit 0", {});
    BOOST_TEST(r.code == 0, r.err);
    const std::string pid = e.escaped();
    BOOST_TEST_REQUIRE(!pid.empty(), "the task did not start its escapee");
    BOOST_TEST(!running(pid), "pid " << pid << " outlived its task");
    if (running(pid)) ::kill(std::stoi(pid), SIGKILL);
}

// The worker's pid: the task's parent (the task script writes $PPID).
std::string worker_of(const Escape& e) {
    std::string p = slurp(e.rv / "worker.pid");
    while (!p.empty() && p.back() == '\n') p.pop_back();
    return p;
}

BOOST_AUTO_TEST_CASE(a_task_escaping_with_setsid_does_not_outlive_its_sigtermed_worker) {
    // mpirun killed, a site relaunched: the worker gets SIGTERM while its
    // task runs; the escapee dies with it and the worker's cgroups go.
    Escape e;
    const fs::path sh = e.rv / "task.sh";
    std::ofstream(sh) << "echo $PPID > " << (e.rv / "worker.pid.tmp").string() << "\n"
                      << "mv " << (e.rv / "worker.pid.tmp").string() << " "
                      << (e.rv / "worker.pid").string() << "\n"
                      << "setsid sh -c 'echo $$ > " << (e.rv / "escaped.pid").string()
                      << "; exec sleep 300' &\n"
                      << "sleep 300\n";
    fs::permissions(sh, fs::perms::owner_all | fs::perms::others_read);
    pid_t run = start_hearth({"run", "--tenant", "bank", "--count", "1", "--retries", "0",
                              "--job-dir", "job", "--", "sh", sh.string()},
                             e.t.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return !e.escaped().empty() && !worker_of(e).empty(); },
                                std::chrono::seconds(20)),
                       slurp(e.t / ".bg.err"));
    const std::string worker = worker_of(e), pid = e.escaped();
    const std::string tree = "/hearth-w" + worker;
    BOOST_TEST_REQUIRE(
        slurp("/proc/" + pid + "/cgroup").find(tree + "/t") != std::string::npos,
        "the escapee is not in its task's cgroup: " << slurp("/proc/" + pid + "/cgroup"));
    BOOST_TEST(::kill(std::stoi(worker), SIGTERM) == 0);
    BOOST_TEST(wait_for([&] { return !running(pid); }, std::chrono::seconds(10)),
               "pid " << pid << " outlived its worker's SIGTERM");
    if (running(pid)) ::kill(std::stoi(pid), SIGKILL);
    // No cgroup of that worker is left in any hierarchy.
    BOOST_TEST(wait_for(
                   [&] {
                       return sh_out("find /sys/fs/cgroup -maxdepth 6 -type d -name hearth-w" +
                                     worker + " 2>/dev/null") == "";
                   },
                   std::chrono::seconds(10)),
               sh_out("find /sys/fs/cgroup -maxdepth 6 -type d -name 'hearth-w*'"));
    // hearth run relaunches mpirun for the task not yet done: ended here.
    Result c = run_hearth({"cancel", "job", "--wait"}, e.t.path);
    BOOST_TEST(c.code == 0, c.err);
    wait_exit(run);
}

BOOST_AUTO_TEST_CASE(a_task_escaping_with_setsid_does_not_outlive_a_cancel) {
    Escape e;
    const fs::path sh = e.rv / "task.sh";
    std::ofstream(sh) << "setsid sh -c 'echo $$ > " << (e.rv / "escaped.pid").string()
                      << "; exec sleep 300' &\n"
                      << "sleep 300\n";
    fs::permissions(sh, fs::perms::owner_all | fs::perms::others_read);
    pid_t run = start_hearth({"run", "--tenant", "bank", "--count", "1", "--retries", "0",
                              "--job-dir", "job", "--", "sh", sh.string()},
                             e.t.path);
    BOOST_TEST_REQUIRE(wait_for([&] { return !e.escaped().empty(); }, std::chrono::seconds(20)),
                       slurp(e.t / ".bg.err"));
    const std::string pid = e.escaped();
    Result c = run_hearth({"cancel", "job", "--wait"}, e.t.path);
    BOOST_TEST(c.code == 0, c.err);
    BOOST_TEST(wait_exit(run) == 1);
    BOOST_TEST(wait_for([&] { return !running(pid); }, std::chrono::seconds(10)),
               "pid " << pid << " outlived the cancel");
    if (running(pid)) ::kill(std::stoi(pid), SIGKILL);
}

// A grid-agent reading real /proc and the real cgroup hierarchies through
// its --fsroot (symlinks), with a RAPL counter the test drives.
struct CgroupAgent {
    TempDir t;
    fs::path zone;
    pid_t pid = -1;
    int port = 0;
    std::string socket, ledger;
    std::atomic<std::uint64_t> raw{0};
    CgroupAgent() {
        const fs::path root = t / "root";
        zone = root / "sys/class/powercap/intel-rapl:0";
        fs::create_directories(zone);
        std::ofstream(zone / "name") << "package-0\n";
        std::ofstream(zone / "max_energy_range_uj") << 1'000'000'000'000ULL << "\n";
        set_energy(0);
        fs::create_directory_symlink("/proc", root / "proc");
        fs::create_directories(root / "sys/fs");
        fs::create_directory_symlink("/sys/fs/cgroup", root / "sys/fs/cgroup");
        socket = (t / "agent.sock").string();
        ledger = (t / "ledger.db").string();
        std::string cmd = "exec " + quote(agent_bin()) +
                          " --node n1 --site pool --listen 127.0.0.1:0 --no-auth --socket " +
                          quote(socket) + " --ledger " + quote(ledger) + " --fsroot " +
                          quote(root.string()) + " --idle-watts 1 --rate 20 2>>" +
                          quote((t / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        std::regex re("http 127\\.0\\.0\\.1:([0-9]+)");
        BOOST_TEST_REQUIRE(wait_for(
                               [&] {
                                   std::smatch m;
                                   std::string log = slurp(t / "agent.log");
                                   if (std::regex_search(log, m, re)) port = std::stoi(m[1]);
                                   return port > 0 && fs::exists(socket);
                               },
                               std::chrono::seconds(10)),
                           slurp(t / "agent.log"));
    }
    ~CgroupAgent() {
        ::kill(pid, SIGTERM);
        wait_exit(pid);
    }
    void set_energy(std::uint64_t uj) { set_attribute(zone / "energy_uj", uj); }
    std::string log() const { return slurp(t / "agent.log"); }
};

BOOST_AUTO_TEST_CASE(the_agent_bills_a_setsid_escapees_cpu_to_its_task_through_the_cgroup) {
    // bank's task double-forks a busy loop into a session of its own (no
    // longer its descendant: /proc would not find it) and waits for it;
    // studio's task runs the same loop itself. Both are billed alike.
    CgroupAgent agent;
    std::atomic<bool> feeding{true};
    std::thread feeder([&] {
        std::uint64_t total = 0;
        while (feeding) {
            total += 500'000;  // 50 W in 10 ms steps
            agent.set_energy(total);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    const std::string loop = "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done";
    const std::string env = "HEARTH_AGENT_SOCKET=" + quote(agent.socket);
    Result bank, studio;
    std::thread tb([&] {
        bank = run_hearth({"run", "--tenant", "bank", "--count", "1", "--retries", "0", "--job-dir",
                           "bank", "--", "sh", "-c",
                           "(setsid sh -c '" + loop +
                               "; touch done' &); "
                               "while [ ! -e done ]; do sleep 0.05; done"},
                          agent.t.path, env);
    });
    std::thread ts([&] {
        studio = run_hearth({"run", "--tenant", "studio", "--count", "1", "--retries", "0",
                             "--job-dir", "studio", "--", "sh", "-c", loop},
                            agent.t.path, env);
    });
    // While they run, the agent says where it reads their CPU.
    std::string seen;
    wait_for(
        [&] {
            std::string node =
                sh_out("curl -sf http://127.0.0.1:" + std::to_string(agent.port) + "/v1/node");
            auto j = nlohmann::json::parse(node, nullptr, false);
            if (j.is_discarded() || !j.contains("tasks") || j["tasks"].size() < 2) return false;
            seen = j["tasks"].dump();
            return true;
        },
        std::chrono::seconds(20));
    tb.join();
    ts.join();
    feeding = false;
    feeder.join();
    BOOST_TEST_REQUIRE(bank.code == 0, bank.err);
    BOOST_TEST_REQUIRE(studio.code == 0, studio.err);
    BOOST_TEST(seen.find("\"cpu_from\":\"cgroup\"") != std::string::npos, seen);
    BOOST_TEST(seen.find("\"cpu_from\":\"proc\"") == std::string::npos, seen);
    BOOST_TEST(agent.log().find("read from /proc") == std::string::npos, agent.log());
    auto dyn = [&](const std::string& tenant) {
        std::string out = sh_out(
            "sqlite3 " + quote(agent.ledger) +
            " \"SELECT coalesce(sum(dynamic_uj),0) FROM charges WHERE tenant='" + tenant + "'\"");
        return out.empty() ? 0.0 : std::stod(out);
    };
    const double b = dyn("bank"), s = dyn("studio");
    BOOST_TEST_MESSAGE("dynamic energy: bank " << b / 1e6 << " J, studio " << s / 1e6 << " J");
    // The same loop's work: the escapee's is not lost to the house. Read
    // from /proc, bank's would be its sleeping shell's, a few per cent.
    BOOST_TEST(s > 0);
    BOOST_TEST(b > 0.5 * s, "bank " << b << " uJ, studio " << s << " uJ");
}

BOOST_AUTO_TEST_CASE(successive_tasks_share_a_cgroup_but_not_each_others_cpu) {
    // One slot, four tasks: the worker gives a task's cgroup to a later task
    // once the first is settled with the agent. Tasks 0 and 1 are busy, 2
    // and 3 sleep, in cgroups the busy ones had: a sleeper is billed for
    // its own nothing, not for the work its cgroup counted before it.
    CgroupAgent agent;
    fs::permissions(agent.t.path, fs::perms::owner_all | fs::perms::others_exec);
    const fs::path rv = agent.t / "rv";
    fs::create_directories(rv);
    fs::permissions(rv, fs::perms::all);  // the task's user writes here
    std::atomic<bool> feeding{true};
    std::thread feeder([&] {
        std::uint64_t total = 0;
        while (feeding) {
            total += 500'000;  // 50 W in 10 ms steps
            agent.set_energy(total);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    const std::string loop = "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done";
    Result r = run_hearth({"run", "--tenant", "bank", "--count", "4", "--slots", "1", "--retries",
                           "0", "--job-dir", "job", "--", "sh", "-c",
                           "grep '^0::' /proc/self/cgroup > " + (rv / "cg.{task}").string() +
                               "; if [ {task} -lt 2 ]; then " + loop + "; else sleep 1; fi"},
                          agent.t.path, "HEARTH_AGENT_SOCKET=" + quote(agent.socket));
    feeding = false;
    feeder.join();
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    std::vector<std::string> cg;
    for (int t = 0; t < 4; ++t) cg.push_back(slurp(rv / ("cg." + std::to_string(t))));
    for (const auto& c : cg) BOOST_TEST_REQUIRE(c.find("/hearth-w") != std::string::npos, c);
    BOOST_TEST(std::set<std::string>(cg.begin(), cg.end()).size() <= 2u,
               "no cgroup was reused: " << cg[0] << cg[1] << cg[2] << cg[3]);
    auto dyn = [&](int task) {
        std::string out = sh_out("sqlite3 " + quote(agent.ledger) +
                                 " \"SELECT coalesce(sum(dynamic_uj),0) FROM charges WHERE "
                                 "tenant='bank' AND task=" +
                                 std::to_string(task) + "\"");
        return out.empty() ? 0.0 : std::stod(out);
    };
    const double busy[2] = {dyn(0), dyn(1)};
    BOOST_TEST_MESSAGE("dynamic energy, tasks 0-3: " << busy[0] / 1e6 << " " << busy[1] / 1e6 << " "
                                                     << dyn(2) / 1e6 << " " << dyn(3) / 1e6
                                                     << " J");
    BOOST_TEST(busy[0] > 0);
    BOOST_TEST(busy[1] > 0);
    int checked = 0;
    for (int sleeper : {2, 3}) {
        // The last busy task whose cgroup this sleeper had, if any.
        int before = -1;
        for (int b : {0, 1})
            if (cg[b] == cg[sleeper]) before = b;
        if (before < 0) continue;
        ++checked;
        BOOST_TEST(dyn(sleeper) < 0.2 * busy[before],
                   "task " << sleeper << " billed " << dyn(sleeper) << " uJ, task " << before
                           << " (same cgroup) " << busy[before] << " uJ");
    }
    BOOST_TEST(checked > 0,
               "no sleeper had a busy task's cgroup: " << cg[0] << cg[1] << cg[2] << cg[3]);
}

BOOST_AUTO_TEST_SUITE_END()
