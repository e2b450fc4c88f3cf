// The heat sources: static, http (against the FakeHttp and against a real
// HTTP server through libcurl), and the simulated tank and room.
#include <httplib.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/thermal.hpp"
#include "plugins/heat/source.hpp"
#include "tests/fakes/fake_http.hpp"
#include "tests/unit/support.hpp"

using namespace std::chrono_literals;
using hearth::Celsius;
using hearth::HeatReading;
using hearth::HeatSource;
using hearth::ManualClock;
using hearth::Site;
using hearth::Watts;
using hearth::test::FakeHttp;
using hearth::test::usage_mentioning;

namespace {

bool contains(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
}

Site site_of(const std::string& type) {
    Site s;
    s.name = "tank1";
    s.source.type = type;
    if (type == "http") s.source.url = "http://feed.example/t";
    return s;
}

struct HttpRig {
    explicit HttpRig(hearth::HeatSourceSpec spec = {}) {
        Site s = site_of("http");
        if (!spec.url.empty()) s.source = spec;
        s.source.type = "http";
        url = s.source.url;
        source = hearth::make_heat_source(s, clock, http);
    }
    HeatReading after(std::chrono::milliseconds d) {
        clock->advance(d);
        return source->poll();
    }
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
    std::shared_ptr<FakeHttp> http = std::make_shared<FakeHttp>();
    std::string url;
    std::unique_ptr<HeatSource> source;
};

hearth::HeatSourceSpec http_spec(const std::string& url = "http://feed.example/t") {
    hearth::HeatSourceSpec spec;
    spec.type = "http";
    spec.url = url;
    spec.poll_s = 10;
    spec.stale_after_s = 60;
    return spec;
}

// A cpp-httplib server on 127.0.0.1 in a thread, stopped on destruction.
class LocalServer {
public:
    LocalServer() {
        port = server.bind_to_any_port("127.0.0.1");
        BOOST_TEST_REQUIRE(port > 0);
    }
    void start() {
        m_thread = std::thread([this] { server.listen_after_bind(); });
        // stop() is a no-op before the accept loop runs: wait for it.
        for (int i = 0; i < 5000 && !server.is_running(); ++i) std::this_thread::sleep_for(1ms);
        BOOST_TEST_REQUIRE(server.is_running());
    }
    void stop() {
        server.stop();
        if (m_thread.joinable()) m_thread.join();
    }
    ~LocalServer() { stop(); }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }

    httplib::Server server;
    int port = 0;

private:
    std::thread m_thread;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(heat_sources)

// ---- static -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(static_source_reports_the_configured_temperature) {
    Site s = site_of("static");
    s.source.measured = Celsius{55};
    auto src = hearth::make_heat_source(s, std::make_shared<ManualClock>());
    BOOST_TEST(src->type() == "static");
    HeatReading r = src->poll();
    BOOST_TEST_REQUIRE(r.measured.has_value());
    BOOST_TEST(r.measured->value == 55.0);
    BOOST_TEST(!r.target.has_value());
    BOOST_TEST(r.alarm == "");
}

BOOST_AUTO_TEST_CASE(static_source_without_a_reading_alarms_until_one_is_set) {
    auto src = hearth::make_heat_source(site_of("static"), std::make_shared<ManualClock>());
    HeatReading r = src->poll();
    BOOST_TEST(!r.measured.has_value());
    BOOST_TEST(contains(r.alarm, "hearth heat set-measured"), r.alarm);

    src->set_measured(Celsius{48.5});
    r = src->poll();
    BOOST_TEST_REQUIRE(r.measured.has_value());
    BOOST_TEST(r.measured->value == 48.5);
    BOOST_TEST(r.alarm == "");

    src->set_measured(Celsius{47});
    BOOST_TEST(src->poll().measured->value == 47.0);
}

BOOST_AUTO_TEST_CASE(static_source_refuses_unphysical_temperatures) {
    Site s = site_of("static");
    s.source.measured = Celsius{50};
    auto src = hearth::make_heat_source(s, std::make_shared<ManualClock>());
    BOOST_CHECK_EXCEPTION(src->set_measured(Celsius{std::numeric_limits<double>::quiet_NaN()}),
                          hearth::Error, usage_mentioning("between -50 and 150 C"));
    BOOST_CHECK_EXCEPTION(src->set_measured(Celsius{300}), hearth::Error,
                          usage_mentioning("300 C"));
    BOOST_TEST(src->poll().measured->value == 50.0);  // unchanged
}

BOOST_AUTO_TEST_CASE(set_measured_is_refused_by_feed_and_simulated_sources) {
    auto clock = std::make_shared<ManualClock>();
    auto http = hearth::make_heat_source(site_of("http"), clock, std::make_shared<FakeHttp>());
    BOOST_CHECK_EXCEPTION(http->set_measured(Celsius{50}), hearth::Error,
                          usage_mentioning("heat source is 'http'"));
    for (const char* type : {"sim-tank", "sim-room"}) {
        auto sim = hearth::make_heat_source(site_of(type), clock);
        BOOST_CHECK_EXCEPTION(sim->set_measured(Celsius{50}), hearth::Error,
                              usage_mentioning(std::string("'") + type + "'"));
        BOOST_TEST(sim->poll().measured->value == 20.0);  // thermal.initial, untouched
    }
}

BOOST_AUTO_TEST_CASE(unknown_types_and_non_http_urls_are_usage_errors) {
    auto clock = std::make_shared<ManualClock>();
    BOOST_CHECK_EXCEPTION(hearth::make_heat_source(site_of("gas"), clock), hearth::Error,
                          usage_mentioning("unknown heat source type 'gas'"));
    Site s = site_of("http");
    s.source.url = "file:///etc/passwd";
    BOOST_CHECK_EXCEPTION(hearth::make_heat_source(s, clock, std::make_shared<FakeHttp>()),
                          hearth::Error, usage_mentioning("not an http:// or https:// URL"));
}

// ---- http against the fake ----------------------------------------------

BOOST_AUTO_TEST_CASE(http_source_reads_a_json_feed) {
    HttpRig rig(http_spec());
    rig.http->answer(FakeHttp::json(R"({"measured": 57.5, "unit": "C"})"));
    HeatReading r = rig.source->poll();
    BOOST_TEST(rig.source->type() == "http");
    BOOST_TEST_REQUIRE(r.measured.has_value());
    BOOST_TEST(r.measured->value == 57.5);
    BOOST_TEST(!r.target.has_value());
    BOOST_TEST(r.alarm == "");
    BOOST_TEST_REQUIRE(rig.http->calls() == 1u);
    BOOST_TEST(rig.http->urls[0] == "http://feed.example/t");
    BOOST_TEST(rig.http->timeouts[0] == 2.0);  // the spec's default timeout_s
}

BOOST_AUTO_TEST_CASE(http_source_follows_a_dotted_path) {
    auto spec = http_spec();
    spec.measured_field = "tank.top";
    HttpRig rig(spec);
    rig.http->answer(FakeHttp::json(R"({"tank": {"top": 61, "bottom": 40}, "top": 1})"));
    HeatReading r = rig.source->poll();
    BOOST_TEST_REQUIRE(r.measured.has_value());
    BOOST_TEST(r.measured->value == 61.0);

    // "tank" not an object: the path does not resolve.
    rig.http->answer(FakeHttp::json(R"({"tank": 61})"));
    r = rig.after(10s);
    BOOST_TEST(contains(r.alarm, "field 'tank.top' missing"), r.alarm);
}

BOOST_AUTO_TEST_CASE(http_source_reads_a_target_when_the_feed_sets_one) {
    auto spec = http_spec();
    spec.target_field = "setpoint.c";
    HttpRig rig(spec);
    rig.http->answer(FakeHttp::json(R"({"measured": 50, "setpoint": {"c": 62}})"));
    HeatReading r = rig.source->poll();
    BOOST_TEST_REQUIRE(r.target.has_value());
    BOOST_TEST(r.target->value == 62.0);
    BOOST_TEST(r.measured->value == 50.0);

    // A target outside the hard bounds spoils the whole response.
    rig.http->answer(FakeHttp::json(R"({"measured": 51, "setpoint": {"c": 90}})"));
    r = rig.after(10s);
    BOOST_TEST(contains(r.alarm, "field 'setpoint.c' is 90 C, outside 5..85 C"), r.alarm);
    BOOST_TEST(r.measured->value == 50.0);  // the last good reading, target included
    BOOST_TEST(r.target->value == 62.0);

    rig.http->answer(FakeHttp::json(R"({"measured": 51})"));
    r = rig.after(10s);
    BOOST_TEST(contains(r.alarm, "field 'setpoint.c' missing"), r.alarm);
}

BOOST_AUTO_TEST_CASE(http_source_polls_at_most_every_poll_s) {
    HttpRig rig(http_spec());
    rig.http->answer_once(FakeHttp::json(R"({"measured": 40})"));
    rig.http->answer_once(FakeHttp::json(R"({"measured": 41})"));
    BOOST_TEST(rig.source->poll().measured->value == 40.0);
    BOOST_TEST(rig.http->calls() == 1u);
    BOOST_TEST(rig.after(5s).measured->value == 40.0);
    BOOST_TEST(rig.after(4999ms).measured->value == 40.0);
    BOOST_TEST(rig.http->calls() == 1u);
    BOOST_TEST(rig.after(1ms).measured->value == 41.0);  // 10 s after the first GET
    BOOST_TEST(rig.http->calls() == 2u);
    for (int i = 0; i < 5; ++i) rig.after(1s);
    BOOST_TEST(rig.http->calls() == 2u);
}

BOOST_AUTO_TEST_CASE(http_source_keeps_the_last_good_reading_until_stale_then_goes_safe) {
    struct Garbage {
        hearth::HttpResult response;
        std::string reason;
    };
    const std::vector<Garbage> cases = {
        {FakeHttp::html(), "returned text/html, not JSON"},
        {FakeHttp::json(R"({"measured": 57})", 500), "status 500"},
        {FakeHttp::json(R"({"temperature": 57})"), "field 'measured' missing"},
        {FakeHttp::json(R"({"measured": "NaN"})"), "field 'measured' is string, not a number"},
        {FakeHttp::json(R"({"measured": "1e309"})"), "field 'measured' is string, not a number"},
        {FakeHttp::json(R"({"measured": 1e309})"), "returned malformed JSON"},
        {FakeHttp::json(R"({"measured": NaN})"), "returned malformed JSON"},
        {FakeHttp::json(R"({"measured": true})"), "field 'measured' is boolean, not a number"},
        {FakeHttp::json(R"({"measured": 400})"), "field 'measured' is 400 C, outside -50..150 C"},
        {FakeHttp::json(R"([57])"), "returned a JSON array, not an object"},
        {FakeHttp::json("57"), "returned a JSON number, not an object"},
        {FakeHttp::json(""), "returned malformed JSON"},
        {FakeHttp::no_response("Operation timed out after 2000 milliseconds"),
         "no response: Operation timed out after 2000 milliseconds"},
    };
    for (const auto& g : cases) {
        BOOST_TEST_CONTEXT("garbage: " << g.reason) {
            HttpRig rig(http_spec());
            rig.http->answer(FakeHttp::json(R"({"measured": 57})"));
            BOOST_TEST(rig.source->poll().measured->value == 57.0);

            rig.http->answer(g.response);
            HeatReading r = rig.after(10s);
            BOOST_TEST_REQUIRE(r.measured.has_value());
            BOOST_TEST(r.measured->value == 57.0);
            BOOST_TEST(contains(r.alarm, "last poll failed (" + g.reason + ")"), r.alarm);
            BOOST_TEST(contains(r.alarm, "reading from 10 s ago"), r.alarm);

            r = rig.after(50s);  // exactly stale_after_s old: still used
            BOOST_TEST(r.measured.has_value());
            r = rig.after(10s);
            BOOST_TEST(!r.measured.has_value());
            BOOST_TEST(!r.target.has_value());
            BOOST_TEST(contains(r.alarm, "heat feed http://feed.example/t stale for 70 s"),
                       r.alarm);
            BOOST_TEST(contains(r.alarm, "(last error: " + g.reason + ")"), r.alarm);
            BOOST_TEST(contains(r.alarm, "safe mode, no heat wanted"), r.alarm);
            BOOST_TEST(r.alarm.find('\n') == std::string::npos);

            rig.http->answer(FakeHttp::json(R"({"measured": 58})"));
            r = rig.after(10s);
            BOOST_TEST_REQUIRE(r.measured.has_value());
            BOOST_TEST(r.measured->value == 58.0);
            BOOST_TEST(r.alarm == "");
        }
    }
}

BOOST_AUTO_TEST_CASE(http_source_without_any_good_reading_is_safe_from_the_start) {
    auto spec = http_spec();
    spec.safe_mode = hearth::SafeMode::hold;
    HttpRig rig(spec);
    rig.http->answer(FakeHttp::json("{}", 503));
    HeatReading r = rig.source->poll();
    BOOST_TEST(!r.measured.has_value());
    BOOST_TEST(contains(r.alarm, "has given no good reading yet (last error: status 503)"),
               r.alarm);
    BOOST_TEST(contains(r.alarm, "holding the current heat"), r.alarm);
}

BOOST_AUTO_TEST_CASE(http_source_alarms_do_not_show_credentials) {
    HttpRig rig(http_spec("http://hearth:s3cret@feed.example/t"));
    rig.http->answer(FakeHttp::html());
    HeatReading r = rig.source->poll();
    BOOST_TEST(rig.http->urls.at(0) == "http://hearth:s3cret@feed.example/t");
    BOOST_TEST(contains(r.alarm, "http://feed.example/t"), r.alarm);
    BOOST_TEST(!contains(r.alarm, "s3cret"), r.alarm);
}

BOOST_AUTO_TEST_CASE(http_source_treats_a_throwing_getter_as_no_response) {
    struct Throwing final : hearth::HttpGetter {
        hearth::HttpResult get(const std::string&, double) override {
            throw std::runtime_error("out of sockets");
        }
    };
    Site s = site_of("http");
    auto src =
        hearth::make_heat_source(s, std::make_shared<ManualClock>(), std::make_shared<Throwing>());
    HeatReading r = src->poll();
    BOOST_TEST(!r.measured.has_value());
    BOOST_TEST(contains(r.alarm, "no response: out of sockets"), r.alarm);
}

// ---- http against a real server -----------------------------------------

BOOST_AUTO_TEST_CASE(http_source_reads_a_real_server_through_libcurl) {
    LocalServer srv;
    std::atomic<bool> html{false};
    srv.server.Get("/t", [&](const httplib::Request&, httplib::Response& res) {
        if (html)
            res.set_content("<html><body>Please log in</body></html>", "text/html");
        else
            res.set_content(R"({"tank": {"top": 57.5}})", "application/json");
    });
    srv.start();

    auto spec = http_spec(srv.url("/t"));
    spec.measured_field = "tank.top";
    Site s = site_of("http");
    s.source = spec;
    auto clock = std::make_shared<ManualClock>();
    std::shared_ptr<hearth::HttpGetter> curl = hearth::make_curl_getter();
    auto src = hearth::make_heat_source(s, clock, curl);

    HeatReading r = src->poll();
    BOOST_TEST_REQUIRE(r.measured.has_value(), r.alarm);
    BOOST_TEST(r.measured->value == 57.5);
    BOOST_TEST(r.alarm == "");

    html = true;
    const hearth::HttpResult raw = curl->get(spec.url, 2.0);
    BOOST_TEST(raw.status == 200);
    BOOST_TEST(raw.error == "");
    BOOST_TEST(contains(raw.content_type, "text/html"), raw.content_type);
    BOOST_TEST(contains(raw.body, "Please log in"));

    clock->advance(10s);
    r = src->poll();
    BOOST_TEST(r.measured->value == 57.5);
    BOOST_TEST(contains(r.alarm, "returned text/html, not JSON"), r.alarm);

    srv.stop();
    clock->advance(10s);
    r = src->poll();
    BOOST_TEST(r.measured.has_value());  // 20 s old: still used
    BOOST_TEST(contains(r.alarm, "last poll failed (no response: "), r.alarm);

    clock->advance(50s);
    r = src->poll();
    BOOST_TEST(!r.measured.has_value());
    BOOST_TEST(contains(r.alarm, "heat feed " + spec.url + " stale for 70 s"), r.alarm);
    BOOST_TEST(contains(r.alarm, "no response: "), r.alarm);
}

BOOST_AUTO_TEST_CASE(curl_getter_gives_up_after_its_timeout) {
    LocalServer srv;
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    srv.server.Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
        std::unique_lock lock(m);
        cv.wait_for(lock, 10s, [&] { return release; });
        res.set_content(R"({"measured": 50})", "application/json");
    });
    srv.start();

    const hearth::HttpResult r = hearth::make_curl_getter()->get(srv.url("/slow"), 0.3);
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.body == "");
    BOOST_TEST(contains(r.error, "timed out"), r.error);
}

BOOST_AUTO_TEST_CASE(curl_getter_refuses_bodies_over_one_mib) {
    LocalServer srv;
    const std::string big(2u << 20, 'x');
    srv.server.Get("/big", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(big, "application/json");  // with Content-Length
    });
    srv.server.Get("/big-chunked", [&](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider(
            "application/json", [&](std::size_t offset, httplib::DataSink& sink) {
                if (offset >= big.size()) {
                    sink.done();
                    return true;
                }
                const std::size_t n = std::min<std::size_t>(64 << 10, big.size() - offset);
                return sink.write(big.data() + offset, n);
            });
    });
    srv.start();
    auto curl = hearth::make_curl_getter();
    for (const char* path : {"/big", "/big-chunked"}) {
        BOOST_TEST_CONTEXT(path) {
            const hearth::HttpResult r = curl->get(srv.url(path), 5.0);
            BOOST_TEST(contains(r.error, "larger than 1 MiB"), r.error);
            BOOST_TEST(r.body == "");
        }
    }
}

BOOST_AUTO_TEST_CASE(curl_getter_speaks_only_http_and_https) {
    const hearth::HttpResult r = hearth::make_curl_getter()->get("file:///etc/hostname", 1.0);
    BOOST_TEST(r.error != "");
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.body == "");
}

// ---- simulated sites ----------------------------------------------------

namespace {
constexpr std::int64_t k_midnight_utc_ms = 1'700'006'400'000;  // 2023-11-15 00:00 UTC
}

BOOST_AUTO_TEST_CASE(sim_tank_heats_by_energy_over_capacity) {
    Site s = site_of("sim-tank");
    s.thermal.volume_litres = 200;
    s.thermal.loss_w_per_k = 0;
    s.thermal.initial = Celsius{15};
    auto clock = std::make_shared<ManualClock>(k_midnight_utc_ms);
    clock->advance(12h);
    auto src = hearth::make_heat_source(s, clock);
    BOOST_TEST(src->type() == "sim-tank");
    src->deliver(Watts{2000}, 3600);
    HeatReading r = src->poll();
    BOOST_TEST_REQUIRE(r.measured.has_value());
    BOOST_TEST(std::abs(r.measured->value - (15.0 + 2000.0 * 3600 / (200 * 4186.0))) < 1e-6);
    BOOST_TEST(r.alarm == "");
    BOOST_TEST(!r.target.has_value());
}

BOOST_AUTO_TEST_CASE(sim_tank_draw_windows_lower_it_over_the_delivered_interval) {
    Site s = site_of("sim-tank");
    s.thermal.loss_w_per_k = 0;
    s.thermal.initial = Celsius{60};
    // 02:10:30 to 02:20:15 (585 s), edges off the minute on purpose.
    s.thermal.draw = {{2 * 3600 + 630, 2 * 3600 + 1215, Watts{3000}}};
    const double c = 200 * 4186.0;

    auto clock = std::make_shared<ManualClock>(k_midnight_utc_ms);
    clock->advance(3h);
    auto src = hearth::make_heat_source(s, clock);
    src->deliver(Watts{0}, 3600);  // the hour that ends now: 02:00 to 03:00
    BOOST_TEST(std::abs(src->poll().measured->value - (60.0 - 3000.0 * 585 / c)) < 1e-6);

    clock->advance(1h);
    src->deliver(Watts{0}, 3600);  // 03:00 to 04:00: no draw
    BOOST_TEST(std::abs(src->poll().measured->value - (60.0 - 3000.0 * 585 / c)) < 1e-6);

    // Many short deliveries give the same as one long one.
    auto stepped = hearth::make_heat_source(
        s, clock = std::make_shared<ManualClock>(k_midnight_utc_ms + 2 * 3600 * 1000));
    for (int i = 0; i < 360; ++i) {
        clock->advance(10s);
        stepped->deliver(Watts{0}, 10);
    }
    BOOST_TEST(std::abs(stepped->poll().measured->value - (60.0 - 3000.0 * 585 / c)) < 1e-6);
}

BOOST_AUTO_TEST_CASE(sim_room_approaches_outside_plus_power_times_resistance) {
    Site s = site_of("sim-room");
    s.thermal.capacity_j_per_k = 5e6;
    s.thermal.resistance_k_per_w = 0.01;
    s.thermal.outside = Celsius{5};
    s.thermal.initial = Celsius{20};
    auto clock = std::make_shared<ManualClock>(k_midnight_utc_ms);
    auto src = hearth::make_heat_source(s, clock);
    BOOST_TEST(src->type() == "sim-room");

    src->deliver(Watts{1000}, 3600);
    const double after_hour = src->poll().measured->value;
    BOOST_TEST(after_hour < 20.0);  // equilibrium 15 C is below the start
    BOOST_TEST(after_hour > 15.0);

    // Ten time constants (RC = 50000 s) later it sits at T_out + P R.
    for (int h = 0; h < 139; ++h) {
        clock->advance(1h);
        src->deliver(Watts{1000}, 3600);
    }
    BOOST_TEST(std::abs(src->poll().measured->value - 15.0) < 1e-3);
}

BOOST_AUTO_TEST_SUITE_END()
