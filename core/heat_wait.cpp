#include "core/heat_wait.hpp"

#include <algorithm>

#include "core/prefetch.hpp"

namespace hearth {

NodeRoom node_room(const NodeReport& n, std::uint32_t granted) {
    NodeRoom r;
    r.slots = n.slots;
    r.allowed = allowed_cores(n);
    // Work queued there past the budget (prefetch) is not running: a node
    // whose budget is full with a queue is held by heat, not by its slots.
    const std::uint32_t held = n.running + granted;
    const std::uint32_t queued = std::min(held, prefetch_room(n));
    r.running = held - queued;
    r.up = n.up;
    return r;
}

bool held_for_heat(const std::vector<NodeRoom>& nodes) {
    bool closed_by_heat = false;
    for (const NodeRoom& n : nodes) {
        if (!n.up) continue;
        if (n.allowed > n.running) return false;  // work can start there: not held
        if (n.slots > n.running) closed_by_heat = true;
    }
    return closed_by_heat;
}

}  // namespace hearth
