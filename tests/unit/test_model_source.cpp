#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "plugins/energy/model.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace std::chrono_literals;
using hearth::test::FakeFs;

namespace {

// /proc/stat of a 2-core node; busy = user+nice+system+irq+softirq+steal,
// idle = idle+iowait (guest is inside user and must not count twice).
std::string proc_stat(std::uint64_t busy, std::uint64_t idle) {
    const std::uint64_t user = busy / 2, system = busy - user - 3, irq = 1, softirq = 1, steal = 1;
    const std::uint64_t iowait = 5, idle_only = idle - iowait;
    auto line = [&](const std::string& label) {
        return label + " " + std::to_string(user) + " 0 " + std::to_string(system) + " " +
               std::to_string(idle_only) + " " + std::to_string(iowait) + " " +
               std::to_string(irq) + " " + std::to_string(softirq) + " " + std::to_string(steal) +
               " 40 0\n";
    };
    return line("cpu ") + line("cpu0") + line("cpu1") + "intr 12345\nctxt 999\nbtime 1700000000\n";
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_source)

BOOST_AUTO_TEST_CASE(derived_params_are_a_per_core_estimate) {
    auto p = hearth::derive_model_params(8, {});
    BOOST_TEST(p.idle.value == 26.0);  // 10 + 2 x 8
    BOOST_TEST(p.max.value == 106.0);  // idle + 10 x 8
    p = hearth::derive_model_params(8, {hearth::Watts{40}, {}});
    BOOST_TEST(p.idle.value == 40.0);
    BOOST_TEST(p.max.value == 120.0);
    p = hearth::derive_model_params(2, {hearth::Watts{15}, hearth::Watts{65}});
    BOOST_TEST(p.idle.value == 15.0);
    BOOST_TEST(p.max.value == 65.0);
    p = hearth::derive_model_params(0, {});  // unknown core count: at least one
    BOOST_TEST(p.idle.value == 12.0);
    BOOST_CHECK_THROW(hearth::derive_model_params(2, {hearth::Watts{50}, hearth::Watts{30}}),
                      hearth::Error);
}

BOOST_AUTO_TEST_CASE(probe_needs_proc_stat) {
    FakeFs fs;
    auto probe = hearth::probe_model(fs);
    BOOST_TEST(probe.source == "model");
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail, "/proc/stat"), probe.detail);

    fs.write("/proc/stat", proc_stat(100, 900));
    probe = hearth::probe_model(fs);
    BOOST_TEST(probe.available);
    BOOST_TEST(contains(probe.detail, "estimated"), probe.detail);
    BOOST_TEST(contains(probe.detail, "2 cores"), probe.detail);
    BOOST_TEST(contains(probe.detail, "idle 14 W, max 34 W"), probe.detail);
}

BOOST_AUTO_TEST_CASE(energy_is_the_integral_of_the_modelled_power) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<hearth::ManualClock>();
    fs->write("/proc/stat", proc_stat(1000, 9000));
    hearth::ModelSource src(fs, clock, {hearth::Watts{20}, hearth::Watts{60}});
    BOOST_TEST(src.estimated());
    BOOST_TEST(src.name() == "model");
    BOOST_TEST(src.max_power().value == 60.0);

    auto r = src.read();
    BOOST_TEST(r.total.value == 0u);  // first read: a baseline only
    BOOST_TEST(r.estimated);

    // Half busy for 10 s: 20 + 0.5 x 40 = 40 W -> 400 J.
    fs->write("/proc/stat", proc_stat(1000 + 500, 9000 + 500));
    clock->advance(10s);
    r = src.read();
    BOOST_TEST(r.estimated);
    BOOST_TEST(r.total.value == 400'000'000u);

    // Fully busy for 5 s: 60 W -> 300 J more.
    fs->write("/proc/stat", proc_stat(1500 + 1000, 9500));
    clock->advance(5s);
    BOOST_TEST(src.read().total.value == 700'000'000u);

    // Idle for 2 s: 20 W -> 40 J more.
    fs->write("/proc/stat", proc_stat(2500, 9500 + 400));
    clock->advance(2s);
    BOOST_TEST(src.read().total.value == 740'000'000u);
}

BOOST_AUTO_TEST_CASE(failed_read_spans_into_the_next) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<hearth::ManualClock>();
    fs->write("/proc/stat", proc_stat(1000, 9000));
    hearth::ModelSource src(fs, clock, {});
    BOOST_TEST(src.params().idle.value == 14.0);
    BOOST_TEST(src.params().max.value == 34.0);
    src.read();
    fs->fail("/proc/stat", EIO);
    clock->advance(1s);
    auto r = src.read();
    BOOST_TEST(r.total.value == 0u);
    BOOST_TEST(r.warnings.size() == 1u);
    fs->heal("/proc/stat");
    fs->write("/proc/stat", proc_stat(1000 + 100, 9000));  // fully busy over both seconds
    clock->advance(1s);
    BOOST_TEST(src.read().total.value == 68'000'000u);  // 34 W x 2 s
}

BOOST_AUTO_TEST_CASE(source_without_proc_stat_throws) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<hearth::ManualClock>();
    BOOST_CHECK_THROW(hearth::ModelSource(fs, clock, {}), hearth::Error);
}

BOOST_AUTO_TEST_SUITE_END()
