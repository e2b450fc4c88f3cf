#include <boost/test/unit_test.hpp>

#include <cmath>

#include "core/grid.hpp"
#include "core/thermal.hpp"

using hearth::Celsius;
using hearth::DrawPeriod;
using hearth::SiteKind;
using hearth::ThermalParams;
using hearth::Watts;

namespace {

// A 500 L tank losing 3 W/K to a 15 C cellar, with a morning draw.
ThermalParams tank_params() {
    ThermalParams p;
    p.volume_litres = 500;
    p.loss_w_per_k = 3;
    p.ambient = Celsius{15};
    p.draw = {DrawPeriod{6 * 3600, 8 * 3600, Watts{800}}};
    return p;
}

// A room of 1 MJ/K losing 100 W/K to a 0 C outside.
ThermalParams room_params() {
    ThermalParams p;
    p.capacity_j_per_k = 1e6;
    p.resistance_k_per_w = 0.01;
    p.outside = Celsius{0};
    return p;
}

bool close_rel(double a, double b, double rel) {
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thermal)

BOOST_AUTO_TEST_CASE(heat_capacity_of_a_tank_is_its_water) {
    BOOST_TEST(hearth::heat_capacity_j_per_k(SiteKind::tank, tank_params()) == 500 * 4186.0);
    BOOST_TEST(hearth::heat_capacity_j_per_k(SiteKind::room, room_params()) == 1e6);
    BOOST_TEST(hearth::heat_capacity_j_per_k(SiteKind::loop, room_params()) == 1e6);
}

BOOST_AUTO_TEST_CASE(draw_windows_are_half_open_and_add_up) {
    ThermalParams p = tank_params();
    p.draw.push_back(DrawPeriod{7 * 3600, 9 * 3600, Watts{200}});
    BOOST_TEST(hearth::draw_at(p, 6 * 3600 - 1).value == 0);
    BOOST_TEST(hearth::draw_at(p, 6 * 3600).value == 800);
    BOOST_TEST(hearth::draw_at(p, 7 * 3600).value == 1000);  // both windows
    BOOST_TEST(hearth::draw_at(p, 8 * 3600 - 1).value == 1000);
    BOOST_TEST(hearth::draw_at(p, 8 * 3600).value == 200);  // the first has ended
    BOOST_TEST(hearth::draw_at(p, 9 * 3600).value == 0);
}

BOOST_AUTO_TEST_CASE(room_step_is_the_analytic_exponential) {
    // C dT/dt = P - UA T: T(t) = P/UA + (T0 - P/UA) exp(-t UA / C)
    const ThermalParams p = room_params();
    const double t_eq = 1000.0 / 100.0;
    for (double dt : {1.0, 60.0, 3600.0, 86400.0}) {
        const double want = t_eq + (20.0 - t_eq) * std::exp(-dt * 100.0 / 1e6);
        const double got =
            hearth::thermal_step(SiteKind::room, p, Celsius{20}, Watts{1000}, dt, 0).value;
        BOOST_TEST(close_rel(got, want, 1e-12), "dt " << dt << ": " << got << " vs " << want);
    }
    // A loop follows the same law.
    BOOST_TEST(hearth::thermal_step(SiteKind::loop, p, Celsius{20}, Watts{1000}, 3600, 0).value ==
               hearth::thermal_step(SiteKind::room, p, Celsius{20}, Watts{1000}, 3600, 0).value);
}

BOOST_AUTO_TEST_CASE(tank_step_takes_the_draw_in_force) {
    const ThermalParams p = tank_params();
    const double c = 500 * 4186.0;
    // 06:00, in the draw: net input 2000 - 800 W.
    const double t_eq = 15 + (2000.0 - 800.0) / 3.0;
    const double want = t_eq + (60 - t_eq) * std::exp(-600 * 3.0 / c);
    const double got =
        hearth::thermal_step(SiteKind::tank, p, Celsius{60}, Watts{2000}, 600, 6 * 3600).value;
    BOOST_TEST(close_rel(got, want, 1e-12));
    // Outside the draw the same step ends warmer.
    BOOST_TEST(
        hearth::thermal_step(SiteKind::tank, p, Celsius{60}, Watts{2000}, 600, 12 * 3600).value >
        got);
}

BOOST_AUTO_TEST_CASE(one_long_step_equals_many_short_ones) {
    // Constant inputs, no draw edge crossed: the exact solution composes.
    struct Case {
        SiteKind kind;
        ThermalParams p;
        double t0, heat;
        int sod;
    };
    const Case cases[] = {
        {SiteKind::room, room_params(), 20, 1500, 0},
        {SiteKind::room, room_params(), -5, 0, 0},
        {SiteKind::tank, tank_params(), 58, 300, 12 * 3600},  // no draw
        {SiteKind::tank, tank_params(), 58, 300, 6 * 3600},   // in the draw the whole hour
    };
    for (const auto& c : cases) {
        const double one =
            hearth::thermal_step(c.kind, c.p, Celsius{c.t0}, Watts{c.heat}, 3600, c.sod).value;
        double many = c.t0;
        for (int i = 0; i < 60; ++i)
            many =
                hearth::thermal_step(c.kind, c.p, Celsius{many}, Watts{c.heat}, 60, c.sod + 60 * i)
                    .value;
        BOOST_TEST(close_rel(one, many, 1e-9), one << " vs " << many);
        BOOST_TEST(one != c.t0);  // the case does move
    }
}

BOOST_AUTO_TEST_CASE(a_long_step_is_stable_and_lands_on_the_equilibrium) {
    // A week in one step: explicit Euler would blow up; the exact step
    // settles at P/UA above outside.
    const double t =
        hearth::thermal_step(SiteKind::room, room_params(), Celsius{20}, Watts{500}, 7 * 86400, 0)
            .value;
    BOOST_TEST(std::fabs(t - 5.0) < 1e-9);
}

BOOST_AUTO_TEST_CASE(holding_power_keeps_the_temperature) {
    const ThermalParams room = room_params();
    const Watts w = hearth::holding_power(SiteKind::room, room, Celsius{21}, 0);
    BOOST_TEST(w.value == 2100);  // 100 W/K x 21 K
    BOOST_TEST(std::fabs(hearth::thermal_step(SiteKind::room, room, Celsius{21}, w, 3600, 0).value -
                         21) < 1e-9);

    const ThermalParams tank = tank_params();
    for (int sod : {0, 6 * 3600 + 10}) {
        const Watts h = hearth::holding_power(SiteKind::tank, tank, Celsius{60}, sod);
        BOOST_TEST(h.value == 3.0 * 45 + (sod ? 800 : 0));
        BOOST_TEST(
            std::fabs(hearth::thermal_step(SiteKind::tank, tank, Celsius{60}, h, 600, sod).value -
                      60) < 1e-9);
    }
}

BOOST_AUTO_TEST_CASE(holding_power_is_never_negative) {
    // A room colder than outside warms by itself: no heat holds it, and a
    // computer cannot cool it.
    ThermalParams p = room_params();
    p.outside = Celsius{30};
    BOOST_TEST(hearth::holding_power(SiteKind::room, p, Celsius{20}, 0).value == 0);
}

BOOST_AUTO_TEST_CASE(a_lossless_tank_integrates_heat_linearly) {
    ThermalParams p = tank_params();
    p.loss_w_per_k = 0;
    const double c = 500 * 4186.0;
    const double got =
        hearth::thermal_step(SiteKind::tank, p, Celsius{40}, Watts{1000}, 3600, 12 * 3600).value;
    BOOST_TEST(close_rel(got, 40 + 1000 * 3600 / c, 1e-12));
    // In the draw, the draw is taken out.
    const double drawn =
        hearth::thermal_step(SiteKind::tank, p, Celsius{40}, Watts{1000}, 3600, 6 * 3600).value;
    BOOST_TEST(close_rel(drawn, 40 + 200 * 3600 / c, 1e-12));
}

BOOST_AUTO_TEST_CASE(no_time_or_no_mass_changes_nothing) {
    BOOST_TEST(
        hearth::thermal_step(SiteKind::room, room_params(), Celsius{20}, Watts{1e6}, 0, 0).value ==
        20);
    BOOST_TEST(
        hearth::thermal_step(SiteKind::room, room_params(), Celsius{20}, Watts{1e6}, -5, 0).value ==
        20);
    ThermalParams p = room_params();
    p.capacity_j_per_k = 0;
    BOOST_TEST(hearth::thermal_step(SiteKind::room, p, Celsius{20}, Watts{1e6}, 60, 0).value == 20);
}

BOOST_AUTO_TEST_SUITE_END()
