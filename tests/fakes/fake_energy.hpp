#pragma once
// The fake of the EnergySource seam: a meter whose total a test advances.
#include <string>
#include <vector>

#include "core/energy_source.hpp"

namespace hearth::test {

class FakeEnergySource final : public EnergySource {
public:
    explicit FakeEnergySource(bool estimated = false) : m_estimated(estimated) {}
    std::string name() const override { return m_estimated ? "model" : "fake-meter"; }
    bool estimated() const override { return m_estimated; }
    EnergyReading read() override {
        ++reads;
        EnergyReading r;
        r.total = total;
        r.estimated = m_estimated;
        r.warnings = std::move(pending_warnings);
        pending_warnings.clear();
        return r;
    }
    std::chrono::milliseconds max_interval() const override { return std::chrono::seconds(1); }
    Watts max_power() const override { return Watts{200}; }

    Microjoules total{};
    std::vector<std::string> pending_warnings;
    int reads = 0;

private:
    bool m_estimated;
};

}  // namespace hearth::test
