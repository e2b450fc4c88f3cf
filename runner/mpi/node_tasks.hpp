#pragma once
// The task attempts of every job a worker runs on its node: queued, started
// as the node's slots, cores and heat budget allow (the rules are
// core/node_slots), timed out, reaped, and each one's completion batched for
// rank 0. The worker (worker.cpp) derives from it and acts on it from rank
// 0's messages.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/completion_batch.hpp"
#include "core/gpu_table.hpp"
#include "core/node_slots.hpp"
#include "core/protocol.hpp"
#include "runner/mpi/task_process.hpp"
#include "runner/mpi/topology.hpp"
#include "runner/mpi/worker_agent.hpp"
#include "runner/mpi/worker_jobs.hpp"
#include "runner/mpi/worker_tasks.hpp"

namespace hearth {

class NodeTasks {
protected:
    using Clock = std::chrono::steady_clock;
    struct Queued {
        Assignment a;
        std::string dir;  // scratch directory, made ahead of time when known
    };

    // Slots the heat budget lets the node fill now, across every job.
    unsigned capacity() const;
    unsigned slots_of(const Assignment& a) const;
    unsigned gpus_of(const Assignment& a) const;
    bool may_start(const Assignment& a) const;
    // Asks the agent for its budget when due (core/node_slots
    // budget_read_due: once a second, and before a start on a reading
    // older than k_budget_fresh_ms when `starting`); hands queued attempts
    // back when the node wants no heat, running ones past the site's
    // maximum. True when it asked.
    bool refresh_budget(bool starting = false);
    // The budget allows no slot: queued attempts that may not start go back.
    void hand_back_queued();
    void start_ready();
    void start_one(Queued q, std::vector<unsigned> slots, std::vector<unsigned> gpus);
    void prepare_ahead();
    void reap_finished();
    void finalize(Running& r, const ExitInfo& e);
    void enforce_timeouts();
    void kill_all();
    void add_done(Completion c);
    void register_with_agent(Running& r);
    void retry_agent();

    bool m_slots_are_cores = false;  // the node's config: `hearth site`
    JobTable m_jobs;
    WorkerAgent m_agent;
    Topology m_topo;
    std::vector<std::vector<unsigned>> m_plan;
    std::vector<std::string> m_cpu_lists;  // per slot, for an mpirun inside a task
    SlotTable m_slots;
    GpuTable m_gpus;  // the node's GPUs (NodeConfig::gpus), held by running tasks
    std::vector<unsigned> m_slot_turn;
    std::map<pid_t, Running> m_running;
    std::deque<Queued> m_queue;
    CompletionBatch m_done;  // reported to rank 0 in batches
    bool m_stopping = false;
    bool m_kill = false;
    double m_mean_ms = -1;
    // Heat: the slots the node's agent allows (all without one), and when it
    // was last asked (never: nullopt).
    HeatReport m_heat;
    bool m_heat_dirty = false;
    std::optional<Clock::time_point> m_budget_read;
};

}  // namespace hearth
