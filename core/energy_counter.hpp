#pragma once
// Arithmetic of a wrapping hardware energy counter (RAPL's energy_uj wraps at
// max_energy_range_uj). Pure functions: the powercap plugin reads files and
// calls these.
#include <cstdint>

#include "units.hpp"

namespace hearth {

struct CounterDelta {
    Microjoules energy{};  // 0 when rejected
    bool wrapped = false;
    // Rejected: implied more than twice the zone's max power (over at least
    // 20 ms: the counter moves in steps), or a reading at or above max_range
    // (or max_range 0), which the hardware cannot give.
    bool glitch = false;
};

// prev, cur: raw readings; max_range: the counter's wrap point (exclusive);
// dt_s: seconds between the readings; max_power: the zone's maximum power
// (0 = unknown: no glitch check). One wrap is assumed when cur < prev.
CounterDelta counter_delta(std::uint64_t prev, std::uint64_t cur, std::uint64_t max_range,
                           double dt_s, Watts max_power);

// The longest safe sampling interval: half the time the counter takes to wrap
// at max_power, so a second wrap can never hide between two samples. Unknown
// power or range gives 60 s.
double max_sample_interval_s(std::uint64_t max_range, Watts max_power);

}  // namespace hearth
