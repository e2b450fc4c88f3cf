// The agent's bookkeeping in virtual time: a fake meter, fake /proc files, a
// manual clock. Every interval's charges add up to its energy exactly, and
// tasks are charged by their shares.
#include <boost/test/unit_test.hpp>

#include "core/accountant.hpp"
#include "core/error.hpp"
#include "tests/fakes/fake_energy.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace hearth;
using hearth::test::FakeEnergySource;
using hearth::test::FakeFs;

namespace {

std::string stat_line(int pid, unsigned long long utime, unsigned long long stime = 0) {
    return std::to_string(pid) + " (busy (x)) R 1 " + std::to_string(pid) + " " +
           std::to_string(pid) + " 0 -1 4194304 0 0 0 0 " + std::to_string(utime) + " " +
           std::to_string(stime) + " 0 0 20 0 1 0 100 1000 10\n";
}

std::string proc_stat(unsigned long long busy, unsigned long long idle) {
    return "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) +
           " 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n";
}

void check_exact(const IntervalRecord& r) {
    std::uint64_t sum = 0;
    for (const auto& c : r.charges) sum += c.static_part.value + c.dynamic_part.value;
    BOOST_TEST(sum == r.energy.value);
}

struct World {
    std::shared_ptr<FakeFs> fs = std::make_shared<FakeFs>();
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
    FakeEnergySource meter;
    unsigned long long busy = 0, idle = 0;
    World() { fs->write("/proc/stat", proc_stat(0, 0)); }
    void tick(std::uint64_t uj, unsigned long long busy_ticks, unsigned long long idle_ticks) {
        clock->advance(std::chrono::milliseconds(100));
        meter.total += Microjoules{uj};
        busy += busy_ticks;
        idle += idle_ticks;
        fs->write("/proc/stat", proc_stat(busy, idle));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(accountant)

BOOST_AUTO_TEST_CASE(two_tenants_split_by_cpu_share_and_every_interval_adds_up) {
    World w;
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "pool", Watts{20}, 2});
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    w.fs->write("/proc/200/stat", stat_line(200, 0));
    IntervalRecord closed;
    std::uint64_t a = acct.register_task({{"bank", "j1", 0, 1}, 100, 1}, closed);
    check_exact(closed);
    std::uint64_t b = acct.register_task({{"studio", "j2", 0, 1}, 200, 1}, closed);
    check_exact(closed);
    std::uint64_t measured = 0;
    unsigned long long ua = 0, ub = 0;
    for (int i = 0; i < 300; ++i) {
        // 100 ms at 30 W: 3 J. Task a uses 3x the CPU of task b.
        w.tick(3'000'000, 8, 12);
        ua += 6;
        ub += 2;
        w.fs->write("/proc/100/stat", stat_line(100, ua));
        w.fs->write("/proc/200/stat", stat_line(200, ub));
        IntervalRecord r = acct.sample();
        check_exact(r);
        BOOST_TEST(r.t1_ms - r.t0_ms == 100);
        measured += r.energy.value;
    }
    TaskTotals ta = acct.unregister_task(a, std::nullopt, closed);
    TaskTotals tb = acct.unregister_task(b, std::nullopt, closed);
    BOOST_TEST(measured == 900'000'000u);
    // Static: 20 W idle over 2 cores, each task holds one core -> 1 J each per
    // interval. Dynamic: 1 J per interval split 3:1.
    BOOST_TEST(ta.energy.value == 300u * (1'000'000 + 750'000));
    BOOST_TEST(tb.energy.value == 300u * (1'000'000 + 250'000));
    BOOST_TEST(!ta.estimated);
}

BOOST_AUTO_TEST_CASE(unreserved_capacity_and_background_work_go_to_the_house) {
    World w;
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "pool", Watts{20}, 2});
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    IntervalRecord closed;
    acct.register_task({{"bank", "j1", 3, 2}, 100, 1}, closed);
    w.tick(4'000'000, 10, 10);  // 4 J; task used 5 ticks, the rest of the node 5
    w.fs->write("/proc/100/stat", stat_line(100, 5));
    IntervalRecord r = acct.sample();
    check_exact(r);
    BOOST_REQUIRE_EQUAL(r.charges.size(), 2u);
    const ChargeRow& task = r.charges[0];
    const ChargeRow& house = r.charges[1];
    BOOST_TEST(task.tenant == "bank");
    BOOST_TEST(task.task == 3);
    BOOST_TEST(task.attempt == 2u);
    BOOST_TEST(house.tenant == "");
    BOOST_TEST(house.task == -1);
    // 2 J static: 1 J each (one of two cores reserved); 2 J dynamic: 1 J each.
    BOOST_TEST(task.static_part.value == 1'000'000u);
    BOOST_TEST(task.dynamic_part.value == 1'000'000u);
    BOOST_TEST(house.static_part.value == 1'000'000u);
    BOOST_TEST(house.dynamic_part.value == 1'000'000u);
}

BOOST_AUTO_TEST_CASE(the_reaped_cpu_time_covers_a_task_whose_processes_are_gone) {
    World w;
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "s", Watts{0}, 1});
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    IntervalRecord closed;
    std::uint64_t id = acct.register_task({{"bank", "j", 0, 1}, 100, 1}, closed);
    w.fs->remove("/proc/100");  // the task exited and was reaped
    w.tick(1'000'000, 10, 0);
    TaskTotals t = acct.unregister_task(id, 0.1, closed);  // 0.1 s = 10 ticks, all the work
    check_exact(closed);
    BOOST_TEST(t.energy.value == 1'000'000u);
    BOOST_CHECK_THROW(acct.unregister_task(id, std::nullopt, closed), Error);
}

BOOST_AUTO_TEST_CASE(estimated_sources_mark_records_and_totals) {
    World w;
    FakeEnergySource model(true);
    Accountant acct(model, w.fs, w.clock, AccountantConfig{"n1", "s", Watts{10}, 1});
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    IntervalRecord closed;
    std::uint64_t id = acct.register_task({{"bank", "j", 0, 1}, 100, 1}, closed);
    w.clock->advance(std::chrono::seconds(1));
    model.total += Microjoules{5'000'000};
    IntervalRecord r = acct.sample();
    BOOST_TEST(r.estimated);
    TaskTotals t = acct.unregister_task(id, std::nullopt, closed);
    BOOST_TEST(t.estimated);
    BOOST_TEST(t.energy.value == 5'000'000u);  // holds the only core: all the static part
}

BOOST_AUTO_TEST_CASE(source_warnings_are_passed_on) {
    World w;
    Accountant acct(w.meter, w.fs, w.clock, AccountantConfig{"n1", "s", Watts{10}, 1});
    w.meter.pending_warnings.push_back("zone package-0: energy_uj read failed");
    w.tick(1000, 1, 1);
    acct.sample();
    auto warnings = acct.take_warnings();
    BOOST_REQUIRE_EQUAL(warnings.size(), 1u);
    BOOST_TEST(acct.take_warnings().empty());
}

BOOST_AUTO_TEST_SUITE_END()
