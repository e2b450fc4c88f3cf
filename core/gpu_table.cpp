#include "core/gpu_table.hpp"

#include <cstdint>
#include <stdexcept>

namespace hearth {

std::vector<unsigned> GpuTable::take(unsigned n) {
    std::vector<unsigned> got;
    if (n == 0 || n > free()) return got;
    for (unsigned g = 0; g < m_busy.size() && got.size() < n; ++g)
        if (!m_busy[g]) got.push_back(g);
    for (unsigned g : got) m_busy[g] = true;
    m_held += n;
    return got;
}

void GpuTable::release(const std::vector<unsigned>& gpus) {
    // All or nothing: a bad index (or one listed twice) leaves the table as it was.
    std::vector<unsigned> freed;
    for (unsigned g : gpus) {
        if (g >= m_busy.size() || !m_busy[g]) {
            for (unsigned f : freed) m_busy[f] = true;
            throw std::logic_error("GPU " + std::to_string(g) + " given back but not held");
        }
        m_busy[g] = false;
        freed.push_back(g);
    }
    m_held -= static_cast<unsigned>(freed.size());
}

std::uint32_t gpu_tasks_fitting(unsigned gpus, unsigned gpus_per_task) {
    if (gpus_per_task == 0) return UINT32_MAX;
    return gpus / gpus_per_task;
}

std::uint32_t node_gpus(std::optional<std::uint32_t> grid_gpus, std::uint32_t agent_gpus) {
    return grid_gpus.value_or(agent_gpus);
}

std::string gpu_shortfall(const std::string& node, unsigned gpus, unsigned gpus_per_task) {
    if (gpus >= gpus_per_task) return "";
    return "node " + node + " has " + std::to_string(gpus) + " GPU" + (gpus == 1 ? "" : "s") +
           ", fewer than --gpus-per-task " + std::to_string(gpus_per_task) +
           "; give it gpus = N in the grid file, or run its grid-agent where NVML finds the GPUs";
}

}  // namespace hearth
