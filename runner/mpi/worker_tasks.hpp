#pragma once
// One task attempt on a worker, from spawn to completion: what the worker
// keeps of it while it runs, its spawn bound to its slots' cores, and the
// completion that reports how it ended.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/protocol.hpp"
#include "runner/mpi/task_process.hpp"
#include "runner/mpi/topology.hpp"
#include "runner/mpi/worker_agent.hpp"
#include "runner/mpi/worker_jobs.hpp"

namespace hearth {

// A task's log is reported up to this, its head and tail kept.
constexpr std::size_t k_log_cap = 1 << 20;

struct Running {
    using Clock = std::chrono::steady_clock;
    Assignment a;                 // a.job names its entry in the worker's table of jobs
    unsigned slot = 0;            // its first slot (log names)
    std::vector<unsigned> slots;  // every slot it holds (slots_are_cores: one per core it holds)
    std::vector<unsigned> gpus;   // the GPUs it holds (core/gpu_table)
    Child child;
    Clock::time_point start;
    std::optional<Clock::time_point> deadline;
    std::string dir;
    std::string log;
    bool timed_out = false;
    bool handed_back = false;  // stopped because the site passed its maximum
    bool cancelled = false;    // stopped by the dispatcher (Tag::cancel)
    bool overridden = false;   // started past the heat budget (deadline)
    AgentTicket agent;         // its registration with the node's grid-agent
};

// The cores of the node as the worker split them into slots.
struct SlotCores {
    Topology& topo;
    const std::vector<std::vector<unsigned>>& plan;  // per slot, its cores
    const std::vector<std::string>& cpu_lists;       // per slot, for an mpirun inside a task
};

// Spawns r's task in r.dir, bound to the cores of r.slots, with its job's
// environment (and r.gpus' variables when the node has GPUs to hand out)
// and confinement. Throws Error when it cannot start.
Child spawn_attempt(const Running& r, const JobEntry& job, const SlotCores& cores,
                    bool node_has_gpus);

// A completion of attempt a that did not run to its end (cancelled, handed
// back, refused), with its status and one-line reason.
Completion attempt_completion(const Assignment& a, AttemptStatus status, std::string reason);

// The completion of r, ended as e: its status and reason (killed: the
// dispatcher stopped every task), wall time, outputs collected from its
// directory when it succeeded, and its log. The energy figure is the agent's.
Completion ended_attempt(const Running& r, const ExitInfo& e, JobEntry& job, bool killed);

}  // namespace hearth
