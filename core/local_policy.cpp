#include "core/local_policy.hpp"

#include <algorithm>

#include "core/heat_dispatch.hpp"
#include "core/policy_input.hpp"

namespace hearth {

namespace {

std::uint32_t sat_sub(std::uint32_t a, std::uint32_t b) {
    return a > b ? a - b : 0;
}

// Slots the policy may fill within the node's budget: a grant beyond them
// was opened past it.
std::uint32_t in_budget(const PolicyNode& n) {
    if (!n.open || !n.cap.usable) return 0;
    return sat_sub(std::min(n.cap.allowed, n.cap.slots), n.busy);
}

}  // namespace

NodeReport local_node_report(const LocalWorker& w, bool deadline_work) {
    NodeReport n;
    n.slots = w.slots;
    n.running = w.in_flight;
    n.want = w.want;
    // A worker asks only for what its budget lets it start; a deadline may
    // need more there, which only the policy can say.
    if (deadline_work) n.want = std::max(n.want, sat_sub(w.slots, w.in_flight));
    n.heat = w.heat;
    n.up = w.usable;
    return n;
}

PolicyInput local_policy_input(const LocalJob& job, const std::vector<LocalWorker>& workers,
                               std::int64_t now_ms) {
    PolicyInput in;
    in.now_s = static_cast<double>(now_ms) / 1000.0;
    in.tenants.push_back(PolicyTenant{"local", 1, 0, 0});
    PolicyJob j;
    j.urgent = job.urgent;
    j.deadline_s = static_cast<double>(job.deadline_ms) / 1000.0;
    j.queued = job.queued;
    j.running = job.running;
    j.task_s = job.task_s;
    // As `hearth serve` counts them: running tasks are on average half done.
    j.remaining_s = 0.5 * static_cast<double>(job.running) * job.task_s;
    in.jobs.push_back(j);
    const bool deadline_work = job.urgent || job.deadline_ms > 0;
    for (const LocalWorker& w : workers)
        in.nodes.push_back(policy_node(local_node_report(w, deadline_work), 0, 0));
    return in;
}

std::vector<LocalGrant> local_grants(const PolicyInput& in, const std::vector<Grant>& grants,
                                     const LocalJob& job, const std::vector<LocalWorker>& workers) {
    std::vector<LocalGrant> out(workers.size());
    std::uint64_t left = job.queued;
    for (const Grant& g : grants) {
        if (g.node >= out.size() || left == 0) continue;
        const auto count = static_cast<std::uint32_t>(std::min<std::uint64_t>(g.count, left));
        left -= count;
        out[g.node].count += count;
        // One job, so one grant a node: what passes the budget's free slots
        // was opened past it.
        if (g.overridden)
            out[g.node].overridden += count - std::min(count, in_budget(in.nodes[g.node]));
    }
    // The queue ahead, in the order free slots go (least waste first).
    std::vector<NodeCapacity> caps;
    for (const PolicyNode& n : in.nodes) caps.push_back(n.cap);
    for (std::uint32_t i : heat_order(caps)) {
        if (left == 0) break;
        if (!workers[i].usable) continue;
        const std::uint32_t more = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(sat_sub(workers[i].want, out[i].count), left));
        out[i].count += more;
        left -= more;
    }
    return out;
}

}  // namespace hearth
