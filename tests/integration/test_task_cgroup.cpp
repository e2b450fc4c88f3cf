// One cgroup per task (core/cgroup, issue 18): a task that leaves its
// process group with setsid() is still killed by --timeout and at its end,
// with real processes in this machine's cgroup v2 hierarchy.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
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

BOOST_AUTO_TEST_SUITE_END()
