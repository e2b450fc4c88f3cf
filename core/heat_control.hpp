#pragma once
// The per-site heat controller, a pure function of (state, reading, dt):
// it turns the gap between a site's target and its measured temperature into
// a power budget, expressed as a fraction of the node's dynamic power range.
//   below target - band : open  (1.0: all slots, no cap)
//   inside the band     : hold  (PI around a learnt holding fraction)
//   above target + band : cut   (0.0: idle power only, no new tasks)
//   at the site's max:    stop  (running tasks are stopped and requeued)
//   no trustworthy reading: safe mode (min power, or hold the last budget)
// Room models fitted on real heaters err by 3-6 C open loop (FACTS.md), so
// this uses feedback with a deadband and learns the holding power instead of
// predicting it. The agent, `hearth sim` and the tests run this same code.
#include <optional>
#include <string>

#include "core/grid.hpp"
#include "core/units.hpp"

namespace hearth {

enum class HeatMode { open, hold, cut, stop, safe };
const char* to_string(HeatMode m);

struct ControlInput {
    Celsius target;
    double band = 1.0;
    Celsius max{k_hard_max};
    std::optional<Celsius> measured;  // nullopt: the feed is stale or garbage
    SafeMode safe = SafeMode::min_power;
    double dt_s = 10;
};

struct ControllerState {
    double hold = 0.5;  // learnt fraction that keeps the site at its target
    double last_fraction = 0;
    HeatMode mode = HeatMode::safe;
};

struct ControlDecision {
    HeatMode mode = HeatMode::safe;
    double fraction = 0;  // [0, 1] of the dynamic power range
};

// Gains, per kelvin of error relative to the band: a full band below target
// asks for hold + 0.5; the integral moves the holding fraction by its own
// size in about half an hour of a full-band error.
struct ControllerGains {
    double kp = 0.5;
    double ki_per_s = 1.0 / 1800;
};

ControlDecision heat_control(ControllerState& state, const ControlInput& in,
                             const ControllerGains& gains = {});

}  // namespace hearth
