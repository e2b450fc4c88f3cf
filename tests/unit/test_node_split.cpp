// A node meter split into parts: the RAPL/GPU part attributed by activity,
// the platform overhead (node - parts) by reservation, and tenants + house
// equal to the node meter's energy to the microjoule in every interval.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <memory>
#include <random>

#include "core/accountant.hpp"
#include "core/agent_socket.hpp"
#include "core/attribution.hpp"
#include "core/error.hpp"
#include "core/registration_check.hpp"
#include "plugins/energy/node_parts.hpp"
#include "plugins/energy/nvml.hpp"
#include "tests/fakes/fake_energy.hpp"
#include "tests/fakes/fake_fs.hpp"
#include "tests/fakes/fake_nvml.hpp"

using hearth::attribute_interval;
using hearth::IntervalInput;
using hearth::IntervalSplit;
using hearth::Microjoules;
using hearth::split_node_meter;
using hearth::TaskUsage;
using hearth::Watts;

namespace {

std::uint64_t sum(const IntervalSplit& s) {
    std::uint64_t t = s.house().value;
    for (const auto& c : s.tasks) t += c.total().value;
    return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(node_split)

BOOST_AUTO_TEST_CASE(overhead_is_node_minus_parts_floored_at_zero) {
    auto p = split_node_meter(Microjoules{150}, Microjoules{45});
    BOOST_TEST(p.explained.value == 45u);
    BOOST_TEST(p.overhead.value == 105u);
    BOOST_TEST(!p.exceeded);
    // RAPL above the meter: said, and the meter is trusted.
    p = split_node_meter(Microjoules{40}, Microjoules{45});
    BOOST_TEST(p.exceeded);
    BOOST_TEST(p.explained.value == 40u);
    BOOST_TEST(p.overhead.value == 0u);
}

BOOST_AUTO_TEST_CASE(overhead_goes_by_reservation_and_the_parts_by_work) {
    // 1 s on a 4-core node: the wall meter read 150 J, RAPL 45 J, idle 20 W.
    // The overhead (105 J) already covers the idle power: all 45 J of RAPL
    // are dynamic, split by CPU time; the 105 J go by cores held.
    IntervalInput in;
    in.energy = Microjoules{150'000'000};
    in.explained = Microjoules{45'000'000};
    in.seconds = 1;
    in.idle = Watts{20};
    in.cores = 4;
    in.tasks = {TaskUsage{2.0, 0.9}, TaskUsage{1.0, 0.1}};  // 2 cores busy, 1 core light
    in.house_work = 0;
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(sum(s) == 150'000'000u);
    // By reservation: 2/4, 1/4 and the unreserved 1/4 to the house.
    BOOST_TEST(s.tasks[0].static_part.value == 52'500'000u);
    BOOST_TEST(s.tasks[1].static_part.value == 26'250'000u);
    BOOST_TEST(s.house_static.value == 26'250'000u);
    // By work: 0.9 and 0.1 CPU seconds.
    BOOST_TEST(s.tasks[0].dynamic_part.value == 40'500'000u);
    BOOST_TEST(s.tasks[1].dynamic_part.value == 4'500'000u);
    BOOST_TEST(s.house_dynamic.value == 0u);
}

BOOST_AUTO_TEST_CASE(idle_power_left_after_the_overhead_is_the_parts_static_part) {
    // Node 100 J, parts 80 J (overhead 20 J), idle 50 W: 30 J of the parts
    // are static too, 50 J dynamic.
    IntervalInput in;
    in.energy = Microjoules{100'000'000};
    in.explained = Microjoules{80'000'000};
    in.seconds = 1;
    in.idle = Watts{50};
    in.cores = 2;
    in.tasks = {TaskUsage{2.0, 1.0}};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.tasks[0].static_part.value == 50'000'000u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 50'000'000u);
    BOOST_TEST(sum(s) == 100'000'000u);
    // Without parts the same interval splits as before: idle 50 J static.
    in.explained.reset();
    BOOST_TEST(attribute_interval(in).tasks[0].static_part.value == 50'000'000u);
}

BOOST_AUTO_TEST_CASE(parts_above_the_meter_charge_nothing_more_than_the_meter) {
    IntervalInput in;
    in.energy = Microjoules{10'000'001};
    in.explained = Microjoules{99'000'000};
    in.seconds = 0.1;
    in.idle = Watts{0};
    in.cores = 8;
    in.tasks = {TaskUsage{0.1, 0.05}, TaskUsage{0.4, 0.3}};
    in.house_work = 0.2;
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(sum(s) == 10'000'001u);
    std::uint64_t stat = s.house_static.value;
    for (const auto& c : s.tasks) stat += c.static_part.value;
    BOOST_TEST(stat == 0u);  // no overhead, no idle: all by work
}

BOOST_AUTO_TEST_CASE(tenants_and_house_equal_the_meter_to_the_microjoule_always) {
    std::mt19937_64 rng(20);
    std::uniform_int_distribution<std::uint64_t> energy(0, 5'000'000'000ULL);
    std::uniform_real_distribution<double> frac(0, 1.3), x(0, 4);
    for (int i = 0; i < 5000; ++i) {
        IntervalInput in;
        in.energy = Microjoules{energy(rng)};
        in.explained = Microjoules{
            static_cast<std::uint64_t>(static_cast<double>(in.energy.value) * frac(rng))};
        in.seconds = x(rng);
        in.idle = Watts{x(rng) * 40};
        in.cores = 1 + static_cast<unsigned>(x(rng) * 4);
        const int n = static_cast<int>(x(rng) * 3);
        for (int k = 0; k < n; ++k) in.tasks.push_back(TaskUsage{x(rng), x(rng)});
        in.house_work = x(rng);
        const IntervalSplit s = attribute_interval(in);
        BOOST_TEST_REQUIRE(sum(s) == in.energy.value);
    }
}

// The accountant with a node meter and RAPL beside it: each interval is the
// meter's energy, RAPL's part goes by CPU time, the rest by cores held.
BOOST_AUTO_TEST_CASE(the_accountant_charges_the_meter_split_into_parts) {
    using namespace hearth;
    auto fs = std::make_shared<test::FakeFs>();
    auto clock = std::make_shared<ManualClock>();
    const auto proc_stat = [](unsigned long long busy) {
        return "cpu  " + std::to_string(busy) +
               " 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n";
    };
    const auto pid_stat = [](unsigned long long utime) {
        return "100 (render) R 1 100 100 0 -1 4194304 0 0 0 0 " + std::to_string(utime) +
               " 0 0 0 20 0 1 0 100 1000 10\n";
    };
    fs->write("/proc/stat", proc_stat(0));
    fs->write("/proc/100/stat", pid_stat(0));
    auto node = std::make_unique<test::FakeEnergySource>();
    auto rapl = std::make_unique<test::FakeEnergySource>();
    test::FakeEnergySource* meter = node.get();
    test::FakeEnergySource* cpu = rapl.get();
    NodeWithParts source(std::move(node), std::move(rapl), nullptr);
    BOOST_TEST(source.name() == "fake-meter+fake-meter");
    Accountant acct(source, fs, clock, AccountantConfig{"n1", "pool", Watts{10}, 2});
    IntervalRecord closed;
    acct.register_task({{"studio", "j1", 0, 1}, 100, 1}, closed);
    // 100 ms: the wall meter 15 J, RAPL 4.5 J; the task used all the CPU.
    clock->advance(std::chrono::milliseconds(100));
    meter->total += Microjoules{15'000'000};
    cpu->total += Microjoules{4'500'000};
    fs->write("/proc/stat", proc_stat(10));
    fs->write("/proc/100/stat", pid_stat(10));
    IntervalRecord r = acct.sample();
    BOOST_TEST(r.energy.value == 15'000'000u);
    BOOST_TEST(r.source == "fake-meter+fake-meter");
    BOOST_REQUIRE_EQUAL(r.charges.size(), 2u);
    // Overhead 10.5 J (above the 1 J of idle) by reservation, one core of
    // two: 5.25 J each. RAPL's 4.5 J by CPU time: all the task's.
    BOOST_TEST(r.charges[0].static_part.value == 5'250'000u);
    BOOST_TEST(r.charges[0].dynamic_part.value == 4'500'000u);
    BOOST_TEST(r.charges[1].static_part.value == 5'250'000u);
    BOOST_TEST(r.charges[1].dynamic_part.value == 0u);
    // This fake node has no cgroups (the accountant says so once); the split
    // itself warns of nothing.
    for (const auto& w : acct.take_warnings())
        BOOST_TEST(w.rfind("task CPU is read from /proc", 0) == 0, w);

    // RAPL reads more than the meter: said once, the meter trusted.
    clock->advance(std::chrono::milliseconds(100));
    meter->total += Microjoules{3'000'000};
    cpu->total += Microjoules{4'000'000};
    r = acct.sample();
    BOOST_TEST(r.energy.value == 3'000'000u);
    std::uint64_t sum = 0;
    for (const auto& c : r.charges) sum += c.static_part.value + c.dynamic_part.value;
    BOOST_TEST(sum == 3'000'000u);
    const auto w = acct.take_warnings();
    BOOST_REQUIRE_EQUAL(w.size(), 1u);
    BOOST_TEST(w[0].find("the node meter is trusted") != std::string::npos, w[0]);
}

BOOST_AUTO_TEST_CASE(checkpoints_of_the_meter_and_its_parts_travel_together) {
    using namespace hearth;
    NodeWithParts source(std::make_unique<test::FakeEnergySource>(),
                         std::make_unique<test::FakeEnergySource>(), nullptr);
    BOOST_TEST(source.checkpoint() == "node:\ncpu:");
    const auto alone = [] {
        NodeWithParts n(std::make_unique<test::FakeEnergySource>(), nullptr, nullptr);
    };
    BOOST_CHECK_THROW(alone(), hearth::Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gpu_per_task)

// A node meter, RAPL and two GPUs (the fake NVML): a task registered with
// GPU 1 carries GPU 1's energy; GPU 0, held by no task, is the house's.
BOOST_AUTO_TEST_CASE(a_task_carries_its_gpus_energy_and_the_house_the_others) {
    using namespace hearth;
    auto fs = std::make_shared<test::FakeFs>();
    auto clock = std::make_shared<ManualClock>();
    fs->write("/proc/stat", "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
    fs->write("/proc/100/stat",
              "100 (render) R 1 100 100 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 "
              "100 1000 10\n");
    test::FakeNvmlState gpus;
    gpus.energy = {1'000'000, 5'000'000};  // mJ since the driver loaded
    auto nvml = std::make_unique<test::FakeNvml>(gpus);
    BOOST_REQUIRE(probe_nvml(*nvml).available);
    auto node = std::make_unique<test::FakeEnergySource>();
    auto rapl = std::make_unique<test::FakeEnergySource>();
    test::FakeEnergySource* meter = node.get();
    test::FakeEnergySource* cpu = rapl.get();
    NodeWithParts source(std::move(node), std::move(rapl),
                         std::make_unique<NvmlSource>(std::move(nvml), clock));
    BOOST_TEST(source.gpu_count() == 2u);
    BOOST_TEST(source.name() == "fake-meter+fake-meter+nvml");
    Accountant acct(source, fs, clock, AccountantConfig{"n1", "pool", Watts{0}, 1});
    IntervalRecord closed;
    Registration reg{{"studio", "j1", 0, 1}, 100, 1};
    reg.gpus = {1};
    acct.register_task(reg, closed);
    // 1 s: the meter 500 J; RAPL 50 J; GPU 0 100 J, GPU 1 300 J.
    clock->advance(std::chrono::seconds(1));
    meter->total += Microjoules{500'000'000};
    cpu->total += Microjoules{50'000'000};
    gpus.energy = {1'100'000, 5'300'000};
    IntervalRecord r = acct.sample();
    BOOST_TEST(r.energy.value == 500'000'000u);
    BOOST_REQUIRE_EQUAL(r.charges.size(), 2u);
    // The task: GPU 1's 300 J (dynamic) and the whole overhead, 50 J (it
    // holds the node's one core); RAPL's 50 J by CPU time: nobody worked, the
    // house's, with GPU 0's 100 J.
    BOOST_TEST(r.charges[0].dynamic_part.value == 300'000'000u);
    BOOST_TEST(r.charges[0].static_part.value == 50'000'000u);
    BOOST_TEST(r.charges[1].dynamic_part.value == 150'000'000u);
    BOOST_TEST(r.charges[1].static_part.value == 0u);
    std::uint64_t sum = 0;
    for (const auto& c : r.charges) sum += c.static_part.value + c.dynamic_part.value;
    BOOST_TEST(sum == 500'000'000u);
}

BOOST_AUTO_TEST_CASE(gpus_beyond_the_parts_are_scaled_to_the_meter_exactly) {
    hearth::IntervalInput in;
    in.energy = Microjoules{100};
    in.explained = Microjoules{130};  // the parts read more than the meter
    in.seconds = 1;
    in.cores = 2;
    in.tasks = {TaskUsage{1, 1, Microjoules{60}}, TaskUsage{1, 1, Microjoules{30}}};
    in.gpu_house = Microjoules{30};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(sum(s) == 100u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 50u);  // 60:30:30 of 100
    BOOST_TEST(s.tasks[1].dynamic_part.value == 25u);
    BOOST_TEST(s.house_dynamic.value == 25u);
}

BOOST_AUTO_TEST_CASE(registered_gpus_are_checked_against_the_node) {
    hearth::RegistrationPolicy p;
    p.gpus = 2;
    hearth::check_gpus(p, {0, 1});
    try {
        hearth::check_gpus(p, {2});
        BOOST_FAIL("GPU 2 accepted");
    } catch (const hearth::Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "GPU 2 on a node with 2 GPUs (0 to 1); register the GPUs the task was given");
    }
    p.gpus = 0;
    BOOST_CHECK_THROW(hearth::check_gpus(p, {0}), hearth::Error);
    hearth::check_gpus(p, {});
    auto op = hearth::parse_socket_op(
        R"({"op":"register","tenant":"t","job":"j","task":0,"attempt":1,"pid":5,"gpus":[1,0]})");
    BOOST_TEST((std::get<hearth::RegisterOp>(op).gpus == std::vector<unsigned>{1, 0}));
    for (const char* bad :
         {R"("gpus":[1,1])", R"("gpus":[-1])", R"("gpus":"0")", R"("gpus":[0.5])"}) {
        const std::string line =
            std::string(
                R"({"op":"register","tenant":"t","job":"j","task":0,"attempt":1,"pid":5,)") +
            bad + "}";
        try {
            hearth::parse_socket_op(line);
            BOOST_FAIL("accepted " << bad);
        } catch (const hearth::Error& e) {
            BOOST_TEST(std::string(e.what()) ==
                       "'gpus' must be a list of distinct GPU indices, such as [0, 1]");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
