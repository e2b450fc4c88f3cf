#pragma once
// A node meter (redfish, hwmon, ipmi) read together with the parts it
// holds (RAPL through powercap or papi, GPUs through nvml): its energy is
// the node's, every interval; the parts' counters split it into what they
// explain (attributed by activity) and the platform overhead they cannot see
// (power supply, board, fans, disks: charged by reservation, like the static
// part). See attribute_interval's `explained`.
#include <memory>
#include <string>

#include "core/energy_source.hpp"

namespace hearth {

class NodeWithParts final : public EnergySource {
public:
    // cpu, gpu: either may be null, not both.
    NodeWithParts(std::unique_ptr<EnergySource> node, std::unique_ptr<EnergySource> cpu,
                  std::unique_ptr<EnergySource> gpu);
    // "hwmon+powercap", "ipmi+papi+nvml": the ledger's source column.
    std::string name() const override;
    bool estimated() const override { return false; }
    // "power_meter (hwmon3) power1_average (integrated)+package-0, dram"
    std::string meter() const override;
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override;
    Watts max_power() const override { return m_node->max_power(); }
    unsigned gpu_count() const override { return m_gpu ? m_gpu->gpu_count() : 0; }
    // Each source's own checkpoint, one a line: "node:...", "cpu:...", "gpu:...".
    std::string checkpoint() const override;
    void resume(const std::string& checkpoint, double elapsed_s) override;
    const EnergySource& node() const { return *m_node; }

private:
    std::unique_ptr<EnergySource> m_node, m_cpu, m_gpu;
};

}  // namespace hearth
