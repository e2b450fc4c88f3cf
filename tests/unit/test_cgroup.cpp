// A task's cgroup (core/cgroup) against a fake tree under a FakeFs root: the
// hierarchy found from /proc/self/mounts text as this sandbox has it (v1
// controllers and a v2 hierarchy side by side), kills written to
// cgroup.kill on v2 and sent pid by pid on v1 (to a real child here), and
// CPU read from cpu.stat or cpuacct.usage.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "core/cgroup.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace hearth;
using hearth::test::FakeFs;

namespace {

const char* const k_hybrid_mounts =
    "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
    "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
    "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
const char* const k_v1_mounts =
    "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(cgroup)

BOOST_AUTO_TEST_CASE(the_v2_hierarchy_is_preferred_and_v1_cpuacct_is_the_fallback) {
    auto m = find_cgroup_mount(k_hybrid_mounts);
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->path == "/sys/fs/cgroup/unified");
    BOOST_TEST(m->v2);
    auto v1 = find_cgroup_mount(k_v1_mounts);
    BOOST_TEST_REQUIRE(v1.has_value());
    BOOST_TEST(v1->path == "/sys/fs/cgroup/cpu,cpuacct");
    BOOST_TEST(!v1->v2);
    BOOST_TEST(!find_cgroup_mount("proc /proc proc rw 0 0\n").has_value());
}

BOOST_AUTO_TEST_CASE(own_cgroup_and_cpu_stat_are_parsed) {
    const std::string self = "4:memory:/x\n2:cpu,cpuacct:/v1/path\n0::/system.slice/w.service\n";
    BOOST_TEST(*own_cgroup_path(self, true) == "/system.slice/w.service");
    BOOST_TEST(*own_cgroup_path(self, false) == "/v1/path");
    BOOST_TEST(!own_cgroup_path("4:memory:/x\n", true).has_value());
    BOOST_TEST(*parse_usage_usec("usage_usec 1500000\nuser_usec 1000000\n") == 1500000u);
    BOOST_TEST(!parse_usage_usec("user_usec 5\n").has_value());
}

BOOST_AUTO_TEST_CASE(a_v2_task_cgroup_is_made_below_the_workers_killed_by_cgroup_kill_and_removed) {
    auto fs = std::make_shared<FakeFs>();
    fs->write("/proc/self/mounts", k_hybrid_mounts);
    fs->write("/proc/self/cgroup", "1:cpu:/\n0::/system.slice/w.service\n");
    fs->mkdir("/sys/fs/cgroup/unified/system.slice/w.service");
    // Left by a worker that is gone (no /proc/17), and one still running.
    fs->mkdir("/sys/fs/cgroup/unified/system.slice/w.service/hearth-w17/t3");
    fs->mkdir("/sys/fs/cgroup/unified/system.slice/w.service/hearth-w18");
    fs->write("/proc/18/stat", "18 (hearth) S 1 18 18 0 -1 0\n");
    std::string why;
    auto tree = CgroupTree::open(fs, 4242, &why);
    BOOST_TEST_REQUIRE(tree != nullptr, why);
    BOOST_TEST(!fs->exists("/sys/fs/cgroup/unified/system.slice/w.service/hearth-w17"));
    BOOST_TEST(fs->exists("/sys/fs/cgroup/unified/system.slice/w.service/hearth-w18"));
    BOOST_TEST(tree->dir() == "/sys/fs/cgroup/unified/system.slice/w.service/hearth-w4242");
    {
        TaskCgroup t(*tree, "t0");
        BOOST_TEST(fs->exists(t.dir()));
        // The kernel makes these files; the fake has them empty.
        fs->write(t.dir() + "/cgroup.kill", "");
        fs->write(t.dir() + "/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\n");
        t.kill();
        BOOST_TEST(*fs->read(t.dir() + "/cgroup.kill").text == "1");
        BOOST_TEST(*t.cpu_seconds() == 2.5);
        // A real cgroup directory is removable once empty; a fake one once
        // its files are gone.
        fs->remove(t.dir() + "/cgroup.kill");
        fs->remove(t.dir() + "/cpu.stat");
    }
    BOOST_TEST(!fs->exists("/sys/fs/cgroup/unified/system.slice/w.service/hearth-w4242/t0"));
}

BOOST_AUTO_TEST_CASE(a_task_cgroup_is_known_empty_only_when_the_kernel_says_so) {
    // A pooled cgroup takes the next task only when empty, as rmdir sees it.
    for (bool v2 : {true, false}) {
        auto fs = std::make_shared<FakeFs>();
        fs->write("/proc/self/mounts", v2 ? k_hybrid_mounts : k_v1_mounts);
        fs->write("/proc/self/cgroup", v2 ? "0::/\n" : "2:cpu,cpuacct:/\n");
        fs->mkdir(v2 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup/cpu,cpuacct");
        std::string why;
        auto tree = CgroupTree::open(fs, 4242, &why);
        BOOST_TEST_REQUIRE(tree != nullptr, why);
        TaskCgroup t(*tree, "t0");
        const std::string file = t.dir() + (v2 ? "/cgroup.events" : "/cgroup.procs");
        BOOST_TEST(!t.known_empty(), "unreadable counts as not empty");
        fs->write(file, v2 ? "populated 1\nfrozen 0\n" : "4242\n");
        BOOST_TEST(!t.known_empty());
        fs->write(file, v2 ? "populated 0\nfrozen 0\n" : "");
        BOOST_TEST(t.known_empty());
        fs->remove(file);
    }
}

BOOST_AUTO_TEST_CASE(a_v1_task_cgroup_is_killed_pid_by_pid_and_counts_cpuacct) {
    auto fs = std::make_shared<FakeFs>();
    fs->write("/proc/self/mounts", k_v1_mounts);
    fs->write("/proc/self/cgroup", "2:cpu,cpuacct:/\n");
    fs->mkdir("/sys/fs/cgroup/cpu,cpuacct");
    std::string why;
    auto tree = CgroupTree::open(fs, 7, &why);
    BOOST_TEST_REQUIRE(tree != nullptr, why);
    BOOST_TEST(!tree->v2());
    TaskCgroup t(*tree, "t0");
    pid_t child = ::fork();
    if (child == 0) {
        ::setsid();  // out of any group: only the cgroup's pid list names it
        ::pause();
        ::_exit(0);
    }
    fs->write(t.dir() + "/cgroup.procs", std::to_string(child) + "\n");
    fs->write(t.dir() + "/cpuacct.usage", "750000000\n");
    BOOST_TEST(*t.cpu_seconds() == 0.75);
    t.kill();
    int st = 0;
    BOOST_TEST(::waitpid(child, &st, 0) == child);
    BOOST_TEST(WIFSIGNALED(st));
    BOOST_TEST(WTERMSIG(st) == SIGKILL);
    fs->remove(t.dir() + "/cgroup.procs");
    fs->remove(t.dir() + "/cpuacct.usage");
}

BOOST_AUTO_TEST_CASE(no_hierarchy_or_no_permission_says_why) {
    auto fs = std::make_shared<FakeFs>();
    fs->write("/proc/self/mounts", "proc /proc proc rw 0 0\n");
    std::string why;
    BOOST_TEST(CgroupTree::open(fs, 1, &why) == nullptr);
    BOOST_TEST(why.find("no cgroup2") != std::string::npos);
    fs->write("/proc/self/mounts", k_hybrid_mounts);
    fs->write("/proc/self/cgroup", "0::/gone\n");  // its directory does not exist
    BOOST_TEST(CgroupTree::open(fs, 1, &why) == nullptr);
    BOOST_TEST(why.find("cannot create /sys/fs/cgroup/unified/gone/hearth-w1") != std::string::npos,
               why);
}

BOOST_AUTO_TEST_CASE(a_terminated_workers_tree_is_killed_cgroup_by_cgroup_and_removed) {
    // What the worker's SIGTERM handler does: t0 (v2, cgroup.kill), t1 (a
    // kernel without cgroup.kill: frozen, then its listed pid killed, a real
    // child here), t2 already empty; "tasks" is a v1 file, not a cgroup.
    auto fs = std::make_shared<FakeFs>();
    const std::string tree = "/sys/fs/cgroup/unified/hearth-w99";
    fs->mkdir(tree + "/t0");
    fs->mkdir(tree + "/t1");
    fs->mkdir(tree + "/t2");
    fs->write(tree + "/tasks", "");
    fs->write(tree + "/t0/cgroup.kill", "");
    pid_t child = ::fork();
    if (child == 0) {
        ::setsid();
        ::pause();
        ::_exit(0);
    }
    fs->write(tree + "/t1/cgroup.procs", std::to_string(child) + "\n");
    fs->write(tree + "/t1/cgroup.freeze", "0");
    // The fake's t0 and t1 keep their files, so rmdir refuses them as the
    // kernel refuses a cgroup not yet empty: two are left.
    BOOST_TEST(kill_cgroup_tree_signal_safe(fs->path(tree).c_str(), true) == 2);
    BOOST_TEST(*fs->read(tree + "/t0/cgroup.kill").text == "1");
    int st = 0;
    BOOST_TEST(::waitpid(child, &st, 0) == child);
    BOOST_TEST(WIFSIGNALED(st));
    BOOST_TEST(WTERMSIG(st) == SIGKILL);
    // Frozen for the kill, thawed after.
    BOOST_TEST(*fs->read(tree + "/t1/cgroup.freeze").text == "0");
    BOOST_TEST(!fs->exists(tree + "/t2"));
    BOOST_TEST(fs->exists(tree + "/tasks"));
}

BOOST_AUTO_TEST_CASE(a_dead_workers_tree_with_a_task_left_in_it_is_killed_on_the_next_open) {
    auto fs = std::make_shared<FakeFs>();
    fs->write("/proc/self/mounts", k_v1_mounts);
    fs->write("/proc/self/cgroup", "2:cpu,cpuacct:/\n");
    const std::string stale = "/sys/fs/cgroup/cpu,cpuacct/hearth-w23";  // no /proc/23
    fs->mkdir(stale + "/t0");
    pid_t child = ::fork();
    if (child == 0) {
        ::setsid();
        ::pause();
        ::_exit(0);
    }
    fs->write(stale + "/t0/cgroup.procs", std::to_string(child) + "\n");
    std::string why;
    auto tree = CgroupTree::open(fs, 24, &why);
    BOOST_TEST_REQUIRE(tree != nullptr, why);
    int st = 0;
    BOOST_TEST(::waitpid(child, &st, 0) == child);
    BOOST_TEST(WIFSIGNALED(st));
}

BOOST_AUTO_TEST_SUITE_END()
