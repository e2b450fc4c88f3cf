#include "core/heat_dispatch.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hearth {

std::vector<std::uint32_t> heat_order(const std::vector<NodeCapacity>& nodes) {
    std::vector<std::uint32_t> idx(nodes.size());
    std::iota(idx.begin(), idx.end(), 0u);
    std::stable_sort(idx.begin(), idx.end(), [&](std::uint32_t a, std::uint32_t b) {
        return nodes[a].waste < nodes[b].waste;
    });
    return idx;
}

std::uint32_t slots_needed(const DeadlineNeed& need, std::uint64_t total, bool* feasible) {
    bool ok = true;
    double needed = 0;
    if (need.work_s > 0) {
        if (need.urgent || need.time_left_s <= 0) {
            needed = static_cast<double>(total);
            ok = need.urgent;  // a deadline already passed cannot be met
        } else {
            // A task cannot be split: with less than one task time left,
            // every remaining task needs a slot of its own, now.
            const double tasks_left = need.task_s > 0 ? std::ceil(need.work_s / need.task_s) : 0;
            if (need.task_s > 0 && need.task_s >= need.time_left_s * 0.9)
                needed = tasks_left;
            else
                needed = std::ceil(need.work_s * 1.1 / need.time_left_s);
            ok = needed <= static_cast<double>(total) && need.task_s <= need.time_left_s;
        }
    }
    if (feasible) *feasible = ok;
    return static_cast<std::uint32_t>(std::min(needed, 4.0e9));
}

OverridePlan plan_slots(std::uint32_t needed, const std::vector<NodeCapacity>& nodes) {
    OverridePlan plan;
    plan.extra.assign(nodes.size(), 0);
    plan.needed = needed;
    for (const auto& n : nodes)
        if (n.usable) plan.budgeted += std::min(n.allowed, n.slots);
    if (needed <= plan.budgeted) return plan;
    std::uint64_t missing = needed - plan.budgeted;
    for (std::uint32_t i : heat_order(nodes)) {
        if (missing == 0) break;
        const auto& n = nodes[i];
        if (!n.usable || n.allowed >= n.slots) continue;
        const std::uint64_t add = std::min<std::uint64_t>(n.slots - n.allowed, missing);
        plan.extra[i] = static_cast<std::uint32_t>(add);
        missing -= add;
        plan.overridden = true;
    }
    return plan;
}

OverridePlan plan_deadline(const DeadlineNeed& need, const std::vector<NodeCapacity>& nodes) {
    std::uint64_t total = 0;
    for (const auto& n : nodes)
        if (n.usable) total += n.slots;
    bool feasible = true;
    const std::uint32_t needed = slots_needed(need, total, &feasible);
    OverridePlan plan = plan_slots(needed, nodes);
    plan.feasible = feasible;
    return plan;
}

}  // namespace hearth
