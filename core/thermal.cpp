#include "core/thermal.hpp"

#include <cmath>

namespace hearth {

double heat_capacity_j_per_k(SiteKind kind, const ThermalParams& p) {
    if (kind == SiteKind::tank) return p.volume_litres * k_water_j_per_litre_k;
    return p.capacity_j_per_k;
}

Watts draw_at(const ThermalParams& p, int second_of_day) {
    double w = 0;
    for (const auto& d : p.draw)
        if (second_of_day >= d.start_s && second_of_day < d.end_s) w += d.power.value;
    return Watts{w};
}

namespace {
// Conductance to the surroundings (W/K) and their temperature.
std::pair<double, double> loss_of(SiteKind kind, const ThermalParams& p) {
    if (kind == SiteKind::tank) return {p.loss_w_per_k, p.ambient.value};
    return {p.resistance_k_per_w > 0 ? 1.0 / p.resistance_k_per_w : 0.0, p.outside.value};
}
}  // namespace

Celsius thermal_step(SiteKind kind, const ThermalParams& p, Celsius t, Watts heat, double dt_s,
                     int second_of_day) {
    const double c = heat_capacity_j_per_k(kind, p);
    if (!(c > 0) || !(dt_s > 0)) return t;
    const auto [ua, t_env] = loss_of(kind, p);
    const double net_in = heat.value - (kind == SiteKind::tank ? draw_at(p, second_of_day).value : 0);
    if (ua <= 0) return Celsius{t.value + net_in * dt_s / c};  // a perfect insulator
    // Equilibrium where input balances loss; approached with time constant C/UA.
    const double t_eq = t_env + net_in / ua;
    return Celsius{t_eq + (t.value - t_eq) * std::exp(-dt_s * ua / c)};
}

Watts holding_power(SiteKind kind, const ThermalParams& p, Celsius t, int second_of_day) {
    const auto [ua, t_env] = loss_of(kind, p);
    double w = ua * (t.value - t_env);
    if (kind == SiteKind::tank) w += draw_at(p, second_of_day).value;
    return Watts{w > 0 ? w : 0};
}

}  // namespace hearth
