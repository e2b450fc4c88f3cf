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

BOOST_AUTO_TEST_SUITE_END()
