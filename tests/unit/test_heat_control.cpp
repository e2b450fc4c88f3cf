#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "core/grid.hpp"
#include "core/heat_control.hpp"
#include "core/thermal.hpp"

using hearth::Celsius;
using hearth::ControlDecision;
using hearth::ControlInput;
using hearth::ControllerGains;
using hearth::ControllerState;
using hearth::HeatMode;
using hearth::SafeMode;

namespace {

// A 60 C tank with a 1 K band and a 70 C hard maximum, read at `measured`.
ControlInput at(std::optional<double> measured, double dt = 10) {
    ControlInput in;
    in.target = Celsius{60};
    in.band = 1;
    in.max = Celsius{70};
    if (measured) in.measured = Celsius{*measured};
    in.dt_s = dt;
    return in;
}

ControlDecision decide(ControllerState& s, std::optional<double> measured, double dt = 10) {
    return hearth::heat_control(s, at(measured, dt));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(heat_control)

BOOST_AUTO_TEST_CASE(mode_names) {
    BOOST_TEST(std::string(hearth::to_string(HeatMode::open)) == "open");
    BOOST_TEST(std::string(hearth::to_string(HeatMode::hold)) == "hold");
    BOOST_TEST(std::string(hearth::to_string(HeatMode::cut)) == "cut");
    BOOST_TEST(std::string(hearth::to_string(HeatMode::stop)) == "stop");
    BOOST_TEST(std::string(hearth::to_string(HeatMode::safe)) == "safe");
}

BOOST_AUTO_TEST_CASE(below_the_band_opens_everything) {
    ControllerState s;
    const auto d = decide(s, 58.99);
    BOOST_TEST((d.mode == HeatMode::open));
    BOOST_TEST(d.fraction == 1.0);
    BOOST_TEST((s.mode == HeatMode::open));
    BOOST_TEST(s.last_fraction == 1.0);
}

BOOST_AUTO_TEST_CASE(the_band_edges_belong_to_the_band) {
    // Exactly target - band: a full band of error, hold + kp, integrating.
    ControllerState s;
    s.hold = 0.4;
    auto d = decide(s, 59.0, 18);
    BOOST_TEST((d.mode == HeatMode::hold));
    BOOST_TEST(s.hold == 0.4 + 18.0 / 1800, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(d.fraction == s.hold + 0.5, boost::test_tools::tolerance(1e-12));

    // Exactly target + band.
    ControllerState u;
    u.hold = 0.8;
    d = decide(u, 61.0, 18);
    BOOST_TEST((d.mode == HeatMode::hold));
    BOOST_TEST(u.hold == 0.8 - 18.0 / 1800, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(d.fraction == u.hold - 0.5, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(at_target_holds_the_learnt_fraction) {
    ControllerState s;
    s.hold = 0.37;
    const auto d = decide(s, 60.0, 600);
    BOOST_TEST((d.mode == HeatMode::hold));
    BOOST_TEST(d.fraction == 0.37);
    BOOST_TEST(s.hold == 0.37);  // no error, nothing learnt
}

BOOST_AUTO_TEST_CASE(inside_the_band_is_proportional_and_clamped) {
    ControllerState s;
    s.hold = 0.5;
    const auto half_cold = decide(s, 59.5, 0);  // dt 0: no integration
    BOOST_TEST(half_cold.fraction == 0.75);
    const auto half_warm = decide(s, 60.5, 0);
    BOOST_TEST(half_warm.fraction == 0.25);
    s.hold = 0.9;
    BOOST_TEST(decide(s, 59.0, 0).fraction == 1.0);  // 0.9 + 0.5 clamps to 1
    s.hold = 0.1;
    BOOST_TEST(decide(s, 61.0, 0).fraction == 0.0);  // 0.1 - 0.5 clamps to 0
}

BOOST_AUTO_TEST_CASE(above_the_band_cuts_to_idle) {
    ControllerState s;
    const auto d = decide(s, 61.01);
    BOOST_TEST((d.mode == HeatMode::cut));
    BOOST_TEST(d.fraction == 0.0);
    BOOST_TEST((decide(s, 69.99).mode == HeatMode::cut));
}

BOOST_AUTO_TEST_CASE(past_the_hard_maximum_stops) {
    ControllerState s;
    const auto d = decide(s, 70.01);
    BOOST_TEST((d.mode == HeatMode::stop));
    BOOST_TEST(d.fraction == 0.0);
    // The maximum wins even when the target sits above it (a bad feed).
    ControlInput in = at(69.0);
    in.target = Celsius{80};
    in.max = Celsius{65};
    BOOST_TEST((hearth::heat_control(s, in).mode == HeatMode::stop));
}

BOOST_AUTO_TEST_CASE(no_reading_is_safe_mode) {
    ControllerState s;
    decide(s, 59.5);  // some budget in force
    const double before = s.last_fraction;
    BOOST_TEST(before > 0);

    auto d = decide(s, std::nullopt);
    BOOST_TEST((d.mode == HeatMode::safe));
    BOOST_TEST(d.fraction == 0.0);  // min_power, the default

    ControllerState h;
    decide(h, 59.5);
    ControlInput in = at(std::nullopt);
    in.safe = SafeMode::hold;
    d = hearth::heat_control(h, in);
    BOOST_TEST((d.mode == HeatMode::safe));
    BOOST_TEST(d.fraction == before);  // the last budget, held
    // ... and held again on the next stale reading.
    BOOST_TEST(hearth::heat_control(h, in).fraction == before);
}

BOOST_AUTO_TEST_CASE(garbage_readings_are_not_trusted) {
    for (double bad :
         {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity()}) {
        ControllerState s;
        const double hold = s.hold;
        const auto d = decide(s, bad);
        BOOST_TEST((d.mode == HeatMode::safe));
        BOOST_TEST(d.fraction == 0.0);
        BOOST_TEST(s.hold == hold);
    }
}

BOOST_AUTO_TEST_CASE(integral_does_not_wind_up_outside_the_band) {
    ControllerState s;
    s.hold = 0.3;
    for (int i = 0; i < 10000; ++i) decide(s, 40.0, 60);  // a week wide open
    BOOST_TEST(s.hold == 0.3);
    for (int i = 0; i < 10000; ++i) decide(s, 65.0, 60);  // cut for a week
    BOOST_TEST(s.hold == 0.3);
    for (int i = 0; i < 100; ++i) decide(s, 75.0, 60);  // stopped
    BOOST_TEST(s.hold == 0.3);
    for (int i = 0; i < 100; ++i) decide(s, std::nullopt, 60);  // no feed
    BOOST_TEST(s.hold == 0.3);
    // Back in the band, the first decision is the learnt fraction, not a
    // wound-up one.
    BOOST_TEST(decide(s, 60.0, 60).fraction == 0.3);
}

BOOST_AUTO_TEST_CASE(the_learnt_fraction_stays_within_zero_and_one) {
    ControllerState s;
    for (int i = 0; i < 1000; ++i) decide(s, 59.0, 600);
    BOOST_TEST(s.hold == 1.0);
    for (int i = 0; i < 1000; ++i) decide(s, 61.0, 600);
    BOOST_TEST(s.hold == 0.0);
}

BOOST_AUTO_TEST_CASE(a_non_positive_band_counts_as_one_kelvin) {
    ControllerState s;
    ControlInput in = at(59.5, 0);
    in.band = 0;
    BOOST_TEST((hearth::heat_control(s, in).mode == HeatMode::hold));
    in.measured = Celsius{58.5};
    BOOST_TEST((hearth::heat_control(s, in).mode == HeatMode::open));
}

BOOST_AUTO_TEST_CASE(gains_are_the_callers) {
    ControllerState s;
    s.hold = 0.5;
    ControllerGains g;
    g.kp = 0.2;
    g.ki_per_s = 0;
    const auto d = hearth::heat_control(s, at(59.0, 600), g);
    BOOST_TEST(d.fraction == 0.7, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(s.hold == 0.5);
}

BOOST_AUTO_TEST_CASE(closed_loop_room_settles_in_its_band_and_stays) {
    // An office (8 MJ/K, 40 W/K to 2 C outside) heated by one node of 100 W
    // idle and 2 kW dynamic: it needs 760 W to hold 21 C, so a fraction of
    // (760 - 100) / 2000 = 0.33. A plain loop of controller and model.
    hearth::ThermalParams p;
    p.capacity_j_per_k = 8e6;
    p.resistance_k_per_w = 0.025;
    p.outside = Celsius{2};
    const double idle = 100, dyn = 2000, dt = 60;
    ControlInput in;
    in.target = Celsius{21};
    in.band = 1;
    in.max = Celsius{26};
    in.dt_s = dt;
    ControllerState s;
    double t = 12;
    int entered = -1;
    double worst_after = 0;
    for (int step = 0; step < 3 * 1440; ++step) {
        in.measured = Celsius{t};
        const auto d = hearth::heat_control(s, in);
        BOOST_TEST_REQUIRE((d.mode != HeatMode::stop));
        t = hearth::thermal_step(hearth::SiteKind::room, p, Celsius{t},
                                 hearth::Watts{idle + d.fraction * dyn}, dt, 0)
                .value;
        if (entered < 0 && std::fabs(t - 21) <= 1) entered = step;
        if (entered >= 0) worst_after = std::max(worst_after, std::fabs(t - 21));
    }
    BOOST_TEST_REQUIRE(entered >= 0);
    BOOST_TEST(entered < 24 * 60);         // about 12 h of heat-up at full power
    BOOST_TEST(worst_after <= 1.0);        // once in the band, never out of it
    BOOST_TEST(std::fabs(t - 21) < 0.05);  // the integral removes the offset
    BOOST_TEST(std::fabs(s.hold - 0.33) < 0.01, "learnt " << s.hold);
    BOOST_TEST((s.mode == HeatMode::hold));
}

BOOST_AUTO_TEST_SUITE_END()
