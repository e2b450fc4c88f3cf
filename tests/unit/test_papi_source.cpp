#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "plugins/energy/papi.hpp"
#include "tests/fakes/fake_papi.hpp"

using hearth::test::FakePapi;

namespace {

const std::string k_rapl = "rapl:::PACKAGE_ENERGY:PACKAGE0";
const std::string k_powercap = "powercap:::ENERGY_UJ:ZONE0";

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

bool one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(papi_source)

BOOST_AUTO_TEST_CASE(init_failure_is_a_reason) {
    FakePapi papi;
    papi.init_error = "Not supported by component";
    auto probe = hearth::probe_papi(papi);
    BOOST_TEST(probe.source == "papi");
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail, "PAPI initialisation failed: Not supported by component"),
               probe.detail);
    BOOST_TEST(one_line(probe.detail));
}

BOOST_AUTO_TEST_CASE(disabled_components_give_their_reasons) {
    FakePapi papi;
    papi.component_list = {
        {"perf_event", false, ""},
        {"rapl", true, "Not running on Intel or AMD processor."},
        {"powercap", true, "No powercap events found"},
    };
    papi.counters[k_rapl] = 0;
    auto probe = hearth::probe_papi(papi);
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail,
                        "rapl component disabled: Not running on Intel or AMD "
                        "processor; powercap component disabled: No powercap "
                        "events found; "),
               probe.detail);
    BOOST_TEST(contains(probe.detail, "PAPI built with the rapl or powercap component"),
               probe.detail);
    BOOST_TEST(one_line(probe.detail));
    BOOST_TEST(papi.open_calls == 0);  // a disabled component is not tried
}

BOOST_AUTO_TEST_CASE(missing_event_as_on_the_dev_vms) {
    FakePapi papi;
    papi.component_list = FakePapi::energy_components();
    auto probe = hearth::probe_papi(papi);
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail, "rapl: event " + k_rapl +
                                          ": Event does not exist; "
                                          "powercap: event " +
                                          k_powercap + ": Event does not exist"),
               probe.detail);
    BOOST_TEST(one_line(probe.detail));

    auto clock = std::make_shared<hearth::ManualClock>();
    auto owned = std::make_unique<FakePapi>(papi);
    BOOST_CHECK_EXCEPTION(hearth::PapiSource(std::move(owned), clock), hearth::Error,
                          [](const hearth::Error& e) {
                              return contains(e.what(), "papi is unavailable") &&
                                     contains(e.what(), "Event does not exist");
                          });
}

BOOST_AUTO_TEST_CASE(papi_without_energy_components) {
    FakePapi papi;
    papi.component_list = {{"perf_event", false, ""},
                           {"perf_event_uncore", true, "No uncore PMUs or events found"},
                           {"sysdetect", false, ""}};
    auto probe = hearth::probe_papi(papi);
    BOOST_TEST(!probe.available);
    BOOST_TEST(contains(probe.detail,
                        "no rapl or powercap component (active components: "
                        "perf_event, sysdetect)"),
               probe.detail);
}

BOOST_AUTO_TEST_CASE(rapl_nanojoules_become_microjoules) {
    auto owned = std::make_unique<FakePapi>();
    FakePapi* papi = owned.get();
    papi->component_list = FakePapi::energy_components();
    papi->counters[k_rapl] = 5'000'000'123;  // counted since before we opened it
    papi->counters[k_powercap] = 0;

    auto probe = hearth::probe_papi(*papi);
    BOOST_TEST(probe.available);
    BOOST_TEST(contains(probe.detail, k_rapl), probe.detail);

    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PapiSource src(std::move(owned), clock);
    BOOST_TEST(src.name() == "papi");
    BOOST_TEST(!src.estimated());
    BOOST_TEST(papi->opened == std::vector<std::string>{k_rapl}, boost::test_tools::per_element());
    BOOST_TEST(src.read().total.value == 0u);

    papi->advance(k_rapl, 12'345'678'900);  // 12.3 J in nanojoules
    auto r = src.read();
    BOOST_TEST(r.total.value == 12'345'678u);
    BOOST_TEST(r.warnings.empty());
    // The 900 nJ left over is not lost: it completes the next microjoule.
    papi->advance(k_rapl, 100);
    BOOST_TEST(src.read().total.value == 12'345'679u);

    // A decrease is a fault of the counter, not a wrap (PAPI counts in 64 bits).
    papi->advance(k_rapl, -1'000'000);
    r = src.read();
    BOOST_TEST(r.total.value == 12'345'679u);
    BOOST_REQUIRE(r.warnings.size() == 1u);
    BOOST_TEST(contains(r.warnings[0], "glitch"), r.warnings[0]);
    papi->advance(k_rapl, 2'000'000);
    BOOST_TEST(src.read().total.value == 12'347'679u);

    papi->read_fails = true;
    r = src.read();
    BOOST_TEST(r.warnings.size() == 1u);
    BOOST_TEST(r.total.value == 12'347'679u);
}

BOOST_AUTO_TEST_CASE(powercap_component_counts_microjoules) {
    auto owned = std::make_unique<FakePapi>();
    FakePapi* papi = owned.get();
    papi->component_list = {{"perf_event", false, ""},
                            {"rapl", true, "Not running on Intel or AMD processor."},
                            {"powercap", false, ""}};
    papi->counters[k_powercap] = 10;
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::PapiSource src(std::move(owned), clock);
    BOOST_TEST(papi->opened == std::vector<std::string>{k_powercap},
               boost::test_tools::per_element());
    src.read();
    papi->advance(k_powercap, 7'000'000);
    BOOST_TEST(src.read().total.value == 7'000'000u);
}

BOOST_AUTO_TEST_CASE(real_library_probe_does_not_crash) {
    auto papi = hearth::make_real_papi();
    auto probe = hearth::probe_papi(*papi);
    BOOST_TEST_MESSAGE("real PAPI: " << (probe.available ? "available: " : "unavailable: ")
                                     << probe.detail);
    BOOST_TEST(probe.source == "papi");
    BOOST_TEST(one_line(probe.detail));
    // A second probe on the same library must not fail on re-initialisation.
    auto again = hearth::probe_papi(*hearth::make_real_papi());
    BOOST_TEST(again.available == probe.available);
    BOOST_TEST(again.detail == probe.detail);
}

BOOST_AUTO_TEST_SUITE_END()
