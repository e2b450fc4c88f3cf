#include "core/heat_wait.hpp"

#include <algorithm>

namespace hearth {

NodeRoom node_room(const NodeReport& n, std::uint32_t granted) {
    NodeRoom r;
    r.slots = n.slots;
    r.allowed = n.heat.known ? std::min(n.heat.allowed, n.slots) : n.slots;
    r.running = n.running + granted;
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
