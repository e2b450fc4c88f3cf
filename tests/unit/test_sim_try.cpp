// core/sim_try: the glue from a site's state now to `hearth sim`'s input,
// and the answer of POST /v1/heat/try.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/sim.hpp"
#include "core/sim_try.hpp"
#include "core/site_schedule.hpp"
#include "tests/unit/support.hpp"

using namespace hearth;
using hearth::test::usage_mentioning;

namespace {

// A room that holds 21 C against 5 C outside with 320 W, and two nodes of
// 20-300 W with 2 slots each: enough to heat it.
const char* k_grid = R"([[site]]
name = "office"
kind = "room"
target = 19
min = 10
max = 26
band = 0.5
[site.thermal]
capacity_j_per_k = 2e6
resistance_k_per_w = 0.05
outside = 5
initial = 12

[[node]]
name = "a"
site = "office"
slots = 2
idle_watts = 20
max_watts = 300

[[node]]
name = "b"
site = "office"
slots = 2
idle_watts = 20
max_watts = 300
)";

Grid grid() {
    return parse_grid(k_grid, "grid.toml");
}

// 2027-01-04 is a Monday; 06:00 UTC.
constexpr std::int64_t k_monday_6h = 1799020800 + 6 * 3600;

TryState state_at(double measured) {
    TryState s;
    s.now_unix = k_monday_6h;
    s.measured = measured;
    s.plan.base_target = 19;
    return s;
}

HistoryPoint point(std::int64_t t_ms, double power, int allowed, int slots,
                   std::optional<double> temp = std::nullopt) {
    HistoryPoint p;
    p.t_ms = t_ms;
    p.res_s = 60;
    p.power_w = power;
    p.slots_allowed = allowed;
    p.slots = slots;
    p.temp_c = temp;
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sim_try)

BOOST_AUTO_TEST_CASE(a_schedule_is_checked_as_hearth_heat_schedule_checks_it) {
    const Grid g = grid();
    const Site& site = g.sites[0];
    TryRequest r =
        parse_try_request(R"({"schedule": "weekdays 7:00-19:00 at 21; otherwise 16"})", site);
    BOOST_TEST(*r.schedule == checked_schedule(site, "weekdays 07:00-19:00 at 21; otherwise 16"));
    BOOST_TEST(!r.target.has_value());
    BOOST_TEST(r.horizon_h == 24);
    // The same message, word for word, as `hearth heat schedule` gives.
    for (const std::string bad : {"always at 21", "weekdays 07:00-19:00 at 30; otherwise 16",
                                  "weekdays 19:00-07:00 at 21; otherwise 16"}) {
        std::string want, got;
        try {
            checked_schedule(site, bad);
        } catch (const Error& e) {
            want = e.what();
        }
        try {
            parse_try_request(nlohmann::json{{"schedule", bad}}.dump(), site);
        } catch (const Error& e) {
            got = e.what();
            BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(ExitCode::usage));
        }
        BOOST_TEST(!want.empty());
        BOOST_TEST(got == want);
    }
}

BOOST_AUTO_TEST_CASE(a_target_is_held_to_the_sites_bounds) {
    const Grid g = grid();
    const Site& site = g.sites[0];
    TryRequest r =
        parse_try_request(R"({"target": 21.5, "horizon_h": 168, "site": "office"})", site);
    BOOST_TEST(*r.target == 21.5);
    BOOST_TEST(r.horizon_h == 168);
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": 40})", site), Error,
                          usage_mentioning("40"));
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_refused_naming_the_fix) {
    const Site site = grid().sites[0];
    BOOST_CHECK_EXCEPTION(parse_try_request("[]", site), Error, usage_mentioning("JSON object"));
    BOOST_CHECK_EXCEPTION(parse_try_request("{}", site), Error, usage_mentioning("neither"));
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": 20, "schedule": "otherwise 20"})", site),
                          Error, usage_mentioning("both"));
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": 20, "horizon_h": 48})", site), Error,
                          usage_mentioning("24 or 168"));
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": 20, "horizon_h": 24.5})", site), Error,
                          usage_mentioning("24 or 168"));
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": 20, "work": 1.5})", site), Error,
                          usage_mentioning("'work'"));
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": 20, "steps": 1})", site), Error,
                          usage_mentioning("unknown field 'steps'"));
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": 20, "site": "attic"})", site), Error,
                          usage_mentioning("'office'"));
    BOOST_CHECK_EXCEPTION(parse_try_request(R"({"target": "20"})", site), Error,
                          usage_mentioning("number"));
    const std::string big = R"({"schedule": ")" + std::string(9000, ' ') + R"(otherwise 20"})";
    BOOST_CHECK_EXCEPTION(parse_try_request(big, site), Error, usage_mentioning("8 KiB"));
}

BOOST_AUTO_TEST_CASE(the_plan_is_the_override_then_the_schedule_in_local_time) {
    HeatPlan p;
    p.base_target = 19;
    BOOST_TEST(p.target_at(k_monday_6h, 0) == 19);
    p.schedule = parse_schedule("weekdays 07:00-19:00 at 21; otherwise 16");
    BOOST_TEST(p.target_at(k_monday_6h, 0) == 16);     // 06:00 UTC
    BOOST_TEST(p.target_at(k_monday_6h, 3600) == 21);  // 07:00 at UTC+1
    p.override_c = 23;
    p.override_until = k_monday_6h + 60;
    BOOST_TEST(p.target_at(k_monday_6h, 0) == 23);
    BOOST_TEST(p.target_at(k_monday_6h + 60, 0) == 16);  // the override has ended
}

BOOST_AUTO_TEST_CASE(the_work_share_is_busy_slots_over_slots_allowed) {
    const GridNode n = grid().nodes[0];  // 20-300 W, 2 slots: 140 W a busy slot
    BOOST_TEST(!work_share(n, {}).has_value());
    BOOST_TEST(
        !work_share(n, {point(0, 300, 0, 2)}).has_value());  // no slot allowed: nothing to tell
    BOOST_TEST(*work_share(n, {point(0, 300, 2, 2)}) == 1.0);
    BOOST_TEST(std::fabs(*work_share(n, {point(0, 160, 2, 2)}) - 0.5) < 1e-12);
    // One slot allowed and one busy: all the work it could have.
    BOOST_TEST(std::fabs(*work_share(n, {point(0, 160, 1, 2)}) - 1.0) < 1e-12);
    BOOST_TEST(std::fabs(*work_share(n, {point(0, 20, 2, 2), point(60000, 300, 2, 2)}) - 0.5) <
               1e-12);
}

BOOST_AUTO_TEST_CASE(the_setup_starts_from_the_site_now_with_its_nodes_and_work) {
    const Grid g = grid();
    TryState st = state_at(14.5);
    st.utc_offset_s = 3600;
    st.recent = {point(0, 160, 2, 2, 13.0)};  // half the allowed slots busy
    TryRequest req =
        parse_try_request(R"({"schedule": "daily 08:00-18:00 at 21; otherwise 16"})", g.sites[0]);
    TrySetup s = try_setup(g, "office", g.nodes[0], st, req);
    BOOST_TEST(s.start_c == 14.5);
    BOOST_TEST(s.start_from == "measured now");
    BOOST_TEST(s.work == 0.5);
    BOOST_TEST(s.work_from == "history");
    const Scenario& sc = s.scenario;
    BOOST_TEST(sc.start_unix == k_monday_6h);
    BOOST_TEST(sc.utc_offset_s == 3600);
    BOOST_TEST(sc.duration_s == 86400.0);
    BOOST_REQUIRE_EQUAL(sc.grid.sites.size(), 1u);
    BOOST_TEST(sc.grid.sites[0].thermal.initial.value == 14.5);
    BOOST_TEST(sc.grid.sites[0].schedule == *req.schedule);
    BOOST_TEST(sc.grid.nodes.size() == 2u);
    BOOST_REQUIRE_EQUAL(sc.grid.tenants.size(), 1u);
    BOOST_TEST(sc.grid.tenants[0].max_running == 2u);  // half of 4 slots
    BOOST_REQUIRE_EQUAL(sc.jobs.size(), 1u);
    // Enough tasks that four slots at full speed never run out.
    BOOST_TEST(sc.jobs[0].tasks * sc.jobs[0].task_s >= 4 * sc.duration_s);

    // No reading now: the history's last temperature; none there either: 409.
    st.measured.reset();
    s = try_setup(g, "office", g.nodes[0], st, req);
    BOOST_TEST(s.start_c == 13.0);
    BOOST_TEST(s.start_from == "history");
    st.recent = {point(0, 160, 2, 2)};
    try {
        try_setup(g, "office", g.nodes[0], st, req);
        BOOST_TEST(false, "no temperature was accepted");
    } catch (const Error& e) {
        BOOST_TEST(e.http_status() == 409);
        BOOST_TEST(std::string(e.what()).find("hearth heat measured") != std::string::npos,
                   e.what());
    }
    // Work the request names; none at all: no backlog.
    st.measured = 15;
    req.work = 0;
    s = try_setup(g, "office", g.nodes[0], st, req);
    BOOST_TEST(s.work_from == "request");
    BOOST_TEST(s.scenario.jobs.empty());
}

BOOST_AUTO_TEST_CASE(a_try_predicts_the_heat_up_and_the_plan_beside_it) {
    const Grid g = grid();
    TryState st = state_at(12);
    st.plan.schedule = parse_schedule("otherwise 18");
    TryRequest req = parse_try_request(R"({"target": 21, "work": 1})", g.sites[0]);
    TryResult r = run_try(g, "office", g.nodes[0], st, req);
    BOOST_REQUIRE_EQUAL(r.points.size(), 24u * 12 + 1);  // every 5 min, and the start
    BOOST_TEST(r.points.front().t_ms == k_monday_6h * 1000);
    BOOST_TEST(r.points.back().t_ms == (k_monday_6h + 86400) * 1000);
    BOOST_TEST(r.points.front().temp_c == 12.0);
    for (const auto& p : r.points) {
        BOOST_TEST(p.target_c == 21.0);
        BOOST_TEST(p.plan_c == 18.0);
    }
    // Full work heats the room into its band and holds it there.
    BOOST_TEST(std::fabs(r.final_c - 21) <= 0.5 + 1e-9, "final " << r.final_c);
    BOOST_TEST(r.max_c > 20.5);
    BOOST_TEST(r.delivered_kwh > 0);
    // Without work, only the idle power heats it: it cools towards outside.
    req.work = 0;
    TryResult idle = run_try(g, "office", g.nodes[0], st, req);
    BOOST_TEST(idle.final_c < 12.0);
    BOOST_TEST(idle.delivered_kwh < r.delivered_kwh);
    // A week, sampled every 15 minutes.
    req.horizon_h = 168;
    BOOST_TEST(run_try(g, "office", g.nodes[0], st, req).points.size() == 7u * 96 + 1);
}

BOOST_AUTO_TEST_CASE(the_schedule_changes_the_target_at_local_times) {
    const Grid g = grid();
    TryState st = state_at(20);
    st.utc_offset_s = 2 * 3600;  // 06:00 UTC is 08:00 local
    TryRequest req = parse_try_request(
        R"({"schedule": "daily 08:00-18:00 at 21; otherwise 16", "work": 1})", g.sites[0]);
    TryResult r = run_try(g, "office", g.nodes[0], st, req);
    // The run starts at 08:00 local (in the window), which ends 10 h later.
    BOOST_TEST(r.points[1].target_c == 21.0);
    const auto at = [&](std::int64_t s) {
        for (const auto& p : r.points)
            if (p.t_ms == (k_monday_6h + s) * 1000) return p.target_c;
        return -1.0;
    };
    // A point's target is the one over the step that ends there.
    BOOST_TEST(at(10 * 3600) == 21.0);
    BOOST_TEST(at(10 * 3600 + 300) == 16.0);
    const nlohmann::json j = try_json(r);
    BOOST_TEST(j["proposal"]["schedule"] == *req.schedule);
    BOOST_TEST(j["points"].size() == r.points.size());
    BOOST_TEST(j["sample_s"] == 300.0);
    BOOST_TEST(j["work_from"] == "request");
    BOOST_TEST(j["points"][0]["plan_c"] == 19.0);
}

BOOST_AUTO_TEST_SUITE_END()
