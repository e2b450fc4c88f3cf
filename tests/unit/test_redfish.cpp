#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/redfish_reading.hpp"
#include "plugins/energy/redfish.hpp"

using namespace std::chrono_literals;
using hearth::parse_redfish_reading;
using Kind = hearth::RedfishReading::Kind;

namespace {

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

const std::string k_json = "application/json";

std::string power(const std::string& watts) {
    return R"({"@odata.id":"/redfish/v1/Chassis/1/Power","PowerControl":[{"PowerConsumedWatts":)" +
           watts + "}]}";
}

// A BMC's answers by URL; missing URLs are 404s as a BMC gives them.
struct FakeBmc final : hearth::RedfishHttp {
    std::map<std::string, hearth::RedfishAnswer> answers;
    int gets = 0;
    hearth::RedfishAnswer get(const std::string& url) override {
        ++gets;
        auto it = answers.find(url);
        if (it == answers.end()) return {404, k_json, R"({"error":{}})", ""};
        return it->second;
    }
    void set(const std::string& url, const std::string& body) {
        answers[url] = {200, k_json, body, ""};
    }
};

const std::string k_chassis = "https://bmc/redfish/v1/Chassis/1";

hearth::RedfishOptions at(const std::string& url) {
    hearth::RedfishOptions o;
    o.url = url;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redfish)

BOOST_AUTO_TEST_CASE(power_control_gives_watts) {
    auto r = parse_redfish_reading(200, k_json, power("312.5"));
    BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(Kind::watts));
    BOOST_TEST(r.value == 312.5);
}

BOOST_AUTO_TEST_CASE(nan_negative_and_null_watts_are_reasons_not_readings) {
    for (const std::string w : {"-5", "null", "\"NaN\"", "true"}) {
        auto r = parse_redfish_reading(200, k_json, power(w));
        BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(Kind::none), w);
        BOOST_TEST(contains(r.reason, "PowerControl[0].PowerConsumedWatts is"), r.reason);
    }
    // An overflowing number is no JSON number at all.
    auto r = parse_redfish_reading(200, k_json, power("1e400"));
    BOOST_TEST(contains(r.reason, "not a JSON object"), r.reason);
    r = parse_redfish_reading(200, k_json, R"({"PowerControl":[{"Name":"x"}]})");
    BOOST_TEST(r.reason ==
               "PowerControl[0] has no PowerConsumedWatts; the BMC reports no node power");
    r = parse_redfish_reading(200, k_json, R"({"PowerControl":[]})");
    BOOST_TEST(contains(r.reason, "empty PowerControl"), r.reason);
}

BOOST_AUTO_TEST_CASE(energy_kwh_reading_link_and_sensor) {
    auto r = parse_redfish_reading(200, k_json, R"({"EnergykWh":{"Reading":1234.5}})");
    BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(Kind::energy_kwh));
    BOOST_TEST(r.value == 1234.5);
    r = parse_redfish_reading(
        200, k_json, R"({"EnergykWh":{"DataSourceUri":"/redfish/v1/Chassis/1/Sensors/Energy"}})");
    BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(Kind::link));
    BOOST_TEST(r.link == "/redfish/v1/Chassis/1/Sensors/Energy");
    r = parse_redfish_reading(200, k_json, R"({"ReadingUnits":"kWh","Reading":7.25})");
    BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(Kind::energy_kwh));
    BOOST_TEST(r.value == 7.25);
    r = parse_redfish_reading(200, k_json, R"({"ReadingUnits":"W","Reading":7.25})");
    BOOST_TEST(r.reason == "the sensor reads \"W\", not kWh");
    r = parse_redfish_reading(200, k_json, R"({"ReadingUnits":"kWh"})");
    BOOST_TEST(r.reason == "the kWh sensor has no Reading");
    r = parse_redfish_reading(200, k_json, R"({"EnergykWh":{}})");
    BOOST_TEST(contains(r.reason, "neither Reading nor DataSourceUri"), r.reason);
}

BOOST_AUTO_TEST_CASE(html_errors_and_other_json_are_one_line_reasons) {
    auto r = parse_redfish_reading(200, "text/html", "<html><body>Login</body></html>");
    BOOST_TEST(contains(r.reason, "HTML, not Redfish JSON"), r.reason);
    r = parse_redfish_reading(200, "application/octet-stream", "\n <!DOCTYPE html>");
    BOOST_TEST(contains(r.reason, "HTML"), r.reason);
    r = parse_redfish_reading(401, k_json, "{}");
    BOOST_TEST(contains(r.reason, "HTTP 401: the BMC refused the credentials"), r.reason);
    r = parse_redfish_reading(404, k_json, "{}");
    BOOST_TEST(contains(r.reason, "HTTP 404"), r.reason);
    r = parse_redfish_reading(503, k_json, "{}");
    BOOST_TEST(r.reason == "HTTP 503 from the BMC");
    r = parse_redfish_reading(200, k_json, "{\"PowerControl\":[");
    BOOST_TEST(contains(r.reason, "not a JSON object"), r.reason);
    r = parse_redfish_reading(200, k_json, R"({"Name":"Chassis"})");
    BOOST_TEST(contains(r.reason, "no PowerControl, EnergykWh or kWh sensor"), r.reason);
    for (const auto& reason : {r.reason}) BOOST_TEST(!contains(reason, "\n"));
}

BOOST_AUTO_TEST_CASE(kwh_counter_steps_telescope_and_refuse_going_backwards) {
    // 0.1 kWh steps do not add up exactly in binary; the microjoules do.
    double prev = 1000.0;
    std::uint64_t sum = 0;
    for (int i = 1; i <= 1000; ++i) {
        const double cur = 1000.0 + i * 0.001;
        auto s = hearth::kwh_counter_step(prev, cur);
        BOOST_TEST(!s.backwards);
        sum += s.energy.value;
        prev = cur;
    }
    BOOST_TEST(sum == hearth::kwh_to_uj(prev) - hearth::kwh_to_uj(1000.0));
    BOOST_TEST(sum == 3'600'000'000'000ULL);
    auto back = hearth::kwh_counter_step(5.0, 4.0);
    BOOST_TEST(back.backwards);
    BOOST_TEST(back.energy.value == 0u);
}

BOOST_AUTO_TEST_CASE(source_prefers_the_energy_counter_behind_the_data_source_uri) {
    auto bmc = std::make_unique<FakeBmc>();
    bmc->set(k_chassis + "/Power", power("200"));
    bmc->set(k_chassis + "/EnvironmentMetrics",
             R"({"EnergykWh":{"DataSourceUri":"/redfish/v1/Chassis/1/Sensors/Energy"}})");
    const std::string sensor = "https://bmc/redfish/v1/Chassis/1/Sensors/Energy";
    bmc->set(sensor, R"({"ReadingUnits":"kWh","Reading":10.0})");
    auto probe = hearth::probe_redfish(at(k_chassis), bmc.get());
    BOOST_TEST(probe.available);
    BOOST_TEST(probe.detail == "energy counter at " + sensor + ", now 10 kWh");

    FakeBmc* b = bmc.get();
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::RedfishSource src(at(k_chassis), clock, std::move(bmc));
    BOOST_TEST(src.counter());
    BOOST_TEST(src.read().total.value == 0u);
    b->set(sensor, R"({"ReadingUnits":"kWh","Reading":10.001})");
    clock->advance(500ms);  // not yet due: the BMC is polled once a second
    BOOST_TEST(src.read().total.value == 0u);
    clock->advance(500ms);
    BOOST_TEST(src.read().total.value == 3'600'000'000u);
    // A counter going backwards: a warning, nothing counted, counting goes on.
    b->set(sensor, R"({"ReadingUnits":"kWh","Reading":2.0})");
    clock->advance(1s);
    auto r = src.read();
    BOOST_TEST(r.total.value == 3'600'000'000u);
    BOOST_TEST_REQUIRE(r.warnings.size() == 1u);
    BOOST_TEST(contains(r.warnings[0], "went back from 10.001 to 2 kWh"), r.warnings[0]);
    b->set(sensor, R"({"ReadingUnits":"kWh","Reading":2.002})");
    clock->advance(1s);
    BOOST_TEST(src.read().total.value == 3'600'000'000u + 7'200'000'000u);
    // A restart resumes from the checkpoint: the gap's energy is counted.
    const std::string cp = src.checkpoint();
    auto bmc2 = std::make_unique<FakeBmc>();
    bmc2->set(k_chassis + "/EnvironmentMetrics", R"({"EnergykWh":{"Reading":2.003}})");
    hearth::RedfishSource again(at(k_chassis), clock, std::move(bmc2));
    again.resume(cp, 5.0);
    BOOST_TEST(again.read().total.value == 3'600'000'000u);
}

BOOST_AUTO_TEST_CASE(source_integrates_watts_and_skips_a_failed_poll) {
    auto bmc = std::make_unique<FakeBmc>();
    bmc->set(k_chassis + "/Power", power("100"));
    FakeBmc* b = bmc.get();
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::RedfishSource src(at(k_chassis), clock, std::move(bmc));
    BOOST_TEST(!src.counter());
    BOOST_TEST(src.read().total.value == 0u);
    clock->advance(100ms);  // held between polls: 100 W for 0.1 s
    BOOST_TEST(src.read().total.value == 10'000'000u);
    clock->advance(900ms);
    BOOST_TEST(src.read().total.value == 100'000'000u);
    b->answers[k_chassis + "/Power"] = {200, "text/html", "<html>busy</html>", ""};
    clock->advance(1s);
    auto r = src.read();
    BOOST_TEST(r.total.value == 100'000'000u);
    BOOST_TEST_REQUIRE(r.warnings.size() == 1u);
    BOOST_TEST(contains(r.warnings[0], "HTML"), r.warnings[0]);
    clock->advance(500ms);
    BOOST_TEST(src.read().total.value == 100'000'000u);  // nothing held while failing
    b->set(k_chassis + "/Power", power("200"));
    clock->advance(500ms);
    // The good reading covers the 2 s since the last good one.
    BOOST_TEST(src.read().total.value == 100'000'000u + 400'000'000u);
}

BOOST_AUTO_TEST_CASE(no_url_and_unreadable_bmc_are_one_line_reasons) {
    auto p = hearth::probe_redfish({});
    BOOST_TEST(!p.available);
    BOOST_TEST(contains(p.detail, "set --redfish-url"), p.detail);
    FakeBmc bmc;
    bmc.answers[k_chassis + "/EnvironmentMetrics"] = {401, k_json, "{}", ""};
    p = hearth::probe_redfish(at(k_chassis), &bmc);
    BOOST_TEST(p.detail == k_chassis +
                               "/EnvironmentMetrics: HTTP 401: the BMC refused the credentials; "
                               "check the user:password in the credentials file");
    BOOST_CHECK_THROW(hearth::RedfishSource(at("http://bmc/redfish/v1/Chassis/1"),
                                            std::make_shared<hearth::ManualClock>()),
                      hearth::Error);
}

BOOST_AUTO_TEST_SUITE_END()
