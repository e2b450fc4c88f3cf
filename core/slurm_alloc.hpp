#pragma once
// The Slurm allocation a command runs in, from the environment Slurm gives it
// (salloc, sbatch, srun): its job id, nodes and the tasks it may run on each.
// Pure: the environment comes through a lookup function, so tests need no Slurm.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/jobspec.hpp"

namespace hearth {

struct SlurmNode {
    std::string name;    // Slurm's node name, as in SLURM_JOB_NODELIST
    unsigned tasks = 0;  // from SLURM_TASKS_PER_NODE
};

struct SlurmAllocation {
    std::string job_id;
    std::vector<SlurmNode> nodes;
};

// Expands Slurm's run-length counts: "2(x3),1" -> 2 2 2 1. Throws usage_error
// naming `var` on anything else (an empty list, a zero, a bad repeat).
std::vector<unsigned> expand_slurm_counts(std::string_view text, std::string_view var);

// The variable's value, or nothing when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The allocation, or nothing outside one (no SLURM_JOB_ID nor SLURM_JOBID).
// Inside one, an allocation Hearth cannot use (no nodes, a node list or task
// counts it cannot parse, counts that do not match the nodes) is a usage_error
// naming the variable and the fix.
std::optional<SlurmAllocation> read_slurm_allocation(const EnvLookup& env);

// The allocation's nodes as a job's nodes: one slot a task Slurm gave.
std::vector<NodeSpec> slurm_node_specs(const SlurmAllocation& alloc);

// The process's own environment, for read_slurm_allocation.
std::optional<std::string> process_env(const std::string& name);

}  // namespace hearth
