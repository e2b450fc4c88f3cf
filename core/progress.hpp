#pragma once
// The terminal progress line of `hearth run`: pure formatting, so the
// supervisor only decides when to redraw.
#include <cstdint>
#include <string>

namespace hearth {

struct ProgressCounts {
    std::uint64_t total = 0;
    std::uint64_t done = 0;  // committed
    std::uint64_t running = 0;
    std::uint64_t failed = 0;  // failed for good
    std::uint64_t retried = 0;
};

// elapsed_s: since the job started; rate from done tasks of this run only
// (done_this_run), so a resumed job's ETA is not flattered by old work.
std::string format_progress(const ProgressCounts& c, double elapsed_s,
                            std::uint64_t done_this_run, unsigned width);

std::string format_duration(double seconds);  // "4s", "3m05s", "2h01m"
std::string format_energy(std::uint64_t uj);   // "812 J", "45.2 kJ (0.0126 kWh)"

}  // namespace hearth
