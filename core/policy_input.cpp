#include "core/policy_input.hpp"

#include <algorithm>

#include "core/prefetch.hpp"

namespace hearth {

PolicyNode policy_node(const NodeReport& n, std::uint64_t mem_reserved,
                       std::uint32_t gpus_reserved) {
    PolicyNode p;
    p.cap.slots = n.slots;
    p.cap.allowed = n.heat.known ? std::min(n.heat.allowed, n.slots) : n.slots;
    p.cap.waste = n.heat.known ? static_cast<double>(n.heat.waste_mk) / 1000.0 : 0.0;
    p.cap.usable = n.up;
    // The site asks for `want` attempts there: the slots beyond it count
    // as busy, so the policy offers no more than the site will start. Its
    // room is the allowed cores plus the prefetch it may hold queued past
    // them (core/prefetch; running counts the queued ones too).
    p.prefetch = prefetch_room(n);
    const std::uint32_t limit = p.cap.allowed + p.prefetch;
    const std::uint32_t room = limit > n.running ? limit - n.running : 0;
    p.busy = n.running + (n.want < room ? room - n.want : 0);
    p.open = n.up && n.want > 0;
    // Memory: what the node has free now, and no more than its total less
    // what the tasks running there were granted (they may not have claimed
    // it yet). Not reported (an older site): no check.
    if (n.mem_total > 0) {
        p.mem_total = n.mem_total;
        p.mem_free = std::min(n.mem_available, n.mem_total - std::min(n.mem_total, mem_reserved));
    }
    // GPUs: those the attempts out there were granted are not free, so no
    // more GPU tasks go there than can start. Not reported (an older
    // site): no check.
    if (n.gpus) {
        p.gpus = *n.gpus;
        p.gpus_free = *n.gpus - std::min(*n.gpus, gpus_reserved);
    }
    return p;
}

}  // namespace hearth
