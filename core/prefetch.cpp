#include "core/prefetch.hpp"

#include <algorithm>

#include "core/node_slots.hpp"

namespace hearth {

std::uint32_t prefetch_depth(std::uint32_t allowed, double mean_ms) {
    if (allowed == 0) return 0;
    const unsigned backlog = target_backlog(allowed, mean_ms);
    return backlog > allowed ? backlog - allowed : 0;
}

std::uint32_t allowed_cores(const NodeReport& n) {
    return n.heat.known ? std::min(n.heat.allowed, n.slots) : n.slots;
}

std::uint32_t prefetch_room(const NodeReport& n) {
    return n.up && allowed_cores(n) > 0 ? std::min(n.prefetch, k_max_prefetch) : 0;
}

}  // namespace hearth
