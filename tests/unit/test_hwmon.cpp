#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "plugins/energy/hwmon.hpp"
#include "plugins/energy/select.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace std::chrono_literals;
using hearth::test::FakeFs;

namespace {

const std::string k_hw = "/sys/class/hwmon";

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

struct Rig {
    std::shared_ptr<FakeFs> fs = std::make_shared<FakeFs>();
    std::shared_ptr<hearth::ManualClock> clock = std::make_shared<hearth::ManualClock>();
};

}  // namespace

BOOST_AUTO_TEST_SUITE(hwmon)

BOOST_AUTO_TEST_CASE(acpi_power_meter_is_found_by_name_not_index) {
    Rig r;
    // A CPU temperature sensor, a GPU's power (a part) and the node meter at hwmon10.
    r.fs->write(k_hw + "/hwmon0/name", "coretemp\n");
    r.fs->write(k_hw + "/hwmon0/temp1_input", "45000\n");
    r.fs->write(k_hw + "/hwmon2/name", "amdgpu\n");
    r.fs->write(k_hw + "/hwmon2/power1_average", "30000000\n");
    r.fs->add_power_meter(k_hw + "/hwmon10", 150'000'000, 1000);
    std::string why;
    auto meters = hearth::find_hwmon_meters(*r.fs, why);
    BOOST_REQUIRE_EQUAL(meters.size(), 1u);
    BOOST_TEST(meters[0].dir == k_hw + "/hwmon10");
    BOOST_TEST(meters[0].file == "power1_average");
    BOOST_TEST(!meters[0].counter);
    BOOST_TEST(meters[0].average_interval_ms == 1000u);
    auto p = hearth::probe_hwmon(*r.fs);
    BOOST_TEST(p.available);
    BOOST_TEST(contains(p.detail, "150 W from power1_average (averaged over 1 s)"), p.detail);
}

BOOST_AUTO_TEST_CASE(old_kernels_keep_the_attributes_under_device) {
    Rig r;
    r.fs->mkdir(k_hw + "/hwmon1");
    r.fs->add_power_meter(k_hw + "/hwmon1/device", 90'000'000);
    std::string why;
    auto meters = hearth::find_hwmon_meters(*r.fs, why);
    BOOST_REQUIRE_EQUAL(meters.size(), 1u);
    BOOST_TEST(meters[0].dir == k_hw + "/hwmon1/device");
}

BOOST_AUTO_TEST_CASE(parts_only_and_nothing_say_why_not) {
    Rig r;
    std::string why;
    BOOST_TEST(hearth::find_hwmon_meters(*r.fs, why).empty());
    BOOST_TEST(contains(why, "no node power meter under /sys/class/hwmon"), why);
    r.fs->write(k_hw + "/hwmon2/name", "amdgpu\n");
    r.fs->write(k_hw + "/hwmon2/power1_average", "30000000\n");
    BOOST_TEST(hearth::find_hwmon_meters(*r.fs, why).empty());
    BOOST_TEST(contains(why, "parts only (amdgpu)"), why);
    auto p = hearth::probe_hwmon(*r.fs);
    BOOST_TEST(!p.available);
    BOOST_TEST(p.detail == why);
}

BOOST_AUTO_TEST_CASE(garbage_meter_file_is_unavailable_with_the_file_named) {
    Rig r;
    r.fs->add_power_meter(k_hw + "/hwmon0", 0);
    r.fs->write(k_hw + "/hwmon0/power1_average", "n/a\n");
    std::string why;
    BOOST_TEST(hearth::find_hwmon_meters(*r.fs, why).empty());
    BOOST_TEST(contains(why, "power1_average: unparsable value 'n/a'"), why);
    BOOST_CHECK_THROW(hearth::HwmonSource(r.fs, r.clock), hearth::Error);
}

BOOST_AUTO_TEST_CASE(power_is_integrated_between_reads) {
    Rig r;
    r.fs->add_power_meter(k_hw + "/hwmon0", 150'000'000);
    hearth::HwmonSource src(r.fs, r.clock);
    BOOST_TEST(src.read().total.value == 0u);  // the first read sets the time base
    r.clock->advance(100ms);
    BOOST_TEST(src.read().total.value == 15'000'000u);  // 150 W x 0.1 s
    r.fs->write(k_hw + "/hwmon0/power1_average", "200000000\n");
    r.clock->advance(250ms);
    BOOST_TEST(src.read().total.value == 65'000'000u);  // + 200 W x 0.25 s
    BOOST_TEST(src.checkpoint().empty());               // no counter to resume
    // Reads no further apart than the meter averages over.
    BOOST_TEST(src.max_interval().count() == 1000);
}

BOOST_AUTO_TEST_CASE(fractions_of_a_microjoule_are_carried_not_lost) {
    Rig r;
    r.fs->add_power_meter(k_hw + "/hwmon0", 1);  // 1 uW
    hearth::HwmonSource src(r.fs, r.clock);
    src.read();
    for (int i = 0; i < 10; ++i) {
        r.clock->advance(100ms);  // 0.1 uJ each
        src.read();
    }
    r.clock->advance(10ms);
    BOOST_TEST(src.read().total.value == 1u);
}

BOOST_AUTO_TEST_CASE(a_failed_or_absurd_reading_is_covered_by_the_next_good_one) {
    Rig r;
    r.fs->add_power_meter(k_hw + "/hwmon0", 100'000'000);
    hearth::HwmonSource src(r.fs, r.clock, hearth::Watts{300});
    src.read();
    r.clock->advance(1s);
    r.fs->fail(k_hw + "/hwmon0/power1_average", EIO);
    auto bad = src.read();
    BOOST_TEST(bad.total.value == 0u);
    BOOST_REQUIRE_EQUAL(bad.warnings.size(), 1u);
    BOOST_TEST(contains(bad.warnings[0], "hwmon power_meter (hwmon0): power1_average read failed"),
               bad.warnings[0]);
    r.fs->heal(k_hw + "/hwmon0/power1_average");
    r.fs->write(k_hw + "/hwmon0/power1_average", "900000000\n");  // 900 W > 2 x 300 W
    r.clock->advance(1s);
    auto absurd = src.read();
    BOOST_TEST(absurd.total.value == 0u);
    r.fs->write(k_hw + "/hwmon0/power1_average", "100000000\n");
    r.clock->advance(1s);
    BOOST_TEST(src.read().total.value == 300'000'000u);  // 100 W over all 3 s
}

BOOST_AUTO_TEST_CASE(energy_counter_is_preferred_and_its_wrap_counted) {
    Rig r;
    const std::uint64_t near_wrap = (std::uint64_t{1} << 32) - 5'000'000;
    r.fs->add_power_meter(k_hw + "/hwmon0", 100'000'000, 1000, near_wrap);
    hearth::HwmonSource src(r.fs, r.clock);
    BOOST_REQUIRE(src.meters()[0].counter);
    src.read();
    r.clock->advance(100ms);
    r.fs->write(k_hw + "/hwmon0/energy1_input", "5000000\n");  // wrapped: +10 J
    BOOST_TEST(src.read().total.value == 10'000'000u);
    // Resumed from the checkpoint after a restart: nothing the counter holds is lost.
    auto cp = src.checkpoint();
    BOOST_TEST(cp == k_hw + "/hwmon0=5000000");
    hearth::HwmonSource again(r.fs, r.clock);
    r.fs->write(k_hw + "/hwmon0/energy1_input", "25000000\n");
    r.clock->advance(1s);
    again.resume(cp, 1.0);
    BOOST_TEST(again.read().total.value == 20'000'000u);
}

BOOST_AUTO_TEST_CASE(a_counter_going_backwards_is_a_reset_not_a_wrap) {
    Rig r;
    r.fs->add_power_meter(k_hw + "/hwmon0", 100'000'000, 1000, 900'000'000);
    hearth::HwmonSource src(r.fs, r.clock, hearth::Watts{500});
    src.read();
    r.clock->advance(1s);
    r.fs->write(k_hw + "/hwmon0/energy1_input", "1000000\n");  // a wrap would be 3.4 kJ in 1 s
    auto rd = src.read();
    BOOST_TEST(rd.total.value == 0u);
    BOOST_REQUIRE_EQUAL(rd.warnings.size(), 1u);
    BOOST_TEST(contains(rd.warnings[0], "counter reset"), rd.warnings[0]);
    r.clock->advance(1s);
    r.fs->write(k_hw + "/hwmon0/energy1_input", "101000000\n");
    BOOST_TEST(src.read().total.value == 100'000'000u);  // counting goes on from the new value
}

BOOST_AUTO_TEST_CASE(auto_prefers_the_node_meter_and_rapl_splits_it) {
    Rig r;
    r.fs->add_zone("/sys/class/powercap/intel-rapl:0", "package-0", 262143328850, 1000);
    r.fs->add_power_meter(k_hw + "/hwmon0", 150'000'000);
    auto c = hearth::choose_energy_source("auto", r.fs, r.clock, nullptr, {});
    BOOST_TEST(c.source->name() == "hwmon+powercap");
    BOOST_TEST(contains(c.summary,
                        "energy source: hwmon (power_meter power1_average), split into parts by "
                        "powercap (package-0): they are charged by activity, the rest of the "
                        "node's energy (the platform overhead) by reservation; redfish: "),
               c.summary);
    BOOST_TEST(!contains(c.summary, "powercap: not needed"), c.summary);
    BOOST_TEST(c.source->meter() == "power_meter (hwmon0) power1_average (integrated)+package-0");
    BOOST_TEST(c.table[1].source == "hwmon");  // after redfish, not configured here
}

BOOST_AUTO_TEST_SUITE_END()
