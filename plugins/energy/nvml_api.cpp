#include "nvml_api.hpp"

#include <dlfcn.h>

namespace hearth {
namespace {

// The ABI of the three NVML calls used (nvml.h is not needed to build):
// nvmlReturn_t is an int, 0 = NVML_SUCCESS; nvmlDevice_t an opaque pointer.
using InitFn = int (*)();
using CountFn = int (*)(unsigned*);
using HandleFn = int (*)(unsigned, void**);
using EnergyFn = int (*)(void*, unsigned long long*);
using ErrorFn = const char* (*)(int);
using ShutdownFn = int (*)();

class RealNvml final : public NvmlApi {
public:
    ~RealNvml() override {
        if (m_lib) {
            if (m_inited && m_shutdown) m_shutdown();
            ::dlclose(m_lib);
        }
    }
    std::string init() override {
        m_lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!m_lib) {
            const char* e = ::dlerror();
            return std::string("no NVIDIA driver (") + (e ? e : "libnvidia-ml.so.1 not found") +
                   "); install the NVIDIA driver to measure GPU energy";
        }
        auto init = reinterpret_cast<InitFn>(::dlsym(m_lib, "nvmlInit_v2"));
        m_count = reinterpret_cast<CountFn>(::dlsym(m_lib, "nvmlDeviceGetCount_v2"));
        m_handle = reinterpret_cast<HandleFn>(::dlsym(m_lib, "nvmlDeviceGetHandleByIndex_v2"));
        m_energy =
            reinterpret_cast<EnergyFn>(::dlsym(m_lib, "nvmlDeviceGetTotalEnergyConsumption"));
        m_error = reinterpret_cast<ErrorFn>(::dlsym(m_lib, "nvmlErrorString"));
        m_shutdown = reinterpret_cast<ShutdownFn>(::dlsym(m_lib, "nvmlShutdown"));
        if (!init || !m_count || !m_handle || !m_energy)
            return "libnvidia-ml.so.1 lacks nvmlDeviceGetTotalEnergyConsumption (driver too old); "
                   "update the NVIDIA driver";
        int rc = init();
        if (rc != 0)
            return "nvmlInit failed: " + text(rc) + "; check the NVIDIA driver (nvidia-smi)";
        m_inited = true;
        return "";
    }
    std::optional<unsigned> device_count(std::string& why) override {
        unsigned n = 0;
        int rc = m_count ? m_count(&n) : -1;
        if (rc != 0) {
            why = "nvmlDeviceGetCount failed: " + text(rc);
            return std::nullopt;
        }
        return n;
    }
    std::optional<std::uint64_t> total_energy_mj(unsigned index, std::string& why) override {
        void* dev = nullptr;
        int rc = m_handle(index, &dev);
        unsigned long long mj = 0;
        if (rc == 0) rc = m_energy(dev, &mj);
        if (rc != 0) {
            why = "GPU " + std::to_string(index) + ": " + text(rc);
            return std::nullopt;
        }
        return static_cast<std::uint64_t>(mj);
    }

private:
    std::string text(int rc) const {
        const char* e = m_error ? m_error(rc) : nullptr;
        return e ? std::string(e) : "NVML error " + std::to_string(rc);
    }
    void* m_lib = nullptr;
    bool m_inited = false;
    CountFn m_count = nullptr;
    HandleFn m_handle = nullptr;
    EnergyFn m_energy = nullptr;
    ErrorFn m_error = nullptr;
    ShutdownFn m_shutdown = nullptr;
};

}  // namespace

std::unique_ptr<NvmlApi> make_real_nvml() {
    return std::make_unique<RealNvml>();
}

}  // namespace hearth
