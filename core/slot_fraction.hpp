#pragma once
// The one rule that turns a heat controller's power fraction into a number
// of task slots: round up, so a site that wants any heat runs at least one
// task, and a fraction a hair above a whole number (floating error) does not
// open one more. The agent's budget, the throttle's slot actuator and
// `hearth sim` all call it.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace hearth {

inline std::uint32_t slots_for_fraction(double fraction, std::uint32_t slots) {
    if (!(fraction > 0)) return 0;  // NaN and negatives too
    const double f = std::min(fraction, 1.0);
    return static_cast<std::uint32_t>(std::min<double>(slots, std::ceil(f * slots - 1e-9)));
}

}  // namespace hearth
