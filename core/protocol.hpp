#pragma once
// The messages of the dispatcher (rank 0) and workers (ranks >= 1). All
// point-to-point; a worker asks for work when it has room, so no collective
// or broadcast sits on the control path. One worker runs the tasks of any
// number of jobs (`hearth run`: one; `hearth site`: every tenant's): the node's
// settings come once (config), each job's settings before its first task on
// that node (job), and every task and completion names its job.
#include <cstdint>
#include <string>
#include <vector>

namespace hearth {

enum class Tag : int {
    hello = 1,   // worker -> dispatcher: ready, with its capacity
    config = 2,  // dispatcher -> worker: the node's settings (NodeConfig), once
    report = 3,  // worker -> dispatcher: completions and how many tasks it wants
    tasks = 4,   // dispatcher -> worker: a batch of task attempts
    stop = 5,    // dispatcher -> worker: no more work (kill running tasks if set)
    // 6 was override_slots: deadline slots past the budget come as overridden tasks now.
    job = 7,     // dispatcher -> worker: a job's settings and staged files, before its first task
    cancel = 8,  // dispatcher -> worker: stop these attempts (completions say cancelled)
    forget = 9,  // dispatcher -> worker: no more of its tasks here: drop its settings, files
};

struct Hello {
    std::string host;  // MPI processor name
    std::uint32_t cores = 0;
    std::uint64_t mem_total = 0;  // bytes, /proc/meminfo MemTotal; 0: unknown
    std::uint32_t gpus = 0;       // GPUs the node's agent reads (NVML); 0: none or no agent
};

struct FileBlob {
    std::string path;  // relative, '/'-separated
    std::uint32_t mode = 0644;
    std::string data;
};

// The node's own settings: its slots are spent once across every job.
struct NodeConfig {
    std::string node;         // the name the dispatcher gives this worker
    std::uint32_t slots = 0;  // 0: one per core
    // `hearth site`: the slots are cores, spent once across every job; a
    // task holds its job's cores_per_task of them (no two tasks share a
    // core). `hearth run`: each slot is one task of the job's cores.
    bool slots_are_cores = false;
    // GPUs the worker hands to tasks, indices 0..gpus-1 (CUDA_VISIBLE_DEVICES):
    // the grid file's `gpus`, else the agent's count in Hello.
    std::uint32_t gpus = 0;
};

// One job's settings, as the worker keeps them in its table of jobs.
struct JobConfig {
    std::string job;
    std::string tenant;
    std::uint64_t timeout_ms = 0;  // 0: none
    std::vector<std::string> collect;
    std::vector<FileBlob> staged;
    bool urgent = false;  // ignore heat budgets: run on every slot
    std::vector<std::string> env;      // --env, resolved: NAME=VALUE (core/task_env)
    std::uint32_t cores_per_task = 1;  // HEARTH_CORES and the thread counts
    std::uint64_t mem_per_task = 0;    // bytes: placement and the task's limit; 0 = none
    std::uint32_t gpus_per_task = 0;   // GPUs each task is given; 0 = none
    // The Unix user the tenant's tasks run as on this grid (its grid file's
    // `user`); "": one allocated for the tenant (core/task_identity).
    std::string user;
};

struct Assignment {
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
    std::vector<std::string> argv;
    std::string job;          // its JobConfig reached the worker first
    bool overridden = false;  // the scheduler placed it past the heat budget: start it anyway
    std::string first, last;  // its first and last items: HEARTH_FIRST, HEARTH_LAST
};

// One attempt of one job, as cancel messages name it.
struct AttemptRef {
    std::string job;
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
};

struct Forget {
    std::string job;
};

enum class AttemptStatus : std::uint8_t {
    ok = 0,
    exited = 1,     // non-zero exit
    signalled = 2,  // killed by a signal it did not ask for
    timed_out = 3,  // --timeout reached; the process group was killed
    spawn_failed = 4,
    collect_failed = 5,  // ran fine but an output could not be collected
    cancelled = 6,       // stopped by the dispatcher (job cancelled)
};

enum class EnergyState : std::uint8_t { unknown = 0, measured = 1, estimated = 2 };

struct Completion {
    std::string job;
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
    AttemptStatus status = AttemptStatus::ok;
    std::int32_t exit_code = 0;  // or the signal number when signalled
    std::uint64_t wall_ms = 0;
    std::string reason;  // one line when not ok
    std::string log;     // stdout and stderr, interleaved as written (capped)
    std::vector<FileBlob> outputs;
    // Energy the node's grid-agent charged to this attempt, when one runs there.
    EnergyState energy_state = EnergyState::unknown;
    std::uint64_t energy_uj = 0;
    // It ran in a slot opened past the site's heat budget (deadline or urgent).
    bool overridden = false;
};

// What the node's grid-agent allows now, as the worker last heard it.
struct HeatReport {
    bool known = false;  // false: no agent, or one without heat control
    std::uint32_t allowed = 0;
    std::uint32_t slots = 0;
    std::int64_t waste_mk = 0;  // millikelvin above the bottom of the site's band
};

struct Report {
    std::uint32_t want = 0;  // more tasks (slots_are_cores: cores) it would start
    std::vector<Completion> completions;
    HeatReport heat;
    std::uint64_t mem_available = 0;  // bytes, MemAvailable now; 0: unknown
};

struct Stop {
    bool kill_running = false;
};

std::string encode(const Hello&);
std::string encode(const NodeConfig&);
std::string encode(const JobConfig&);
std::string encode(const std::vector<AttemptRef>&);  // Tag::cancel
std::string encode(const Forget&);
std::string encode(const Report&);
std::string encode(const std::vector<Assignment>&);
std::string encode(const Stop&);

Hello decode_hello(const std::string&);
NodeConfig decode_node_config(const std::string&);
JobConfig decode_job_config(const std::string&);
std::vector<AttemptRef> decode_cancel(const std::string&);
Forget decode_forget(const std::string&);
Report decode_report(const std::string&);
std::vector<Assignment> decode_tasks(const std::string&);
Stop decode_stop(const std::string&);

const char* to_string(AttemptStatus);

}  // namespace hearth
