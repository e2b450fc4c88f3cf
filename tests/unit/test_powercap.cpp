#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/energy_counter.hpp"
#include "core/error.hpp"
#include "plugins/energy/powercap.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace std::chrono_literals;
using hearth::test::FakeFs;

namespace {

const std::string k_pc = "/sys/class/powercap";

std::shared_ptr<FakeFs> fixture_fs(const std::string& name) {
    auto fs = std::make_shared<FakeFs>();
    fs->copy_tree(hearth::test::fixture_path("powercap/" + name), k_pc);
    return fs;
}

std::vector<std::string> names(const std::vector<hearth::PowercapZone>& zones) {
    std::vector<std::string> out;
    for (const auto& z : zones) out.push_back(z.name);
    return out;
}

std::vector<std::string> dirs(const std::vector<hearth::PowercapZone>& zones) {
    std::vector<std::string> out;
    for (const auto& z : zones) out.push_back(z.dir);
    return out;
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(powercap)

BOOST_AUTO_TEST_CASE(intel_client_uses_psys_alone) {
    auto fs = fixture_fs("intel-client");
    std::string why;
    auto zones = hearth::find_powercap_zones(*fs, why);
    BOOST_TEST(names(zones) == std::vector<std::string>{"psys"}, boost::test_tools::per_element());
    BOOST_TEST(zones[0].dir == k_pc + "/intel-rapl:1");
    BOOST_TEST(zones[0].max_range_uj == 262143328850u);
    BOOST_TEST(zones[0].max_power.value == 500.0);  // no max_power_uw: the psys default
    BOOST_TEST(why.empty());

    auto probe = hearth::probe_powercap(*fs);
    BOOST_TEST(probe.source == "powercap");
    BOOST_TEST(probe.available);
    BOOST_TEST(contains(probe.detail, "psys (wraps at 262143 J"), probe.detail);
}

BOOST_AUTO_TEST_CASE(intel_client_without_psys_takes_package_and_dram_once) {
    auto fs = fixture_fs("intel-client");
    fs->remove(k_pc + "/intel-rapl:1");
    std::string why;
    auto zones = hearth::find_powercap_zones(*fs, why);
    // core and uncore are inside package-0; the mmio twin is package-0 again.
    BOOST_TEST(
        dirs(zones) == (std::vector<std::string>{k_pc + "/intel-rapl:0", k_pc + "/intel-rapl:0:2"}),
        boost::test_tools::per_element());
    BOOST_TEST(names(zones) == (std::vector<std::string>{"package-0", "dram"}),
               boost::test_tools::per_element());
    BOOST_TEST(zones[0].max_power.value == 65.0);
    BOOST_TEST(zones[1].max_power.value == 50.0);
    BOOST_TEST(zones[1].max_range_uj == 65532610987u);
}

BOOST_AUTO_TEST_CASE(unreadable_psys_falls_back_to_packages) {
    auto fs = fixture_fs("intel-client");
    fs->fail(k_pc + "/intel-rapl:1/energy_uj", EACCES);
    std::string why;
    auto zones = hearth::find_powercap_zones(*fs, why);
    BOOST_TEST(names(zones) == (std::vector<std::string>{"package-0", "dram"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mmio_twin_used_only_when_it_is_the_only_source_of_its_package) {
    auto fs = fixture_fs("intel-client");
    fs->remove(k_pc + "/intel-rapl:1");
    fs->fail(k_pc + "/intel-rapl:0/energy_uj", EIO);
    std::string why;
    auto zones = hearth::find_powercap_zones(*fs, why);
    BOOST_TEST(dirs(zones) == (std::vector<std::string>{k_pc + "/intel-rapl-mmio:0",
                                                        k_pc + "/intel-rapl:0:2"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(amd_server_sums_both_packages) {
    auto fs = fixture_fs("amd-server");
    std::string why;
    auto zones = hearth::find_powercap_zones(*fs, why);
    BOOST_TEST(names(zones) == (std::vector<std::string>{"package-0", "package-1"}),
               boost::test_tools::per_element());
    BOOST_TEST(zones[0].max_power.value == 250.0);  // AMD has no constraints: the default

    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PowercapSource src(fs, clock);
    BOOST_TEST(src.max_power().value == 500.0);
    BOOST_TEST(src.read().total.value == 0u);
    fs->set_energy(k_pc + "/intel-rapl:0", 12000000000 + 10'000'000);
    fs->set_energy(k_pc + "/intel-rapl:1", 12000777777 + 7'000'000);
    fs->set_energy(k_pc + "/intel-rapl:0:0", 9000000000 + 9'000'000);  // inside package-0
    clock->advance(100ms);
    auto r = src.read();
    BOOST_TEST(r.total.value == 17'000'000u);
    BOOST_TEST(!r.estimated);
    BOOST_TEST(r.warnings.empty());
}

BOOST_AUTO_TEST_CASE(root_only_energy_uj_names_the_cve_and_the_fix) {
    auto fs = fixture_fs("amd-server");
    for (const char* z : {"intel-rapl:0", "intel-rapl:1", "intel-rapl:0:0", "intel-rapl:1:0"})
        fs->fail(k_pc + "/" + z + "/energy_uj", EACCES);
    auto probe = hearth::probe_powercap(*fs);
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail, "root only since CVE-2020-8694"), probe.detail);
    BOOST_TEST(contains(probe.detail, "run grid-agent as root"), probe.detail);
    BOOST_TEST(contains(probe.detail, "udev rule"), probe.detail);
    BOOST_TEST(contains(probe.detail, "tmpfiles.d"), probe.detail);
    BOOST_TEST(!contains(probe.detail, "\n"));
    auto clock = std::make_shared<hearth::ManualClock>();
    BOOST_CHECK_EXCEPTION(
        hearth::PowercapSource(fs, clock), hearth::Error,
        [](const hearth::Error& e) { return contains(e.what(), "CVE-2020-8694"); });
}

BOOST_AUTO_TEST_CASE(no_tree_means_no_rapl) {
    FakeFs fs;
    auto probe = hearth::probe_powercap(fs);
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail, "no RAPL"), probe.detail);
    BOOST_TEST(contains(probe.detail, "VMs"), probe.detail);
    BOOST_TEST(contains(probe.detail, "/sys/devices/virtual/powercap"), probe.detail);

    // A container's masked tree: the directory is there, the zones are not.
    fs.mkdir(k_pc);
    fs.write(k_pc + "/intel-rapl/enabled", "1\n");
    probe = hearth::probe_powercap(fs);
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail, "no RAPL"), probe.detail);
}

BOOST_AUTO_TEST_CASE(thirty_minutes_at_known_power_with_many_wraps) {
    auto fs = std::make_shared<FakeFs>();
    // Small ranges so the counters wrap every few seconds.
    const std::uint64_t pkg_range = 1'000'000'000, dram_range = 150'000'000;
    const std::string pkg = k_pc + "/intel-rapl:0", dram = k_pc + "/intel-rapl:0:0";
    std::uint64_t pkg_raw = pkg_range - 5'000'000, dram_raw = 1234;
    fs->add_zone(pkg, "package-0", pkg_range, pkg_raw, 200'000'000);
    fs->add_zone(dram, "dram", dram_range, dram_raw);
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PowercapSource src(fs, clock);
    BOOST_TEST(src.zones().size() == 2u);

    BOOST_TEST(src.read().total.value == 0u);  // first read: a baseline only
    const std::uint64_t pkg_step = 18'000'000, dram_step = 2'000'000;  // 180 W, 20 W x 100 ms
    const int steps = 30 * 60 * 10;
    std::uint64_t expected = 0;
    int wraps = 0;
    hearth::EnergyReading last;
    for (int i = 0; i < steps; ++i) {
        clock->advance(100ms);
        pkg_raw += pkg_step;
        if (pkg_raw >= pkg_range) {
            pkg_raw -= pkg_range;
            ++wraps;
        }
        dram_raw = (dram_raw + dram_step) % dram_range;
        fs->set_energy(pkg, pkg_raw);
        fs->set_energy(dram, dram_raw);
        expected += pkg_step + dram_step;
        last = src.read();
        if (!last.warnings.empty()) {
            BOOST_TEST_MESSAGE("step " << i << ": " << last.warnings.front());
            BOOST_REQUIRE(last.warnings.empty());
        }
    }
    BOOST_TEST(wraps > 300);
    BOOST_TEST(last.total.value == expected);
    BOOST_TEST(expected == 360'000'000'000u);  // (180 + 20) W x 1800 s
}

BOOST_AUTO_TEST_CASE(failed_read_warns_once_and_loses_nothing) {
    auto fs = std::make_shared<FakeFs>();
    const std::string pkg = k_pc + "/intel-rapl:0";
    const std::uint64_t range = 1'000'000'000;
    fs->add_zone(pkg, "package-0", range, 990'000'000, 200'000'000);
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PowercapSource src(fs, clock);
    src.read();

    clock->advance(100ms);
    fs->set_energy(pkg, 998'000'000);  // +8 J
    BOOST_TEST(src.read().total.value == 8'000'000u);

    fs->fail(pkg + "/energy_uj", EIO);
    clock->advance(100ms);
    fs->set_energy(pkg, 6'000'000);  // +8 J, wrapped while unreadable
    auto r = src.read();
    BOOST_TEST(r.total.value == 8'000'000u);
    BOOST_TEST(
        r.warnings ==
            std::vector<std::string>{"zone package-0: energy_uj read failed: Input/output error; "
                                     "skipped this interval"},
        boost::test_tools::per_element());

    clock->advance(100ms);
    fs->set_energy(pkg, 14'000'000);  // +8 J
    r = src.read();
    BOOST_TEST(r.warnings.empty());  // still failing: not repeated
    BOOST_TEST(r.total.value == 8'000'000u);

    fs->heal(pkg + "/energy_uj");
    clock->advance(100ms);
    fs->set_energy(pkg, 22'000'000);  // +8 J
    r = src.read();
    BOOST_TEST(r.warnings.empty());
    BOOST_TEST(r.total.value == 32'000'000u);  // the three intervals in one delta

    // Fine again, so a new failure is worth a new warning.
    fs->fail(pkg + "/energy_uj", EIO);
    clock->advance(100ms);
    BOOST_TEST(src.read().warnings.size() == 1u);
}

BOOST_AUTO_TEST_CASE(glitch_is_rejected_and_later_deltas_are_fine) {
    auto fs = std::make_shared<FakeFs>();
    const std::string pkg = k_pc + "/intel-rapl:0";
    fs->add_zone(pkg, "package-0", 262143328850, 1'000'000'000, 65'000'000);
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PowercapSource src(fs, clock);
    src.read();

    clock->advance(100ms);
    fs->set_energy(pkg, 1'005'000'000);  // 50 W
    BOOST_TEST(src.read().total.value == 5'000'000u);

    clock->advance(100ms);
    fs->set_energy(pkg, 200'000'000'000);  // ~2 MW for 100 ms: not power, a glitch
    auto r = src.read();
    BOOST_TEST(r.total.value == 5'000'000u);
    BOOST_REQUIRE(r.warnings.size() == 1u);
    BOOST_TEST(contains(r.warnings[0], "zone package-0"), r.warnings[0]);
    BOOST_TEST(contains(r.warnings[0], "glitch"), r.warnings[0]);

    for (int i = 1; i <= 3; ++i) {
        clock->advance(100ms);
        fs->set_energy(pkg, 200'000'000'000 + 5'000'000 * static_cast<std::uint64_t>(i));
        r = src.read();
        BOOST_TEST(r.warnings.empty());
        BOOST_TEST(r.total.value == 5'000'000u * static_cast<std::uint64_t>(i + 1));
    }
}

BOOST_AUTO_TEST_CASE(value_beyond_the_wrap_point_is_a_bad_read_not_a_new_base) {
    auto fs = std::make_shared<FakeFs>();
    const std::string pkg = k_pc + "/intel-rapl:0";
    fs->add_zone(pkg, "package-0", 1'000'000'000, 100'000'000, 65'000'000);
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PowercapSource src(fs, clock);
    src.read();
    clock->advance(100ms);
    fs->set_energy(pkg, 1'000'000'005);
    auto r = src.read();
    BOOST_REQUIRE(r.warnings.size() == 1u);
    BOOST_TEST(contains(r.warnings[0], "is not below max_energy_range_uj"), r.warnings[0]);
    clock->advance(100ms);
    fs->set_energy(pkg, 103'000'000);
    r = src.read();
    BOOST_TEST(r.warnings.empty());
    BOOST_TEST(r.total.value == 3'000'000u);
}

BOOST_AUTO_TEST_CASE(disappearing_zone_is_dropped_and_the_others_go_on) {
    auto fs = fixture_fs("amd-server");
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PowercapSource src(fs, clock);
    src.read();
    fs->remove(k_pc + "/intel-rapl:1");
    clock->advance(100ms);
    fs->set_energy(k_pc + "/intel-rapl:0", 12000000000 + 3'000'000);
    auto r = src.read();
    BOOST_REQUIRE(r.warnings.size() == 1u);
    BOOST_TEST(contains(r.warnings[0], "zone package-1"), r.warnings[0]);
    BOOST_TEST(contains(r.warnings[0], "disappeared"), r.warnings[0]);
    BOOST_TEST(r.total.value == 3'000'000u);
    BOOST_TEST(names(src.zones()) == std::vector<std::string>{"package-0"},
               boost::test_tools::per_element());

    clock->advance(100ms);
    fs->set_energy(k_pc + "/intel-rapl:0", 12000000000 + 7'000'000);
    r = src.read();
    BOOST_TEST(r.warnings.empty());
    BOOST_TEST(r.total.value == 7'000'000u);
}

BOOST_AUTO_TEST_CASE(max_interval_of_the_fixtures) {
    auto clock = std::make_shared<hearth::ManualClock>();
    // Real ranges take minutes to wrap even at full power: the 10 s cap rules.
    for (const char* name : {"intel-client", "amd-server"}) {
        hearth::PowercapSource src(fixture_fs(name), clock);
        BOOST_TEST(src.max_interval().count() == 10'000, name);
    }
    auto fs = fixture_fs("intel-client");
    fs->remove(k_pc + "/intel-rapl:1");
    BOOST_TEST(hearth::PowercapSource(fs, clock).max_interval().count() == 10'000);

    // A small range: half its wrap time at the zone's power ceiling.
    auto small = std::make_shared<FakeFs>();
    small->add_zone(k_pc + "/intel-rapl:0", "package-0", 1'000'000'000, 0, 100'000'000);
    hearth::PowercapSource src(small, clock);
    const double expected_s = hearth::max_sample_interval_s(1'000'000'000, hearth::Watts{250});
    BOOST_TEST(src.max_interval().count() == static_cast<long long>(expected_s * 1000));
    BOOST_TEST(src.max_power().value == 100.0);
}

BOOST_AUTO_TEST_SUITE_END()
