// The agent reads a task's CPU from the task's own cgroup (core/cgroup,
// core/accountant): a FakeFs tree as this sandbox has it (v1 controllers and
// a v2 hierarchy side by side), /proc/PID/cgroup naming the worker's task
// cgroup. Work of processes that left the registered one's tree (double
// fork, setsid) is billed to the task; /proc is the fallback, said once.
#include <boost/test/unit_test.hpp>

#include "core/accountant.hpp"
#include "core/cgroup.hpp"
#include "tests/fakes/fake_energy.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace hearth;
using hearth::test::FakeEnergySource;
using hearth::test::FakeFs;

namespace {

const char* const k_mounts =
    "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
const char* const k_v1_mounts = "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n";

std::string stat_line(int pid, unsigned long long utime) {
    return std::to_string(pid) + " (sh) S 1 " + std::to_string(pid) + " " + std::to_string(pid) +
           " 0 -1 4194304 0 0 0 0 " + std::to_string(utime) + " 0 0 0 20 0 1 0 100 1000 10\n";
}

std::string proc_stat(unsigned long long busy, unsigned long long idle) {
    return "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) +
           " 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n";
}

struct World {
    std::shared_ptr<FakeFs> fs = std::make_shared<FakeFs>();
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
    FakeEnergySource meter;
    World(const char* mounts = k_mounts) {
        fs->write("/proc/self/mounts", mounts);
        fs->write("/proc/stat", proc_stat(0, 0));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(accountant_cgroup)

BOOST_AUTO_TEST_CASE(task_cgroup_paths_are_the_workers_trees_only) {
    BOOST_TEST(is_task_cgroup_path("/hearth-w17/t0"));
    BOOST_TEST(is_task_cgroup_path("/system.slice/site.service/hearth-w4242/t12"));
    BOOST_TEST(!is_task_cgroup_path("/"));
    BOOST_TEST(!is_task_cgroup_path("/system.slice/site.service"));
    BOOST_TEST(!is_task_cgroup_path("/hearth-w17"));
    BOOST_TEST(!is_task_cgroup_path("/hearth-w17/tasks"));
    BOOST_TEST(!is_task_cgroup_path("/hearth-wx/t1"));
    BOOST_TEST(!is_task_cgroup_path("/hearth-w17/t"));
}

BOOST_AUTO_TEST_CASE(a_tasks_cpu_is_its_cgroups_including_an_escaped_process) {
    World w;
    // The registered process (pid 100) idles; the work is done by a process
    // it double-forked, no longer its descendant, but in its cgroup.
    const std::string cg = "/sys/fs/cgroup/unified/hearth-w50/t0";
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    w.fs->write("/proc/100/cgroup", "2:cpuacct:/\n0::/hearth-w50/t0\n");
    w.fs->write(cg + "/cpu.stat", "usage_usec 0\nuser_usec 0\n");
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "pool", Watts{0}, 1});
    IntervalRecord closed;
    std::uint64_t id = acct.register_task({{"bank", "j1", 0, 1}, 100, 1}, closed);
    BOOST_REQUIRE_EQUAL(acct.tasks().size(), 1u);
    BOOST_TEST(acct.tasks()[0].cgroup == cg);
    // 1 s: the node busy 1 s (100 ticks), all of it the escaped process's.
    w.clock->advance(std::chrono::seconds(1));
    w.meter.total += Microjoules{5'000'000};
    w.fs->write("/proc/stat", proc_stat(100, 0));
    w.fs->write(cg + "/cpu.stat", "usage_usec 1000000\nuser_usec 1000000\n");
    IntervalRecord r = acct.sample();
    BOOST_REQUIRE_EQUAL(r.charges.size(), 2u);
    BOOST_TEST(r.charges[0].tenant == "bank");
    BOOST_TEST(r.charges[0].dynamic_part.value == 5'000'000u);
    BOOST_TEST(r.charges[1].dynamic_part.value == 0u);  // the house: nothing
    BOOST_TEST(acct.take_warnings().empty());
    acct.unregister_task(id, std::nullopt, closed);
}

BOOST_AUTO_TEST_CASE(
    a_reused_cgroups_earlier_tasks_are_not_billed_and_its_reading_closes_the_task) {
    // The worker's pooled cgroup t0 has counted 3 s of earlier tasks. The
    // new task uses 0.5 s; the worker's figure is the task's own (0.5 s),
    // the cgroup's 3.5 s: the task is billed 0.5 s either way round.
    World w;
    const std::string cg = "/sys/fs/cgroup/unified/hearth-w50/t0";
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    w.fs->write("/proc/100/cgroup", "2:cpuacct:/\n0::/hearth-w50/t0\n");
    w.fs->write(cg + "/cpu.stat", "usage_usec 3000000\n");
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "pool", Watts{0}, 1});
    IntervalRecord closed;
    std::uint64_t id = acct.register_task({{"bank", "j1", 0, 1}, 100, 1}, closed);
    BOOST_TEST_REQUIRE(acct.tasks()[0].cgroup == cg);
    w.clock->advance(std::chrono::seconds(1));
    w.meter.total += Microjoules{4'000'000};
    w.fs->write("/proc/stat", proc_stat(100, 0));  // the node busy 1 s
    w.fs->write(cg + "/cpu.stat", "usage_usec 3500000\n");
    acct.unregister_task(id, 0.5, closed);
    BOOST_REQUIRE_EQUAL(closed.charges.size(), 2u);
    BOOST_TEST(closed.charges[0].tenant == "bank");
    BOOST_TEST(closed.charges[0].dynamic_part.value == 2'000'000u);
    BOOST_TEST(closed.charges[1].dynamic_part.value == 2'000'000u);  // the house's half
}

BOOST_AUTO_TEST_CASE(on_v1_the_cpuacct_usage_of_the_task_cgroup_is_read) {
    World w(k_v1_mounts);
    const std::string cg = "/sys/fs/cgroup/cpu,cpuacct/hearth-w50/t3";
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    w.fs->write("/proc/100/cgroup", "3:memory:/x\n2:cpu,cpuacct:/hearth-w50/t3\n");
    w.fs->write(cg + "/cpuacct.usage", "0\n");
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "pool", Watts{0}, 1});
    IntervalRecord closed;
    acct.register_task({{"bank", "j1", 0, 1}, 100, 1}, closed);
    BOOST_TEST(acct.tasks()[0].cgroup == cg);
    w.clock->advance(std::chrono::seconds(1));
    w.meter.total += Microjoules{4'000'000};
    w.fs->write("/proc/stat", proc_stat(100, 0));
    w.fs->write(cg + "/cpuacct.usage", "500000000\n");  // half the node's work
    IntervalRecord r = acct.sample();
    BOOST_TEST(r.charges[0].dynamic_part.value == 2'000'000u);
    BOOST_TEST(r.charges[1].dynamic_part.value == 2'000'000u);
}

BOOST_AUTO_TEST_CASE(without_a_task_cgroup_proc_is_read_and_the_reason_said_once) {
    World w;
    // Both in the worker's own cgroup: it could make none for them.
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    w.fs->write("/proc/100/cgroup", "0::/system.slice/site.service\n");
    w.fs->write("/proc/200/stat", stat_line(200, 0));
    w.fs->write("/proc/200/cgroup", "0::/system.slice/site.service\n");
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "pool", Watts{0}, 1});
    IntervalRecord closed;
    acct.register_task({{"bank", "j1", 0, 1}, 100, 1}, closed);
    acct.register_task({{"studio", "j2", 0, 1}, 200, 1}, closed);
    for (const auto& t : acct.tasks()) BOOST_TEST(t.cgroup.empty());
    auto warnings = acct.take_warnings();
    BOOST_REQUIRE_EQUAL(warnings.size(), 1u);
    BOOST_TEST(warnings[0].find("not in a task cgroup of its own (/system.slice/site.service") !=
                   std::string::npos,
               warnings[0]);
    w.clock->advance(std::chrono::seconds(1));
    w.meter.total += Microjoules{4'000'000};
    w.fs->write("/proc/stat", proc_stat(100, 0));
    w.fs->write("/proc/100/stat", stat_line(100, 75));
    w.fs->write("/proc/200/stat", stat_line(200, 25));
    IntervalRecord r = acct.sample();
    BOOST_TEST(r.charges[0].dynamic_part.value == 3'000'000u);
    BOOST_TEST(r.charges[1].dynamic_part.value == 1'000'000u);
}

BOOST_AUTO_TEST_SUITE_END()
