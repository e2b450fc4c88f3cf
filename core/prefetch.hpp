#pragma once
// Per-node prefetch under `hearth site`, pure. A node keeps granted tasks
// queued beyond the cores its heat budget lets run, so that a worker starts
// its next task the moment one ends while the site's request for more (a
// round trip to the scheduler and its durable commit) is under way. The site
// says how deep (NodeReport::prefetch, in cores) and the scheduler lets the
// node hold that much past its allowed cores. Heat still rules: where the
// budget allows nothing there is no prefetch, and the worker hands back what
// it had queued (requeued by the scheduler, not a failure).
#include <cstdint>

#include "core/site_api.hpp"

namespace hearth {

// The most a node may hold queued past its allowed cores, whatever its site
// asks: the worker's backlog never passes 256 cores (core/node_slots).
inline constexpr std::uint32_t k_max_prefetch = 256;

// Cores of queued work to hold beyond `allowed` (the cores the heat budget
// lets run; all the node's without a budget), from the mean wall time of the
// node's recent attempts (negative: none finished yet). The worker's own
// backlog rule (core/node_slots target_backlog) less what runs: many for
// tasks of a few milliseconds, one for tasks under 2 s, none for longer ones
// (a round trip is lost in them, and the job's tail balances better) and
// none before the first task ends or where heat allows nothing.
// rtt_ms: the site's measured round trip for a work request (negative:
// none measured yet). Where it is a noticeable share of a task's time (a
// twentieth or more), the depth is also enough to keep each allowed core
// busy for one round trip: allowed x ceil(rtt / mean) cores' worth, at most
// k_max_prefetch. A site far from its scheduler thus keeps a deeper queue.
std::uint32_t prefetch_depth(std::uint32_t allowed, double mean_ms, double rtt_ms = -1);

// Cores of queued work one allowed core needs to stay busy for a round
// trip of rtt_ms with tasks of mean_ms: ceil(rtt / mean), 0 where the round
// trip is under a twentieth of a task (or either is unknown).
std::uint32_t round_trip_cover(double mean_ms, double rtt_ms);

// The cores a reported node may run now: its heat budget's allowance, never
// more than its slots; all its slots when it has no budget.
std::uint32_t allowed_cores(const NodeReport& n);

// The prefetch the scheduler grants a reported node: what the site asked
// for up to k_max_prefetch, none where the node's budget allows no core.
std::uint32_t prefetch_room(const NodeReport& n);

}  // namespace hearth
