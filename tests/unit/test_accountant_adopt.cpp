// A restarted agent takes back the tasks an earlier run registered: same ids,
// totals continued, CPU counted from the adoption, and never a process that
// merely reuses a saved pid.
#include <boost/test/unit_test.hpp>

#include "core/accountant.hpp"
#include "core/error.hpp"
#include "tests/fakes/fake_energy.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace hearth;
using hearth::test::FakeEnergySource;
using hearth::test::FakeFs;

namespace {

// /proc/PID/stat with utime and the start time (field 22) chosen.
std::string stat_line(int pid, unsigned long long utime, unsigned long long start = 100,
                      const std::string& comm = "busy (x)") {
    return std::to_string(pid) + " (" + comm + ") R 1 " + std::to_string(pid) + " " +
           std::to_string(pid) + " 0 -1 4194304 0 0 0 0 " + std::to_string(utime) +
           " 0 0 0 20 0 1 0 " + std::to_string(start) + " 1000 10\n";
}

std::string proc_stat(unsigned long long busy, unsigned long long idle) {
    return "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) +
           " 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n";
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
    std::unique_ptr<Accountant> accountant() {
        return std::make_unique<Accountant>(meter, fs, clock,
                                            AccountantConfig{"n1", "pool", Watts{20}, 2});
    }
};

std::uint64_t charged(const IntervalRecord& r, const std::string& tenant) {
    std::uint64_t sum = 0;
    for (const auto& c : r.charges)
        if (c.tenant == tenant) sum += c.static_part.value + c.dynamic_part.value;
    return sum;
}

std::optional<TaskView> view_of(const std::vector<TaskView>& v, std::uint64_t id) {
    for (const auto& t : v)
        if (t.id == id) return t;
    return std::nullopt;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(accountant_adopt)

BOOST_AUTO_TEST_CASE(an_adopted_task_keeps_its_id_and_its_total_goes_on) {
    World w;
    unsigned long long ua = 0;
    w.fs->write("/proc/100/stat", stat_line(100, ua));
    std::vector<TaskView> saved;
    std::uint64_t next = 0, id = 0, before = 0;
    {
        auto first = w.accountant();
        IntervalRecord closed;
        // Another task first, so that the ids are not both 1.
        w.fs->write("/proc/200/stat", stat_line(200, 0));
        std::uint64_t other = first->register_task({{"studio", "j0", 0, 1}, 200, 1}, closed);
        id = first->register_task({{"bank", "j1", 7, 2}, 100, 1}, closed);
        first->unregister_task(other, std::nullopt, closed);
        for (int i = 0; i < 5; ++i) {
            w.tick(3'000'000, 8, 12);
            ua += 6;
            w.fs->write("/proc/100/stat", stat_line(100, ua));
            before += charged(first->sample(), "bank");
        }
        saved = first->tasks();
        next = first->next_id();
    }
    BOOST_REQUIRE_EQUAL(saved.size(), 1u);
    BOOST_TEST(saved[0].totals.energy.value == before);
    BOOST_TEST(before > 0u);

    // No agent for a while: the task ran on and used 100 ticks of CPU.
    w.tick(5'000'000, 100, 0);
    ua += 100;
    w.fs->write("/proc/100/stat", stat_line(100, ua));

    auto second = w.accountant();
    second->reserve_ids(next);
    BOOST_REQUIRE(second->adopt_task(saved[0]));
    BOOST_TEST(second->has_task(id));
    auto v = view_of(second->tasks(), id);
    BOOST_REQUIRE(v);
    BOOST_TEST(v->reg.key.job == "j1");
    BOOST_TEST(v->reg.key.task == 7);
    BOOST_TEST(v->reg.key.attempt == 2u);
    BOOST_TEST(v->totals.energy.value == before);

    // First interval after the adoption: the task used 4 of the node's 8
    // busy ticks, the house the other 4. Had the downtime's 100 ticks been
    // counted, the task would have taken all the dynamic energy.
    w.tick(3'000'000, 8, 12);
    ua += 4;
    w.fs->write("/proc/100/stat", stat_line(100, ua));
    IntervalRecord r = second->sample();
    std::uint64_t after = charged(r, "bank");
    std::uint64_t task_dyn = 0, house_dyn = 0;
    for (const auto& c : r.charges)
        (c.tenant.empty() ? house_dyn : task_dyn) += c.dynamic_part.value;
    BOOST_TEST(task_dyn > 0u);
    BOOST_TEST((task_dyn > house_dyn ? task_dyn - house_dyn : house_dyn - task_dyn) <= 1u);

    // The worker's unregister with the id it got from the first run.
    IntervalRecord closed;
    TaskTotals t = second->unregister_task(id, std::nullopt, closed);
    after += charged(closed, "bank");
    BOOST_TEST(t.energy.value == before + after);
    // New registrations never reuse an id a worker may still hold.
    w.fs->write("/proc/300/stat", stat_line(300, 0));
    std::uint64_t fresh = second->register_task({{"bank", "j1", 8, 1}, 300, 1}, closed);
    BOOST_TEST(fresh == next);
    BOOST_TEST(fresh > id);
}

BOOST_AUTO_TEST_CASE(a_pid_that_is_gone_or_now_another_process_is_not_adopted) {
    World w;
    auto acct = w.accountant();
    TaskView saved;
    saved.id = 4;
    saved.reg = Registration{{"bank", "j1", 3, 1}, 300, 1, 100};
    saved.totals.energy = Microjoules{1234};
    // Gone: no /proc entry.
    BOOST_TEST(!acct->adopt_task(saved));
    // The pid was given to a process that started later.
    w.fs->write("/proc/300/stat", stat_line(300, 0, 555));
    BOOST_TEST(!acct->adopt_task(saved));
    // A start time never read (0) cannot be checked: not adopted either.
    TaskView unknown = saved;
    unknown.reg.start_ticks = 0;
    w.fs->write("/proc/300/stat", stat_line(300, 0, 100));
    BOOST_TEST(!acct->adopt_task(unknown));
    BOOST_TEST(acct->tasks().empty());
    IntervalRecord closed;
    BOOST_CHECK_THROW(acct->unregister_task(4, std::nullopt, closed), Error);

    // The same process: adopted once, not twice, and its id stays reserved.
    BOOST_TEST(acct->adopt_task(saved));
    BOOST_TEST(!acct->adopt_task(saved));
    BOOST_TEST(acct->tasks().size() == 1u);
    BOOST_TEST(acct->next_id() == 5u);
    TaskView bad = saved;
    bad.id = 0;
    BOOST_TEST(!acct->adopt_task(bad));
    TaskTotals t = acct->unregister_task(4, std::nullopt, closed);
    BOOST_TEST(t.energy.value >= 1234u);
}

BOOST_AUTO_TEST_CASE(registration_reads_the_start_time_and_find_task_names_the_attempt) {
    World w;
    auto acct = w.accountant();
    w.fs->write("/proc/100/stat", stat_line(100, 0, 4242));
    IntervalRecord closed;
    TaskKey key{"bank", "j1", 0, 1};
    std::uint64_t id = acct->register_task({key, 100, 1}, closed);
    BOOST_REQUIRE_EQUAL(acct->tasks().size(), 1u);
    BOOST_TEST(acct->tasks()[0].reg.start_ticks == 4242u);
    BOOST_TEST(acct->find_task(key).value_or(0) == id);
    BOOST_TEST(acct->find_task(key, 100).value_or(0) == id);
    BOOST_TEST(!acct->find_task(key, 101));
    BOOST_TEST(!acct->find_task(TaskKey{"bank", "j1", 0, 2}));
    BOOST_TEST(!acct->find_task(TaskKey{"studio", "j1", 0, 1}));
    // A pid without a /proc entry: registered, start time unknown.
    std::uint64_t ghost = acct->register_task({{"bank", "j1", 1, 1}, 999, 1}, closed);
    auto g = view_of(acct->tasks(), ghost);
    BOOST_REQUIRE(g);
    BOOST_TEST(g->reg.start_ticks == 0u);
}

BOOST_AUTO_TEST_CASE(start_ticks_are_counted_from_after_the_command_name) {
    FakeFs fs;
    fs.write("/proc/10/stat", stat_line(10, 5, 777, ") 1 2 3 ("));
    BOOST_TEST(process_start_ticks(fs, 10).value_or(0) == 777);
    fs.write("/proc/11/stat", stat_line(11, 5, 123456789012ULL, "sh"));
    BOOST_TEST(process_start_ticks(fs, 11).value_or(0) == 123456789012ULL);
    fs.write("/proc/12/stat", "12 (short) S 1 12 12 0\n");
    BOOST_TEST(!process_start_ticks(fs, 12));
    fs.write("/proc/13/stat", "13 no parenthesis at all\n");
    BOOST_TEST(!process_start_ticks(fs, 13));
    BOOST_TEST(!process_start_ticks(fs, 14));
    BOOST_TEST(!process_start_ticks(fs, 0));
}

BOOST_AUTO_TEST_CASE(reserved_ids_only_move_forward) {
    World w;
    auto acct = w.accountant();
    acct->reserve_ids(50);
    acct->reserve_ids(10);
    BOOST_TEST(acct->next_id() == 50u);
    IntervalRecord closed;
    w.fs->write("/proc/100/stat", stat_line(100, 0));
    BOOST_TEST(acct->register_task({{"bank", "j1", 0, 1}, 100, 1}, closed) == 50u);
    BOOST_TEST(acct->next_id() == 51u);
}

BOOST_AUTO_TEST_SUITE_END()
