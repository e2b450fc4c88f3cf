#pragma once
// A worker's slot accounting on its node, pure: which slots a task takes,
// whether it may start under the heat budget, and how many tasks to keep
// queued. The worker (runner/mpi/worker) holds the state and applies these.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/protocol.hpp"

namespace hearth {

// The node's slots, each free or held by one running task. A task never
// shares a slot (under `hearth site`: a core) with another.
class SlotTable {
public:
    void assign(unsigned slots) {
        m_busy.assign(slots, false);
        m_held = 0;
    }
    unsigned size() const { return static_cast<unsigned>(m_busy.size()); }
    unsigned held() const { return m_held; }  // slots held by running tasks
    // The first n free slots in order, or none when fewer are free.
    std::vector<unsigned> first_free(unsigned n) const;
    void take(const std::vector<unsigned>& slots);
    void release(const std::vector<unsigned>& slots);

private:
    std::vector<bool> m_busy;
    unsigned m_held = 0;
};

// Slots the heat budget lets the node fill now, across every job: all of
// them without a budget; otherwise the agent's allowance, never more than the
// node has. Slots a deadline opens past it come as overridden assignments.
unsigned node_capacity(unsigned slots, const HeatReport& heat);

// The slots a task holds: under `hearth site` (slots are cores) its job's
// cores_per_task, at least one; under `hearth run` one, sized to the job's
// cores already.
unsigned task_slots(bool slots_are_cores, unsigned cores_per_task);

// What decides whether a queued attempt may start now.
struct StartCheck {
    unsigned held = 0;                   // slots held by running tasks
    unsigned need = 1;                   // slots this attempt takes (task_slots)
    unsigned capacity = 0;               // node_capacity
    bool overridden = false;             // the scheduler placed it past the budget
    bool urgent = false;                 // its job runs whatever the budget
    std::size_t job_running = 0;         // its job's attempts running here
    std::uint32_t mem_cap = UINT32_MAX;  // its job's attempts that fit in memory
    unsigned gpus_need = 0;              // GPUs this attempt takes (--gpus-per-task)
    unsigned gpus_free = 0;              // the node's GPUs no running task holds
};
// Never without its GPUs free (whatever the budget or deadline); never past
// the job's memory cap; urgent jobs and attempts the scheduler
// placed past the budget take any free slots; the rest only what the heat
// budget allows.
bool may_start(const StartCheck& c);

// The agent's budget moved enough to tell rank 0: known or lost, another
// allowance, or the waste by a tenth of a kelvin or more.
bool heat_moved(const HeatReport& before, const HeatReport& now);

// How often a worker reads its node's heat budget from the agent: at least
// every k_budget_period_ms, and before it starts queued work when its last
// reading is k_budget_fresh_ms old or more, so that a site which stopped
// wanting heat (the agent cut the budget to 0) starts at most that long on
// the old budget, not up to a second. An agent's answer costs a Unix-socket
// round trip, so this is a few reads a second at most, and only while work
// waits to start.
inline constexpr long k_budget_period_ms = 1000;
inline constexpr long k_budget_fresh_ms = 200;
// Read the budget now? age_ms: since the last reading (negative: never read);
// starting: a queued attempt would start on the budget as last read.
bool budget_read_due(long age_ms, bool starting);

// An attempt started now holds slots past the agent's allowance (it is
// reported as overridden).
bool past_budget(const HeatReport& heat, unsigned held, unsigned need);

// How many slots' worth of work to keep at hand (running, queued or asked
// for), given the mean wall time of recent attempts (negative: none yet).
// Short tasks: a few queued per slot, so a freed slot never waits for a
// round trip to rank 0. Long tasks: none queued, so the job's tail balances.
unsigned target_backlog(unsigned capacity, double mean_ms);

// The running mean of attempts' wall times the backlog is sized by.
double next_mean_ms(double mean_ms, double wall_ms);

// What to ask rank 0 for, all counted in slots.
struct BacklogNeed {
    std::uint32_t want = 0;  // more slots of work to ask for
    bool low = false;        // a slot may soon find the queue empty: ask now
};
BacklogNeed backlog_need(unsigned held, std::uint64_t queued, std::uint64_t requested,
                         unsigned backlog);

}  // namespace hearth
