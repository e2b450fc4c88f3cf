#include "core/heat_control.hpp"

#include <algorithm>
#include <cmath>

namespace hearth {

const char* to_string(HeatMode m) {
    switch (m) {
        case HeatMode::open: return "open";
        case HeatMode::hold: return "hold";
        case HeatMode::cut: return "cut";
        case HeatMode::stop: return "stop";
        case HeatMode::safe: return "safe";
    }
    return "?";
}

ControlDecision heat_control(ControllerState& s, const ControlInput& in,
                             const ControllerGains& g) {
    ControlDecision d;
    const bool valid = in.measured && std::isfinite(in.measured->value);
    if (!valid) {
        d.mode = HeatMode::safe;
        d.fraction = in.safe == SafeMode::hold ? std::clamp(s.last_fraction, 0.0, 1.0) : 0.0;
    } else {
        const double t = in.measured->value;
        const double band = in.band > 0 ? in.band : 1.0;
        const double err = (in.target.value - t) / band;  // in bands, positive = too cold
        const double dt = std::max(0.0, in.dt_s);
        if (t >= in.max.value) {
            d.mode = HeatMode::stop;
            d.fraction = 0;
        } else if (err > 1) {
            d.mode = HeatMode::open;
            d.fraction = 1;
        } else if (err < -1) {
            d.mode = HeatMode::cut;
            d.fraction = 0;
        } else {
            // Integrate only inside the band: outside it the budget is
            // saturated and integrating would wind the estimate up.
            s.hold = std::clamp(s.hold + g.ki_per_s * err * dt, 0.0, 1.0);
            d.mode = HeatMode::hold;
            d.fraction = std::clamp(s.hold + g.kp * err, 0.0, 1.0);
        }
    }
    s.mode = d.mode;
    s.last_fraction = d.fraction;
    return d;
}

}  // namespace hearth
