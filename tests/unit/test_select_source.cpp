#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "plugins/energy/powercap.hpp"
#include "plugins/energy/select.hpp"
#include "tests/fakes/fake_fs.hpp"
#include "tests/fakes/fake_papi.hpp"

using hearth::test::FakeFs;
using hearth::test::FakePapi;

namespace {

const std::string k_pc = "/sys/class/powercap";
const std::string k_rapl = "rapl:::PACKAGE_ENERGY:PACKAGE0";

const char* k_stat =
    "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
    "cpu1 50 0 50 400 0 0 0 0 0 0\n";

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// A VM like the development machines: /proc/stat, no RAPL, PAPI without events.
std::shared_ptr<FakeFs> vm_fs() {
    auto fs = std::make_shared<FakeFs>();
    fs->write("/proc/stat", k_stat);
    return fs;
}

std::unique_ptr<FakePapi> papi_without_events() {
    auto papi = std::make_unique<FakePapi>();
    papi->component_list = FakePapi::energy_components();
    return papi;
}

std::unique_ptr<FakePapi> papi_with_rapl() {
    auto papi = papi_without_events();
    papi->counters[k_rapl] = 0;
    return papi;
}

void add_rapl(FakeFs& fs) {
    fs.add_zone(k_pc + "/intel-rapl:0", "package-0", 262143328850, 1000);
    fs.add_zone(k_pc + "/intel-rapl:0:0", "dram", 65532610987, 1000);
}

auto manual_clock() {
    return std::make_shared<hearth::ManualClock>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(select_source)

BOOST_AUTO_TEST_CASE(auto_prefers_powercap) {
    auto fs = vm_fs();
    add_rapl(*fs);
    auto c = hearth::choose_energy_source("auto", fs, manual_clock(), papi_with_rapl(), {});
    BOOST_REQUIRE(c.source);
    BOOST_TEST(c.source->name() == "powercap");
    BOOST_REQUIRE(c.table.size() == 7u);
    BOOST_TEST(c.table[0].source == "redfish");  // no BMC configured
    BOOST_TEST(c.table[1].source == "hwmon");    // no node meter in this tree
    BOOST_TEST(c.table[2].source == "ipmi");     // no /dev/ipmi0, no --ipmi-host
    BOOST_TEST(c.table[3].source == "powercap");
    BOOST_TEST(c.table[4].source == "papi");
    BOOST_TEST(c.table[5].source == "model");
    BOOST_TEST(contains(c.summary, "; ipmi: unavailable ("), c.summary);
    BOOST_TEST(contains(c.summary,
                        "energy source: powercap (package-0, dram); redfish: unavailable (no BMC "
                        "configured; set --redfish-url"),
               c.summary);
    BOOST_TEST(contains(c.summary,
                        "; hwmon: unavailable "
                        "(no node power meter"),
               c.summary);
    BOOST_TEST(contains(c.summary, "; papi: not needed; model: not needed"), c.summary);
}

BOOST_AUTO_TEST_CASE(auto_takes_papi_when_powercap_is_unreadable) {
    auto fs = vm_fs();
    add_rapl(*fs);
    fs->fail(k_pc + "/intel-rapl:0/energy_uj", EACCES);
    fs->fail(k_pc + "/intel-rapl:0:0/energy_uj", EACCES);
    auto c = hearth::choose_energy_source("auto", fs, manual_clock(), papi_with_rapl(), {});
    BOOST_TEST(c.source->name() == "papi");
    BOOST_TEST(contains(c.summary, "energy source: papi (" + k_rapl), c.summary);
    BOOST_TEST(contains(c.summary, "powercap: unavailable ("), c.summary);
    BOOST_TEST(contains(c.summary, "CVE-2020-8694"), c.summary);
    BOOST_TEST(contains(c.summary, "; model: not needed"), c.summary);
}

BOOST_AUTO_TEST_CASE(auto_falls_back_to_the_model_on_a_vm) {
    auto c =
        hearth::choose_energy_source("auto", vm_fs(), manual_clock(), papi_without_events(), {});
    BOOST_TEST(c.source->name() == "model");
    BOOST_TEST(c.source->estimated());
    BOOST_TEST(!c.table[0].available);
    BOOST_TEST(!c.table[1].available);
    BOOST_TEST(!c.table[2].available);
    BOOST_TEST(!c.table[3].available);
    BOOST_TEST(!c.table[4].available);
    BOOST_TEST(c.table[5].available);
    BOOST_TEST(contains(c.summary,
                        "energy source: model (estimated from CPU utilisation: idle "
                        "14 W, max 34 W); redfish: unavailable (no BMC configured"),
               c.summary);
    BOOST_TEST(contains(c.summary, "; hwmon: unavailable (no node power meter"), c.summary);
    BOOST_TEST(contains(c.summary, "; powercap: unavailable (no RAPL"), c.summary);
    BOOST_TEST(contains(c.summary,
                        "; papi: unavailable (rapl: event " + k_rapl + ": Event does not exist"),
               c.summary);

    // Configured figures are the ones stated.
    c = hearth::choose_energy_source("auto", vm_fs(), manual_clock(), papi_without_events(),
                                     {hearth::Watts{30}, hearth::Watts{90}});
    BOOST_TEST(contains(c.summary, "idle 30 W, max 90 W"), c.summary);
    BOOST_TEST(c.table[5].detail == "estimated from CPU utilisation: idle 30 W, max 90 W");
}

BOOST_AUTO_TEST_CASE(named_source_is_used_even_when_a_better_one_exists) {
    auto fs = vm_fs();
    add_rapl(*fs);
    auto c = hearth::choose_energy_source("model", fs, manual_clock(), papi_with_rapl(), {});
    BOOST_TEST(c.source->name() == "model");
    BOOST_TEST(contains(c.summary, "powercap: available, not chosen; papi: available, not chosen"),
               c.summary);
}

BOOST_AUTO_TEST_CASE(named_unavailable_source_is_an_error_with_the_reason) {
    BOOST_CHECK_EXCEPTION(
        hearth::choose_energy_source("papi", vm_fs(), manual_clock(), papi_without_events(), {}),
        hearth::Error, [](const hearth::Error& e) {
            const std::string what = e.what();
            BOOST_TEST_INFO("message: " << what);
            return what.rfind("energy source 'papi' is unavailable: rapl: event " + k_rapl +
                                  ": Event does not exist",
                              0) == 0 &&
                   contains(what, "; use --energy auto or model");
        });
    BOOST_CHECK_EXCEPTION(
        hearth::choose_energy_source("powercap", vm_fs(), manual_clock(), nullptr, {}),
        hearth::Error, [](const hearth::Error& e) {
            const std::string what = e.what();
            BOOST_TEST_INFO("message: " << what);
            return contains(what, "energy source 'powercap' is unavailable: no RAPL") &&
                   contains(what, "; use --energy auto or model");
        });
}

BOOST_AUTO_TEST_CASE(nothing_available_says_why_for_each) {
    auto fs = std::make_shared<FakeFs>();
    BOOST_CHECK_EXCEPTION(
        hearth::choose_energy_source("auto", fs, manual_clock(), papi_without_events(), {}),
        hearth::Error, [](const hearth::Error& e) {
            const std::string what = e.what();
            BOOST_TEST_INFO("message: " << what);
            return contains(what, "no energy source is available; redfish: no BMC configured") &&
                   contains(what, "; hwmon: ") && contains(what, "; powercap: ") &&
                   contains(what, "; papi: ") && contains(what, "; model: cannot read /proc/stat");
        });
}

BOOST_AUTO_TEST_CASE(unknown_name_lists_the_valid_ones) {
    BOOST_CHECK_EXCEPTION(
        hearth::choose_energy_source("rapl", vm_fs(), manual_clock(), papi_with_rapl(), {}),
        hearth::Error, [](const hearth::Error& e) {
            const std::string what = e.what();
            BOOST_TEST_INFO("message: " << what);
            return e.code() == hearth::ExitCode::usage &&
                   contains(what, "unknown energy source 'rapl'") &&
                   contains(what, "auto, redfish, hwmon, ipmi, powercap, papi, model");
        });
}

BOOST_AUTO_TEST_SUITE_END()
