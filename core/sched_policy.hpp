#pragma once
// The grid's scheduling policy, pure: given the jobs waiting, the tenants'
// shares and past usage, and the nodes' free and heat-allowed slots, which
// job's tasks go to which node now. `hearth serve` calls it on every site's
// request for work, `hearth sim` on every step, and a `hearth run` without a
// server whenever one of its workers wants work (its workers as the nodes of
// one local site, core/local_policy), so the digital twin, the shared grid
// and the embedded default cannot drift. What a node is to the policy comes
// from its report through one function (core/policy_input's policy_node).
// No I/O, no clock: time comes in as now_s.
//
// Order (DESIGN.md, "a grid, not a job"):
//  1. urgent jobs, then deadline jobs (earliest deadline first), each for
//     the concurrent slots its deadline needs now (core/heat_dispatch's
//     slots_needed, less what it already runs). They take the heat-allowed
//     slots first; only where the budgets cannot meet a deadline are extra
//     slots opened past them, where least heat is wasted (plan_slots), and
//     only as many as the deadline lacks. Urgent work without a deadline
//     needs what its queued tasks can use. The rest of their tasks queue in
//     fair share like any job's, so a far deadline cannot jump the queue.
//  2. then weighted fair share between tenants: the next free slot goes to
//     the tenant with the lowest load / share, where load = the slots it
//     holds (running + granted in this call) + its decayed usage as a
//     fraction of every tenant's, times the slots in play (running + free).
//     As Slurm's fair share: usage normalised by share; ties to the lower
//     tenant index. Granted in chunks (a heap over tenants), not slot by slot;
//  3. within a tenant, higher job priority first, then arrival order (seq).
// Slots are cores: a node's slots are its cores, a job's task holds its
// cores_per_task of them, a tenant holds (and is charged for) the cores its
// tasks hold, and max_running and the heat budgets count cores too. A task
// goes only to a node with that many cores free within its budget and, with
// mem_per_task, that much memory free, and with gpus_per_task, that many
// GPUs free (less what this call already placed; prefetch and deadline
// slots included, so no GPU task is granted to wait at a node for a GPU).
// Reservation (no starvation of wide jobs): when fair share reaches a job
// none of whose tasks fits anywhere now, the open node that could hold one
// with the most cores free is held back for it for the rest of the call, and
// the queue goes on past it (backfill on the other nodes). Tasks end on the
// held node and nobody else starts there, so its free cores only grow until
// the wide task fits: narrow jobs arriving all the time cannot hold it off
// (jobs of higher priority in its own tenant can, by design).
// Per-tenant max_running caps a tenant's running + granted slots, deadline
// work included. Free slots of an open, usable node: heat-aware,
// min(allowed, slots) - busy; unaware, slots - busy; plus its prefetch
// (queued work hearth site holds) where that limit is above 0. Nodes are filled in
// heat_order (lowest waste: the sites that want heat most first); unaware,
// in rotation from `rotate`, every budget ignored and nothing overridden.
#include <cstdint>
#include <string>
#include <vector>

#include "core/heat_dispatch.hpp"

namespace hearth {

struct PolicyTenant {
    std::string name;
    double share = 1;              // > 0; relative weight (grid file [[tenant]] share)
    double usage_slot_s = 0;       // past usage in slot-seconds, decayed (decay_usage)
    std::uint32_t max_running = 0; // 0 = no limit
};

struct PolicyJob {
    std::uint32_t tenant = 0;     // index into PolicyInput::tenants
    std::int32_t priority = 0;
    std::uint64_t seq = 0;        // arrival order, unique
    bool urgent = false;
    double deadline_s = 0;        // absolute, on now_s's clock; 0 = none
    std::uint64_t queued = 0;     // tasks waiting to start
    std::uint32_t running = 0;    // tasks running now (counted against shares)
    double task_s = 0;            // mean task time so far (0 = unknown: a guess of 60 s)
    double remaining_s = 0;       // work left in running tasks (deadline planning)
    std::uint32_t cores_per_task = 1;  // cores (slots) each task holds; 0 is taken as 1
    std::uint64_t mem_per_task = 0;    // bytes each task needs free on its node; 0 = no need
    std::uint32_t gpus_per_task = 0;   // GPUs each task needs on its node; 0 = none
};

// A node's memory when nobody reported it: no memory check there.
inline constexpr std::uint64_t k_mem_unknown = UINT64_MAX;

struct PolicyNode {
    NodeCapacity cap;          // slots (= cores), heat-allowed cores, waste, usable
    std::uint32_t busy = 0;    // cores held by tasks running there now, every job's
    // Cores of work it may hold queued past its allowed cores (hearth site's
    // prefetch, core/prefetch: busy counts them too); 0 in hearth sim.
    std::uint32_t prefetch = 0;
    bool open = true;          // may receive grants now (the site asking; sim: all)
    std::uint64_t mem_free = k_mem_unknown;   // bytes new tasks may still claim there
    std::uint64_t mem_total = k_mem_unknown;  // bytes a task could ever have there
    std::uint32_t gpus = UINT32_MAX;          // its GPUs; MAX: unknown (an older site), no check
    // GPUs not held by the tasks out there (running or queued at the node),
    // which new tasks may claim; MAX: not counted (only its total caps them).
    std::uint32_t gpus_free = UINT32_MAX;
};

struct PolicyInput {
    double now_s = 0;
    bool heat_aware = true;  // false: ignore budgets, fill nodes in rotation (sim's baseline)
    std::uint32_t rotate = 0;  // unaware: the node to start from
    std::vector<PolicyTenant> tenants;
    std::vector<PolicyJob> jobs;
    std::vector<PolicyNode> nodes;
};

// One per (job, node) with count > 0.
struct Grant {
    std::uint32_t job = 0;   // index into PolicyInput::jobs
    std::uint32_t node = 0;  // index into PolicyInput::nodes
    std::uint32_t count = 0;  // tasks (each holding the job's cores_per_task cores)
    bool overridden = false;  // some of them opened past the node's heat budget
};

// Grants for the open nodes' free slots. Deterministic: same input, same
// output. Throws Error (internal) on a job whose tenant index is out of
// range or a share that is not finite and above 0: the caller's bug.
std::vector<Grant> schedule(const PolicyInput& in);

// Usage after dt_s seconds of exponential decay with the given half-life:
// usage * 2^(-dt_s / half_life_s); half_life_s <= 0 or dt_s <= 0: unchanged.
double decay_usage(double usage, double dt_s, double half_life_s);

// Whether a task of `job` could ever run on `node` (its cores and memory, the
// budget aside): the scheduler's check for a job that fits nowhere.
bool task_fits_node(const PolicyJob& job, const PolicyNode& node);

}  // namespace hearth
