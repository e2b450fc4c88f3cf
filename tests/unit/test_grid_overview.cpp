// The operator's overview (core/grid_overview): heat per UTC day, today,
// the week, power over the last 10 minutes, the useful share, gas CO2, and
// sites in alarm first.
#include <boost/test/unit_test.hpp>

#include "core/grid_overview.hpp"

using namespace hearth;

namespace {

constexpr std::int64_t k_day = 86'400'000;
constexpr std::uint64_t k_kwh = 3'600'000'000'000u;  // uJ
// 2027-01-04 12:00 UTC
constexpr std::int64_t k_now = 1'799'064'000'000;

SiteSeen seen(const std::string& name, std::int64_t last_ms, std::int64_t lease_ms = 60'000) {
    SiteSeen s;
    s.name = name;
    s.last_ms = last_ms;
    s.lease_expires_ms = last_ms + lease_ms;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grid_overview)

BOOST_AUTO_TEST_CASE(heat_is_summed_per_utc_day_today_and_the_week) {
    const std::int64_t midnight = k_now - 12 * 3'600'000;
    const std::vector<AttemptEnergy> a = {
        {"a", k_now - 60'000, 1 * k_kwh, false},             // today, in the power window
        {"b", midnight + 1, 2 * k_kwh, true},                // today, past its budget
        {"a", midnight - 1, 4 * k_kwh, false},               // yesterday
        {"a", midnight - 6 * k_day, 8 * k_kwh, false},       // the week's first day
        {"a", midnight - 6 * k_day - 1, 16 * k_kwh, false},  // before the week: ignored
    };
    const GridOverview o = make_overview(a, {seen("a", k_now), seen("b", k_now)}, k_now, 0.2);
    BOOST_TEST_REQUIRE(o.week.size() == 7u);
    BOOST_TEST(o.week.front().day_ms == midnight - 6 * k_day);
    BOOST_TEST(o.week.back().day_ms == midnight);
    BOOST_TEST(o.week.back().kwh == 3.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.week.back().useful_kwh == 1.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.week[5].kwh == 4.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.week[0].kwh == 8.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.heat_today_kwh == 3.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.heat_week_kwh == 15.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.useful_share == 13.0 / 15.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.gas_co2_kg_week == 13.0 * 0.2, boost::test_tools::tolerance(1e-9));
    // 1 kWh in the last 10 minutes: 3.6e6 J / 600 s = 6000 W.
    BOOST_TEST(o.power_w == 6000.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(o.sites.at(0).heat_today_kwh + o.sites.at(1).heat_today_kwh == 3.0,
               boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(no_heat_is_no_share_not_a_division_by_zero) {
    const GridOverview o = make_overview({}, {}, k_now, 0.2);
    BOOST_TEST(o.heat_week_kwh == 0.0);
    BOOST_TEST(o.useful_share == 0.0);
    BOOST_TEST(o.power_w == 0.0);
    BOOST_TEST(o.week.size() == 7u);
}

BOOST_AUTO_TEST_CASE(sites_in_alarm_come_first_with_their_reason) {
    SiteSeen down = seen("c", k_now);
    down.down = {"c1", "c2"};
    const GridOverview o = make_overview(
        {}, {seen("a", k_now), seen("b", k_now - 120'000), down, seen("d", 0)}, k_now, 0.2);
    BOOST_TEST_REQUIRE(o.sites.size() == 4u);
    BOOST_TEST(o.sites[0].name == "b");
    BOOST_TEST(o.sites[0].reason.find("silent for 120 s") != std::string::npos, o.sites[0].reason);
    BOOST_TEST(o.sites[1].name == "c");
    BOOST_TEST(o.sites[1].reason == "nodes c1, c2 down");
    BOOST_TEST(o.sites[2].name == "d");
    BOOST_TEST(o.sites[2].reason.find("never asked") != std::string::npos);
    BOOST_TEST(o.sites[3].name == "a");
    BOOST_TEST(!o.sites[3].alarm);
    BOOST_TEST(to_json(o)["sites"][0]["alarm"] == true);
}

BOOST_AUTO_TEST_SUITE_END()
