#include "core/energy_counter.hpp"

namespace hearth {

namespace {

// A reading lands a little after the instant the caller timestamps it, and the
// hardware updates the counter in steps (about 1 ms, more under load or on
// firmware-updated meters), so a very short interval can legitimately look far
// hotter than max power: two readings 0.1 ms apart may straddle a whole
// update. Intervals shorter than this are judged as if this long had passed
// (the agent samples again at every task start and end, so such intervals
// are common), plus 1 mJ of slack.
constexpr long double glitch_min_interval_s = 0.02L;
constexpr long double glitch_slack_uj = 1000.0L;

// With the zone's max power unknown there is nothing to derive a safe interval
// from; once a minute keeps even a 65.5 kJ counter safe up to about 540 W.
constexpr double default_sample_interval_s = 60.0;

}  // namespace

CounterDelta counter_delta(std::uint64_t prev, std::uint64_t cur, std::uint64_t max_range,
                           double dt_s, Watts max_power) {
    CounterDelta out;
    // max_range is exclusive: a reading at or above it (or a counter without a
    // wrap point) is not something the hardware can produce, so the interval
    // cannot be trusted either way.
    if (max_range == 0 || prev >= max_range || cur >= max_range) {
        out.glitch = true;
        return out;
    }
    std::uint64_t delta = 0;
    if (cur >= prev) {
        delta = cur - prev;
    } else {
        // Both readings are below max_range, so this sum stays below max_range:
        // no overflow.
        delta = (max_range - prev) + cur;
        out.wrapped = true;
    }
    if (max_power.value > 0 && dt_s >= 0) {
        // long double holds every 64-bit count exactly, so the comparison does
        // not round a just-too-large delta down into acceptance.
        const long double dt = static_cast<long double>(dt_s) < glitch_min_interval_s
                                   ? glitch_min_interval_s
                                   : static_cast<long double>(dt_s);
        const long double limit =
            2.0L * static_cast<long double>(max_power.value) * dt * 1e6L + glitch_slack_uj;
        if (static_cast<long double>(delta) > limit) {
            out.glitch = true;
            return out;
        }
    }
    out.energy = Microjoules{delta};
    return out;
}

double max_sample_interval_s(std::uint64_t max_range, Watts max_power) {
    // `!(x > 0)` also catches NaN. A zero range means the wrap point is unknown,
    // and returning 0 s would have the caller spin.
    if (!(max_power.value > 0) || max_range == 0) return default_sample_interval_s;
    return static_cast<double>(max_range) / (max_power.value * 1e6) / 2.0;
}

}  // namespace hearth
