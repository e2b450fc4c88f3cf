#pragma once
// The NVML seam: the few calls the nvml energy source makes, behind an
// interface. The real one dlopen()s libnvidia-ml.so.1 at run time, so
// Hearth builds and runs where no NVIDIA driver is installed and says why
// the source is unavailable; tests put a fake behind it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace hearth {

class NvmlApi {
public:
    virtual ~NvmlApi() = default;
    // nvmlInit_v2; "" or why not ("no NVIDIA driver: ...").
    virtual std::string init() = 0;
    // nvmlDeviceGetCount_v2; nullopt with why on failure.
    virtual std::optional<unsigned> device_count(std::string& why) = 0;
    // nvmlDeviceGetTotalEnergyConsumption: millijoules since the driver was
    // loaded (Volta and later); nullopt with why when the GPU cannot say.
    virtual std::optional<std::uint64_t> total_energy_mj(unsigned index, std::string& why) = 0;
};

// The real library, loaded on first init().
std::unique_ptr<NvmlApi> make_real_nvml();

}  // namespace hearth
