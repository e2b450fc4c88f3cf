#pragma once
// Lumped thermal models of a site, pure functions of (state, inputs, dt):
//   room/loop: C dT/dt = P - (T - T_out)/R
//   tank:      C dT/dt = P - UA (T - T_amb) - draw(t),  C = litres * 4186 J/K
// Both are first-order linear, so a step with constant inputs is solved
// exactly (exponential approach to the equilibrium) and any dt is stable:
// `hearth sim` takes minute-long steps over a week without drifting.
#include "core/grid.hpp"
#include "core/units.hpp"

namespace hearth {

inline constexpr double k_water_j_per_litre_k = 4186.0;  // 1.163 Wh/(L K)

// Joules per kelvin of the site's thermal mass.
double heat_capacity_j_per_k(SiteKind kind, const ThermalParams& p);
// The draw (hot water taken, W) in force at a second of the day.
Watts draw_at(const ThermalParams& p, int second_of_day);
// Temperature after dt_s seconds of constant heat input (and the draw in
// force at second_of_day) from t.
Celsius thermal_step(SiteKind kind, const ThermalParams& p, Celsius t, Watts heat, double dt_s,
                     int second_of_day);
// Heat input that holds the site at t in steady state (draw included).
Watts holding_power(SiteKind kind, const ThermalParams& p, Celsius t, int second_of_day);

}  // namespace hearth
