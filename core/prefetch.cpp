#include "core/prefetch.hpp"

#include <algorithm>
#include <cmath>

#include "core/node_slots.hpp"

namespace hearth {

std::uint32_t round_trip_cover(double mean_ms, double rtt_ms) {
    if (rtt_ms <= 0 || mean_ms < 0 || rtt_ms * 20 < mean_ms) return 0;
    // A task of 0 ms (rounded down): a core wants k_max_prefetch at most.
    if (mean_ms < 1) mean_ms = 1;
    return static_cast<std::uint32_t>(
        std::min<double>(std::ceil(rtt_ms / mean_ms), k_max_prefetch));
}

std::uint32_t prefetch_depth(std::uint32_t allowed, double mean_ms, double rtt_ms) {
    if (allowed == 0) return 0;
    const unsigned backlog = target_backlog(allowed, mean_ms);
    const std::uint32_t base = backlog > allowed ? backlog - allowed : 0;
    const std::uint64_t cover = std::uint64_t{allowed} * round_trip_cover(mean_ms, rtt_ms);
    return std::max<std::uint32_t>(
        base, static_cast<std::uint32_t>(std::min<std::uint64_t>(cover, k_max_prefetch)));
}

std::uint32_t allowed_cores(const NodeReport& n) {
    return n.heat.known ? std::min(n.heat.allowed, n.slots) : n.slots;
}

std::uint32_t prefetch_room(const NodeReport& n) {
    return n.up && allowed_cores(n) > 0 ? std::min(n.prefetch, k_max_prefetch) : 0;
}

}  // namespace hearth
