#pragma once
// A fake NVML behind the NvmlApi seam: GPUs whose millijoule counters a test
// sets, a missing driver, a GPU without an energy counter, a failing read.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plugins/energy/nvml_api.hpp"

namespace hearth::test {

struct FakeNvmlState {
    std::string init_error;                            // "" = the driver loads
    std::vector<std::optional<std::uint64_t>> energy;  // per GPU; nullopt: not supported
    std::map<unsigned, std::string> failing;           // GPU -> error of its next reads
};

class FakeNvml final : public NvmlApi {
public:
    explicit FakeNvml(FakeNvmlState& s) : m_s(s) {}
    std::string init() override { return m_s.init_error; }
    std::optional<unsigned> device_count(std::string&) override {
        return static_cast<unsigned>(m_s.energy.size());
    }
    std::optional<std::uint64_t> total_energy_mj(unsigned i, std::string& why) override {
        if (auto f = m_s.failing.find(i); f != m_s.failing.end()) {
            why = "GPU " + std::to_string(i) + ": " + f->second;
            return std::nullopt;
        }
        if (!m_s.energy.at(i)) why = "GPU " + std::to_string(i) + ": Not Supported";
        return m_s.energy.at(i);
    }

private:
    FakeNvmlState& m_s;
};

}  // namespace hearth::test
