#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/dcmi_reading.hpp"
#include "core/error.hpp"
#include "plugins/energy/ipmi.hpp"
#include "tests/fakes/fake_command.hpp"
#include "tests/fakes/fake_fs.hpp"

using namespace std::chrono_literals;
using hearth::CommandResult;
using hearth::test::FakeCommand;
using hearth::test::FakeCommandState;
using hearth::test::FakeFs;
using hearth::test::ipmitool_reading;

namespace {

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

CommandResult exited(int status, const std::string& output) {
    CommandResult r;
    r.outcome = CommandResult::Outcome::exited;
    r.status = status;
    r.output = output;
    return r;
}

struct Rig {
    std::shared_ptr<FakeFs> fs = std::make_shared<FakeFs>();
    std::shared_ptr<hearth::ManualClock> clock = std::make_shared<hearth::ManualClock>();
    FakeCommandState cmd;
    hearth::IpmiOptions opts() {
        hearth::IpmiOptions o;
        o.runner = std::make_shared<FakeCommand>(cmd);
        o.node_max = hearth::Watts{400};
        return o;
    }
    Rig() {
        fs->write("/dev/ipmi0", "");
        cmd.next = ipmitool_reading(200);
    }
};

std::string credentials_file(const std::string& text, mode_t mode) {
    const auto p = std::filesystem::temp_directory_path() /
                   ("hearth-ipmi-cred-" + std::to_string(::getpid()) + "-" + std::to_string(mode));
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p.string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ipmi)

BOOST_AUTO_TEST_CASE(ipmitool_and_freeipmi_readings_parse) {
    auto r = hearth::parse_dcmi_power(ipmitool_reading(250).output, 0, "ipmitool");
    BOOST_TEST(r.ok, r.reason);
    BOOST_TEST(r.watts == 250.0);
    BOOST_TEST(r.average_watts == 250.0);
    BOOST_TEST(r.period_s == 1.0);  // on the timestamp's line, not the timestamp's 12
    // Later ipmitool: one reading per line, the period in milliseconds.
    r = hearth::parse_dcmi_power(
        "Instantaneous power reading              : 214      Watts\n"
        "Average power reading over sample period : 184      Watts\n"
        "Sampling period                          : 1000 Milliseconds\n"
        "Power reading state is                   : activated\n",
        0, "ipmitool");
    BOOST_TEST(r.ok, r.reason);
    BOOST_TEST(r.watts == 214.0);
    BOOST_TEST(r.period_s == 1.0);
    r = hearth::parse_dcmi_power(
        "Current Power                        : 220 Watts\n"
        "Minimum Power over sampling duration : 90 watts\n"
        "Average Power over sampling duration : 210 watts\n"
        "Statistics reporting time period     : 1000 milliseconds\n"
        "Power Measurement                    : Active\n",
        0, "ipmi-dcmi");
    BOOST_TEST(r.ok, r.reason);
    BOOST_TEST(r.watts == 220.0);
    BOOST_TEST(r.average_watts == 210.0);
}

BOOST_AUTO_TEST_CASE(unsupported_failed_garbage_and_inactive_readings_say_why) {
    // What real ipmitool printed against OpenIPMI's ipmi_sim without DCMI.
    auto r = hearth::parse_dcmi_power(
        "Unable to Get Channel Cipher Suites\n\n    DCMI request failed because: Invalid command "
        "(c1)\n",
        1, "ipmitool");
    BOOST_TEST(!r.ok);
    BOOST_TEST(contains(r.reason, "the BMC does not support DCMI power readings"), r.reason);
    r = hearth::parse_dcmi_power(
        "Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file or "
        "directory\n",
        1, "ipmitool");
    BOOST_TEST(contains(r.reason, "ipmitool failed (exit status 1): Could not open device"),
               r.reason);
    BOOST_TEST(contains(r.reason, "ipmi_si and ipmi_devintf"), r.reason);
    r = hearth::parse_dcmi_power("<html>hello</html>\n", 0, "ipmitool");
    BOOST_TEST(r.reason ==
               "ipmitool printed no power reading ('<html>hello</html>'); check that it is "
               "ipmitool or FreeIPMI's ipmi-dcmi");
    r = hearth::parse_dcmi_power("", 0, "ipmitool");
    BOOST_TEST(contains(r.reason, "(empty output)"), r.reason);
    r = hearth::parse_dcmi_power(
        "    Instantaneous power reading:      0 Watts\n    Power reading state is:    "
        "deactivated\n",
        0, "ipmitool");
    BOOST_TEST(!r.ok);
    BOOST_TEST(contains(r.reason, "power measurement is not active"), r.reason);
}

BOOST_AUTO_TEST_CASE(in_band_needs_the_device_and_lan_keeps_the_password_out_of_argv) {
    Rig r;
    auto o = r.opts();
    auto argv = hearth::ipmi_command(o, *r.fs, FakeCommand(r.cmd)).argv;
    BOOST_TEST((argv == std::vector<std::string>{"ipmitool", "dcmi", "power", "reading"}));

    FakeFs bare;
    auto p = hearth::probe_ipmi(o, bare);
    BOOST_TEST(!p.available);
    BOOST_TEST(contains(p.detail, "no BMC: no /dev/ipmi0 (load the ipmi_si and ipmi_devintf"),
               p.detail);

    const std::string good = credentials_file("admin:s3cret\n", 0600);
    o.host = "127.0.0.1:9623";
    o.credentials = good;
    auto c = hearth::ipmi_command(o, bare, FakeCommand(r.cmd));
    BOOST_TEST((c.argv == std::vector<std::string>{"ipmitool", "-I", "lanplus", "-H", "127.0.0.1",
                                                   "-U", "admin", "-E", "-p", "9623", "dcmi",
                                                   "power", "reading"}));
    BOOST_TEST(c.env.at("IPMI_PASSWORD") == "s3cret");
    for (const auto& a : c.argv) BOOST_TEST(!contains(a, "s3cret"));

    const std::string loose = credentials_file("admin:s3cret\n", 0644);
    o.credentials = loose;
    try {
        hearth::ipmi_command(o, bare, FakeCommand(r.cmd));
        BOOST_FAIL("loose credentials accepted");
    } catch (const hearth::Error& e) {
        BOOST_TEST(std::string(e.what()) == "ipmi credentials file " + loose +
                                                " has mode 0644, readable by others; run chmod "
                                                "600 " +
                                                loose);
    }
    const std::string bad = credentials_file("justaname\n", 0600);
    o.credentials = bad;
    BOOST_CHECK_THROW(hearth::ipmi_command(o, bare, FakeCommand(r.cmd)), hearth::Error);
    std::filesystem::remove(good);
    std::filesystem::remove(loose);
    std::filesystem::remove(bad);

    r.cmd.on_path.clear();
    o = r.opts();
    p = hearth::probe_ipmi(o, *r.fs);
    BOOST_TEST(contains(p.detail, "neither ipmitool nor FreeIPMI's ipmi-dcmi is on PATH"),
               p.detail);
}

BOOST_AUTO_TEST_CASE(freeipmi_over_lan_gets_its_password_from_a_private_file_removed_after) {
    Rig r;
    r.cmd.on_path = {"ipmi-dcmi"};
    r.cmd.next = exited(0,
                        "Current Power                        : 180 Watts\n"
                        "Minimum Power over sampling duration : 179 watts\n"
                        "Maximum Power over sampling duration : 181 watts\n"
                        "Average Power over sampling duration : 180 watts\n"
                        "Power Measurement                    : Active\n");
    auto o = r.opts();
    const std::string good = credentials_file("admin:s3cret\n", 0600);
    o.host = "127.0.0.1:9623";
    o.credentials = good;
    o.cipher = 3;
    o.workarounds = "opensesspriv";
    FakeFs bare;
    const auto c = hearth::ipmi_command(o, bare, FakeCommand(r.cmd));
    BOOST_TEST((c.argv == std::vector<std::string>{"ipmi-dcmi", "-h", "127.0.0.1:9623", "-D",
                                                   "LAN_2_0", "-I", "3", "-W", "opensesspriv",
                                                   "--get-system-power-statistics"}));
    BOOST_TEST(c.env.empty());
    BOOST_TEST(c.config == "username admin\npassword s3cret\n");

    const auto p = hearth::probe_ipmi(o, bare);
    BOOST_TEST(p.available, p.detail);
    BOOST_TEST(contains(p.detail, "180 W DCMI instantaneous power from ipmi-dcmi"), p.detail);
    BOOST_REQUIRE(r.cmd.runs.size() == 1u);
    const auto& argv = r.cmd.runs.back();
    BOOST_TEST(argv.at(1) == "--config-file");
    for (const auto& a : argv) BOOST_TEST(!contains(a, "s3cret"));
    BOOST_TEST(r.cmd.config_text == "username admin\npassword s3cret\n");
    BOOST_TEST(r.cmd.config_mode == 0600u);
    BOOST_TEST(r.cmd.config_dir_mode == 0700u);
    BOOST_TEST(!std::filesystem::exists(r.cmd.config_path));
    BOOST_TEST(!std::filesystem::exists(std::filesystem::path(r.cmd.config_path).parent_path()));

    // Words FreeIPMI's config file cannot hold are refused, never written.
    const std::string blank = credentials_file("admin:pass word\n", 0600);
    o.credentials = blank;
    try {
        hearth::ipmi_command(o, bare, FakeCommand(r.cmd));
        BOOST_FAIL("a password with a blank accepted for FreeIPMI");
    } catch (const hearth::Error& e) {
        BOOST_TEST(contains(e.what(), "use --ipmi-tool ipmitool"), e.what());
    }
    // Workaround flags: FreeIPMI's only, and only flag names.
    o.credentials = good;
    o.workarounds = "opensesspriv; rm";
    BOOST_CHECK_THROW(hearth::ipmi_command(o, bare, FakeCommand(r.cmd)), hearth::Error);
    r.cmd.on_path = {"ipmitool"};
    o.workarounds = "opensesspriv";
    BOOST_CHECK_THROW(hearth::ipmi_command(o, bare, FakeCommand(r.cmd)), hearth::Error);
    std::filesystem::remove(good);
    std::filesystem::remove(blank);
}

BOOST_AUTO_TEST_CASE(probe_says_watts_are_integrated_not_a_counter) {
    Rig r;
    auto p = hearth::probe_ipmi(r.opts(), *r.fs);
    BOOST_TEST(p.available, p.detail);
    BOOST_TEST(p.detail ==
               "200 W DCMI instantaneous power from ipmitool (in-band), integrated between "
               "samples, not a counter");
    r.cmd.next = exited(1, "    DCMI request failed because: Invalid command (c1)\n");
    p = hearth::probe_ipmi(r.opts(), *r.fs);
    BOOST_TEST(!p.available);
    BOOST_TEST(contains(p.detail, "in-band: the BMC does not support DCMI"), p.detail);
}

BOOST_AUTO_TEST_CASE(watts_are_integrated_between_samples) {
    Rig r;
    hearth::IpmiSource src(r.opts(), r.fs, r.clock, false);
    BOOST_TEST(src.meter() == "DCMI power reading via ipmitool (in-band, integrated)");
    BOOST_TEST(src.read().total.value == 0u);  // the base
    r.clock->advance(1s);
    BOOST_TEST(src.read().total.value == 200'000'000u);
    // Sampled faster than the BMC is asked: the held reading counts meanwhile.
    r.cmd.next = ipmitool_reading(300);
    r.clock->advance(100ms);
    BOOST_TEST(src.read().total.value == 220'000'000u);
    r.clock->advance(900ms);  // a second since the last run: asked again, 300 W
    BOOST_TEST(src.read().total.value == 490'000'000u);
    BOOST_TEST(r.cmd.runs.size() == 4u);  // construction, base, two polls
}

BOOST_AUTO_TEST_CASE(timeouts_and_absurd_watts_lose_nothing_and_count_nothing_twice) {
    Rig r;
    hearth::IpmiSource src(r.opts(), r.fs, r.clock, false);
    src.read();
    r.clock->advance(1s);
    BOOST_TEST(src.read().total.value == 200'000'000u);

    // A timeout: one warning naming the fix; nothing is counted while the
    // BMC fails.
    r.cmd.next = CommandResult{CommandResult::Outcome::timed_out, -1, "",
                               "ipmitool did not finish within 5 s"};
    r.clock->advance(1s);
    auto rd = src.read();
    BOOST_TEST(rd.total.value == 200'000'000u);
    BOOST_REQUIRE_EQUAL(rd.warnings.size(), 1u);
    BOOST_TEST(contains(rd.warnings[0],
                        "ipmi: ipmitool did not finish within 5 s; the BMC is "
                        "slow or unreachable (raise --ipmi-timeout"),
               rd.warnings[0]);
    r.clock->advance(1s);
    BOOST_TEST(src.read().warnings.empty());  // said once

    // More than twice the node's 400 W: refused, not counted.
    r.cmd.next = ipmitool_reading(5000);
    for (int i = 0; i < 12; ++i) {
        r.clock->advance(1s);
        rd = src.read();
        BOOST_TEST(rd.total.value == 200'000'000u);
    }
    BOOST_TEST(rd.warnings.empty());  // the same run of failures: already said
    // The next good answer covers the 14 s since the last good one, at its power.
    r.cmd.next = ipmitool_reading(100);
    r.clock->advance(1s);
    rd = src.read();
    BOOST_TEST(rd.total.value == 200'000'000u + 15 * 100'000'000u);
    r.clock->advance(1s);
    BOOST_TEST(src.read().total.value == 200'000'000u + 16 * 100'000'000u);
}

BOOST_AUTO_TEST_CASE(absurd_watts_are_named_with_the_fix) {
    Rig r;
    hearth::IpmiSource src(r.opts(), r.fs, r.clock, false);
    src.read();
    r.cmd.next = ipmitool_reading(900);
    r.clock->advance(1s);
    auto rd = src.read();
    BOOST_REQUIRE_EQUAL(rd.warnings.size(), 1u);
    BOOST_TEST(rd.warnings[0] ==
               "ipmi: DCMI reading 900 W is more than twice the node's maximum (400 W); reading "
               "ignored (set the node's max power in the grid file or --max-watts if it is "
               "right)");
    BOOST_TEST(rd.total.value == 0u);  // not counted: the next good reading covers the span
}

BOOST_AUTO_TEST_CASE(a_source_that_gives_no_first_reading_is_refused) {
    Rig r;
    r.cmd.next = exited(0, "garbage\n");
    try {
        hearth::IpmiSource src(r.opts(), r.fs, r.clock, false);
        BOOST_FAIL("built without a reading");
    } catch (const hearth::Error& e) {
        BOOST_TEST(contains(e.what(),
                            "energy source ipmi is unavailable: ipmitool printed no "
                            "power reading ('garbage')"),
                   e.what());
    }
}

BOOST_AUTO_TEST_SUITE_END()
