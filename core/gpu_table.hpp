#pragma once
// A worker's GPUs on its node, pure: which GPU indices each running task
// holds. A GPU is held by one task at a time; a task's GPUs go back when it
// ends, however it ends (exit, kill, timeout, a spawn that failed). The
// indices are NVML's (PCI bus order), as the node's grid-agent meters them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hearth {

class GpuTable {
public:
    // The node's GPUs 0..count-1, all free.
    void assign(unsigned count) {
        m_busy.assign(count, false);
        m_held = 0;
    }
    unsigned size() const { return static_cast<unsigned>(m_busy.size()); }
    unsigned free() const { return size() - m_held; }
    // Takes the n lowest free indices and returns them; none (an empty list,
    // nothing taken) when fewer than n are free or n is 0.
    std::vector<unsigned> take(unsigned n);
    // Gives back GPUs take handed out. Throws std::logic_error for an index
    // that is not held (given back twice, or never taken): that would let
    // two tasks share a GPU.
    void release(const std::vector<unsigned>& gpus);

private:
    std::vector<bool> m_busy;
    unsigned m_held = 0;
};

// How many tasks needing gpus_per_task GPUs each fit at once on a node of
// `gpus` GPUs: UINT32_MAX when the job needs none.
std::uint32_t gpu_tasks_fitting(unsigned gpus, unsigned gpus_per_task);

// The node's GPU count the worker hands out: the grid file's `gpus` when it
// says (0 included), else the count the node's grid-agent reads.
std::uint32_t node_gpus(std::optional<std::uint32_t> grid_gpus, std::uint32_t agent_gpus);

// Why tasks of a job needing gpus_per_task cannot run on `node` with `gpus`
// ("" when they can), one line naming the fix.
std::string gpu_shortfall(const std::string& node, unsigned gpus, unsigned gpus_per_task);

}  // namespace hearth
