#pragma once
// energy/papi: node energy from PAPI's rapl or powercap component events
// (nanojoules or microjoules), when PAPI can read them. Where PAPI has no
// usable event, probe says why (the component's disabled reason, or the
// error of adding the event) and the source steps aside.
#include <memory>

#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "papi_api.hpp"

namespace hearth {

ProbeResult probe_papi(PapiApi& api);

class PapiSource final : public EnergySource {
public:
    // Throws Error with probe's reason when no energy event is usable.
    PapiSource(std::unique_ptr<PapiApi> api, std::shared_ptr<const Clock> clock);
    std::string name() const override { return "papi"; }
    bool estimated() const override { return false; }
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override { return std::chrono::seconds(1); }
    Watts max_power() const override { return Watts{0}; }

private:
    std::unique_ptr<PapiApi> m_api;
    std::shared_ptr<const Clock> m_clock;
    std::vector<double> m_scale_to_uj;  // per event
    std::vector<long long> m_prev;
    Microjoules m_total{};
};

}  // namespace hearth
