#pragma once
// energy/nvml: GPU energy from NVML's per-GPU counter
// (nvmlDeviceGetTotalEnergyConsumption, millijoules since the driver
// loaded), through the dlopen'd NvmlApi seam. It measures the GPUs only, not
// the node: `auto` never picks it (priority 0); named with --energy nvml it
// is the GPUs' energy, said so in the probe.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "nvml_api.hpp"

namespace hearth {

// Initialises the library and reads every GPU once; available when at least
// one GPU gives its energy. detail: "2 GPUs, 1234.5 J since the driver
// loaded" or why not ("no NVIDIA driver (...)").
ProbeResult probe_nvml(NvmlApi& api);

class NvmlSource final : public EnergySource {
public:
    // Takes over an api probe_nvml initialised. Throws Error when no GPU reads.
    NvmlSource(std::unique_ptr<NvmlApi> api, std::shared_ptr<const Clock> clock);
    std::string name() const override { return "nvml"; }
    bool estimated() const override { return false; }
    std::string meter() const override;
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override { return std::chrono::seconds(10); }
    Watts max_power() const override { return {}; }
    unsigned gpu_count() const override;
    // "gpuN=mJ;...": each GPU's last good reading.
    std::string checkpoint() const override;
    void resume(const std::string& checkpoint, double elapsed_s) override;

private:
    struct Gpu {
        unsigned index = 0;
        bool have_prev = false;
        std::uint64_t prev_mj = 0;
        bool warned = false;
        Microjoules total{};  // this GPU's energy since the source opened
    };
    std::unique_ptr<NvmlApi> m_api;
    std::shared_ptr<const Clock> m_clock;
    std::vector<Gpu> m_gpus;
    Microjoules m_total{};
};

}  // namespace hearth
