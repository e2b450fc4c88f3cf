#pragma once
// What a job is, as written to JOBDIR/job.json at submit time. Everything a
// later `hearth resume` needs is in it (items and staged inputs are copied
// into the job directory), so a resumed job runs the very same tasks.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth {

enum class SplitKind { frames, seeds, count, items };

struct NodeSpec {
    std::string host;
    std::uint32_t slots = 0;  // 0: the node's cores (hwloc, on the node)
    // Its GPUs (the grid file's `gpus`); unset: what the node's agent reads
    // through NVML, else none.
    std::optional<std::uint32_t> gpus;
};

struct JobSpec {
    std::string id;
    std::string name;
    std::string tenant;
    SplitKind split = SplitKind::count;
    std::string split_text;  // the set ("1-240"), range ("0-999"), count ("1000"), or "items"
    std::uint64_t chunk = 1;
    std::vector<std::string> command;  // template words
    std::vector<NodeSpec> nodes;       // empty: this machine only
    // The nodes are a Slurm allocation's: each run (and resume) takes those
    // of the allocation it runs in, and the dispatcher may share a slot.
    bool slurm = false;
    std::uint32_t workers_per_host = 1;
    std::uint32_t slots = 0;  // --slots: 0 means per node (hostfile) or cores
    std::uint32_t retries = 2;
    std::uint64_t timeout_ms = 0;
    std::vector<std::string> stage;    // names under JOBDIR/stage/
    std::vector<std::string> collect;  // globs relative to the scratch directory
    std::int64_t submitted_ms = 0;
    std::string submit_cwd;
    // Heat: finish by this Unix time even past the sites' heat budgets (0 = no
    // deadline); urgent ignores the budgets altogether.
    std::int64_t deadline_ms = 0;
    bool urgent = false;
    // A task's world (hearth(1), The task's environment): --env resolved at
    // submit time (NAME=VALUE), and the cores each task holds.
    std::vector<std::string> env;
    std::uint32_t cores_per_task = 1;
    std::uint64_t mem_per_task = 0;  // bytes a task may use; 0: no limit
    // GPUs each task is given (CUDA_VISIBLE_DEVICES, registered with the
    // node's agent); 0: none, and the task sees no GPU.
    std::uint32_t gpus_per_task = 0;
    std::string user;  // the tenant's Unix user from --grid's tenant table ("" = none)
};

inline constexpr std::uint32_t k_max_cores_per_task = 1024;
// A node's GPUs and a task's: NVML numbers GPUs from 0, and the agent takes
// indices below 1024.
inline constexpr std::uint32_t k_max_node_gpus = 1024;
inline constexpr std::uint32_t k_max_gpus_per_task = 64;
inline constexpr std::uint64_t k_max_mem_per_task = std::uint64_t{1} << 62;  // bytes

nlohmann::json to_json(const JobSpec&);
JobSpec job_from_json(const nlohmann::json&);  // throws Error if a field is bad
const char* to_string(SplitKind);

}  // namespace hearth
