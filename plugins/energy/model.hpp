#pragma once
// energy/model: for nodes with no readable counter. Power = idle + busy share
// x (max - idle), the busy share from <fsroot>/proc/stat between reads,
// integrated over time. Every figure it gives is marked estimated.
#include <memory>

#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "core/fsroot.hpp"

namespace hearth {

struct ModelParams {
    Watts idle{};  // 0: derived from the core count
    Watts max{};   // 0: derived from the core count
};

// Defaults when the config gives none: a plain estimate per core, stated in
// the probe detail so nobody mistakes it for a measurement.
ModelParams derive_model_params(unsigned cores, ModelParams given);

ProbeResult probe_model(const FsRoot& fs);

class ModelSource final : public EnergySource {
public:
    ModelSource(std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
                ModelParams params);
    std::string name() const override { return "model"; }
    bool estimated() const override { return true; }
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override { return std::chrono::seconds(10); }
    Watts max_power() const override { return m_params.max; }
    const ModelParams& params() const { return m_params; }

private:
    std::shared_ptr<const FsRoot> m_fs;
    std::shared_ptr<const Clock> m_clock;
    ModelParams m_params;
    bool m_have_prev = false;
    std::uint64_t m_prev_busy = 0, m_prev_total = 0;
    Clock::TimePoint m_prev_time{};
    double m_total_uj = 0;
};

}  // namespace hearth
