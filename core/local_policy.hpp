#pragma once
// The local `hearth run` dispatcher asks the grid's policy (core/sched_policy,
// the function `hearth serve` and `hearth sim` call) how many tasks each of
// its workers gets, as if its workers were the nodes of one in-process site
// and its job the only one queued. Pure: the dispatcher (runner/mpi/
// dispatcher.cpp) fills LocalWorker/LocalJob from its workers' reports and
// core/dispatch's DispatchState, and DispatchState picks which attempts.
//
// Units: a local worker's slots are task slots (each holds one task of the
// job's cores), and so is its agent's budget, so the policy sees a job of
// one-slot tasks. Memory is the worker's own check (its per-job cap).
//
// Two things on top of the policy, both local:
//  - Queue ahead: a worker asks for more than its free slots (a few tasks
//    queued per slot when tasks are short, so a freed slot never waits for a
//    round trip to rank 0). The policy places the tasks that start now (free,
//    heat-allowed slots, least waste first, and the slots a deadline opens
//    past the budgets); what a worker asked for beyond that is topped up from
//    what is left, so no task waits in a queue while a free slot elsewhere
//    could start it.
//  - Deadlines: a worker's own request stops at its heat budget, so for
//    deadline and urgent work every usable worker is offered its slots less
//    what it holds: the policy decides whether any slot past the budget
//    opens there (least waste first, only as many as the deadline lacks).
#include <cstdint>
#include <vector>

#include "core/protocol.hpp"
#include "core/sched_policy.hpp"
#include "core/site_api.hpp"

namespace hearth {

struct LocalWorker {
    std::uint32_t slots = 0;      // task slots
    std::uint32_t in_flight = 0;  // attempts sent there and not finished (queued or running)
    std::uint32_t want = 0;       // more attempts it asked for and was not sent
    HeatReport heat;              // its agent's budget (known=false: none)
    bool usable = true;           // said hello, present and not blocked
};

struct LocalJob {
    std::uint64_t queued = 0;   // attempts waiting: tasks never started + retries
    std::uint32_t running = 0;  // attempts in flight
    bool urgent = false;
    std::int64_t deadline_ms = 0;  // Unix ms; 0 = none
    double task_s = 0;             // mean wall time of finished attempts; 0 = none yet
};

// The worker as a site would report the node (core/site_api's NodeReport),
// for core/policy_input's policy_node.
NodeReport local_node_report(const LocalWorker& w, bool deadline_work);

// The policy's input: one tenant, one job, the workers as nodes in order.
PolicyInput local_policy_input(const LocalJob& job, const std::vector<LocalWorker>& workers,
                               std::int64_t now_ms);

struct LocalGrant {
    std::uint32_t count = 0;       // attempts to send the worker now
    std::uint32_t overridden = 0;  // of which to start past its heat budget
};

// Per worker (same order): the policy's grants, then the queue-ahead top-up
// (up to each worker's own want, from the attempts the grants left).
std::vector<LocalGrant> local_grants(const PolicyInput& in, const std::vector<Grant>& grants,
                                     const LocalJob& job, const std::vector<LocalWorker>& workers);

}  // namespace hearth
