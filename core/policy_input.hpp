#pragma once
// What the scheduling policy (core/sched_policy) sees of a node, made from
// the node's report, pure. One conversion for every caller of the policy:
// `hearth serve` turns each site's NodeReport into a PolicyNode here, and the
// local `hearth run` dispatcher (core/local_policy) builds NodeReports from
// its workers and turns them the same way, so that both paths grant the same
// slots on the same view of a node.
#include <cstdint>

#include "core/sched_policy.hpp"
#include "core/site_api.hpp"

namespace hearth {

// n.running: cores held by attempts there now (queued or running), every
// job's; n.want: cores the site (or worker) would fill there now.
// mem_reserved: bytes granted to the attempts held there, which they may
// not have claimed yet; gpus_reserved: GPUs those attempts hold or will
// hold (each its job's gpus_per_task), running or queued at the node.
PolicyNode policy_node(const NodeReport& n, std::uint64_t mem_reserved,
                       std::uint32_t gpus_reserved);

}  // namespace hearth
