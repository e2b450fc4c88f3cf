// Per-task cycles as attribution weights: through the PAPI seam (FakePapi),
// and in the Accountant, which prefers cycles when every task is counted.
#include <boost/test/unit_test.hpp>

#include "core/accountant.hpp"
#include "plugins/energy/papi_cycles.hpp"
#include "tests/fakes/fake_energy.hpp"
#include "tests/fakes/fake_fs.hpp"
#include "tests/fakes/fake_papi.hpp"

using namespace hearth;
using hearth::test::FakeEnergySource;
using hearth::test::FakeFs;
using hearth::test::FakePapi;

namespace {

std::string stat_line(int pid, unsigned long long utime) {
    return std::to_string(pid) + " (t) R 1 " + std::to_string(pid) + " " + std::to_string(pid) +
           " 0 -1 0 0 0 0 0 " + std::to_string(utime) + " 0 0 0 20 0 1 0 1 1 1\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cycles)

BOOST_AUTO_TEST_CASE(the_dev_vm_case_no_counters_says_why_and_counts_nothing) {
    auto papi = std::make_shared<FakePapi>();
    papi->attach_error = "event PAPI_TOT_CYC: Event does not exist";
    BOOST_TEST(probe_papi_cycles(*papi) == "event PAPI_TOT_CYC: Event does not exist");
    PapiCycleMeter m(papi);
    BOOST_TEST(!m.attach(1, 100));
    BOOST_TEST(m.why_not().find("does not exist") != std::string::npos);
    BOOST_TEST(!m.cycles(1).has_value());
}

BOOST_AUTO_TEST_CASE(attached_counters_are_read_and_released) {
    auto papi = std::make_shared<FakePapi>();
    BOOST_TEST(probe_papi_cycles(*papi).empty());
    PapiCycleMeter m(papi);
    BOOST_REQUIRE(m.attach(7, 4242));
    papi->task_counters[4242]["PAPI_TOT_CYC"] = 1'000'000;
    BOOST_TEST(*m.cycles(7) == 1e6);
    m.detach(7);
    BOOST_TEST(papi->attached.empty());
    BOOST_TEST(!m.cycles(7).has_value());
}

BOOST_AUTO_TEST_CASE(dynamic_energy_follows_cycles_not_cpu_time_when_all_tasks_are_counted) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<ManualClock>();
    auto papi = std::make_shared<FakePapi>();
    PapiCycleMeter meter(papi);
    FakeEnergySource src;
    fs->write("/proc/stat", "cpu 0 0 0 0 0 0 0 0 0 0\n");
    fs->write("/proc/100/stat", stat_line(100, 0));
    fs->write("/proc/200/stat", stat_line(200, 0));
    Accountant acct(src, fs, clock, AccountantConfig{"n", "s", Watts{0}, 2}, &meter);
    IntervalRecord closed;
    acct.register_task({{"a", "j", 0, 1}, 100, 1}, closed);
    acct.register_task({{"b", "j", 1, 1}, 200, 1}, closed);
    // Equal CPU time, but task a retires 3x the cycles (b stalls on memory).
    clock->advance(std::chrono::seconds(1));
    src.total += Microjoules{4'000'000};
    fs->write("/proc/stat", "cpu 200 0 0 0 0 0 0 0 0 0\n");
    fs->write("/proc/100/stat", stat_line(100, 100));
    fs->write("/proc/200/stat", stat_line(200, 100));
    papi->task_counters[100]["PAPI_TOT_CYC"] = 3'000'000'000;
    papi->task_counters[200]["PAPI_TOT_CYC"] = 1'000'000'000;
    IntervalRecord r = acct.sample();
    BOOST_REQUIRE_EQUAL(r.charges.size(), 3u);
    BOOST_TEST(r.charges[0].dynamic_part.value == 3'000'000u);
    BOOST_TEST(r.charges[1].dynamic_part.value == 1'000'000u);
    BOOST_TEST(r.charges[2].dynamic_part.value == 0u);  // no background work
}

BOOST_AUTO_TEST_CASE(one_uncounted_task_means_cpu_time_for_everyone) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<ManualClock>();
    auto papi = std::make_shared<FakePapi>();
    PapiCycleMeter meter(papi);
    FakeEnergySource src;
    fs->write("/proc/stat", "cpu 0 0 0 0 0 0 0 0 0 0\n");
    fs->write("/proc/100/stat", stat_line(100, 0));
    fs->write("/proc/200/stat", stat_line(200, 0));
    Accountant acct(src, fs, clock, AccountantConfig{"n", "s", Watts{0}, 2}, &meter);
    IntervalRecord closed;
    acct.register_task({{"a", "j", 0, 1}, 100, 1}, closed);
    papi->attach_error = "PAPI_attach: Permission level does not permit operation";
    acct.register_task({{"b", "j", 1, 1}, 200, 1}, closed);
    clock->advance(std::chrono::seconds(1));
    src.total += Microjoules{4'000'000};
    fs->write("/proc/stat", "cpu 200 0 0 0 0 0 0 0 0 0\n");
    fs->write("/proc/100/stat", stat_line(100, 150));
    fs->write("/proc/200/stat", stat_line(200, 50));
    papi->task_counters[100]["PAPI_TOT_CYC"] = 1'000;
    IntervalRecord r = acct.sample();
    BOOST_TEST(r.charges[0].dynamic_part.value == 3'000'000u);  // 150:50 CPU ticks
    BOOST_TEST(r.charges[1].dynamic_part.value == 1'000'000u);
}

BOOST_AUTO_TEST_CASE(the_real_papi_here_either_counts_or_says_why) {
    std::shared_ptr<PapiApi> real(make_real_papi());
    std::string why = probe_papi_cycles(*real);
    BOOST_TEST_MESSAGE("per-task cycles on this machine: " << (why.empty() ? "available" : why));
    if (!why.empty()) BOOST_TEST(why.size() > 5u);
}

BOOST_AUTO_TEST_SUITE_END()
