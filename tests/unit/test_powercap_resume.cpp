// A restarted agent continues RAPL counters from the checkpoint it committed:
// the energy used while it was down (with a wrap in between) is read, once.
#include <boost/test/unit_test.hpp>

#include "plugins/energy/powercap.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace hearth;
using hearth::test::FakeFs;

BOOST_AUTO_TEST_SUITE(powercap_resume)

BOOST_AUTO_TEST_CASE(a_new_source_resumed_from_a_checkpoint_reads_the_downtime_energy) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<ManualClock>();
    const std::string zone = "/sys/class/powercap/intel-rapl:0";
    fs->add_zone(zone, "package-0", 100'000'000, 90'000'000, 200'000'000);
    std::string saved;
    {
        PowercapSource first(fs, clock);
        first.read();
        clock->advance(std::chrono::seconds(1));
        fs->set_energy(zone, 95'000'000);  // 5 J in 1 s
        BOOST_TEST(first.read().total.value == 5'000'000u);
        saved = first.checkpoint();
    }
    BOOST_TEST(saved == zone + "=95000000");
    // Down for 10 s, using 20 J (2 W), across the counter wrap at 100 J.
    clock->advance(std::chrono::seconds(10));
    fs->set_energy(zone, 15'000'000);
    PowercapSource second(fs, clock);
    second.resume(saved, 10.0);
    EnergyReading r = second.read();
    BOOST_TEST(r.total.value == 20'000'000u);
    BOOST_TEST(r.warnings.empty());
}

BOOST_AUTO_TEST_CASE(an_implausible_downtime_delta_is_rejected_not_charged) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<ManualClock>();
    const std::string zone = "/sys/class/powercap/intel-rapl:0";
    fs->add_zone(zone, "package-0", 100'000'000, 10'000'000, 200'000'000);
    PowercapSource s(fs, clock);
    // A checkpoint from "0.1 s ago" 80 J behind: 800 W is beyond any glitch limit.
    s.resume(zone + "=30000000", 0.1);
    fs->set_energy(zone, 10'000'000);  // wrapped by 80 J
    EnergyReading r = s.read();
    BOOST_TEST(r.total.value == 0u);
    BOOST_TEST(!r.warnings.empty());
}

BOOST_AUTO_TEST_CASE(checkpoints_of_unknown_zones_or_bad_values_are_ignored) {
    auto fs = std::make_shared<FakeFs>();
    auto clock = std::make_shared<ManualClock>();
    const std::string zone = "/sys/class/powercap/intel-rapl:0";
    fs->add_zone(zone, "package-0", 100'000'000, 10'000'000, 200'000'000);
    PowercapSource s(fs, clock);
    s.resume("/sys/class/powercap/intel-rapl:9=5;" + zone + "=notanumber;garbage", 1.0);
    BOOST_TEST(s.read().total.value == 0u);  // first read only sets the base
    clock->advance(std::chrono::seconds(1));
    fs->set_energy(zone, 11'000'000);
    BOOST_TEST(s.read().total.value == 1'000'000u);
}

BOOST_AUTO_TEST_SUITE_END()
