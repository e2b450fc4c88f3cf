#include "papi.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

struct EnergyEvent {
    const char* component;
    const char* event;
    long long units_per_uj;  // rapl counts nanojoules, powercap microjoules
};

// In priority order: rapl reads the MSRs directly; powercap goes through the
// same sysfs files as energy/powercap and adds nothing but a dependency.
constexpr EnergyEvent k_events[] = {
    {"rapl", "rapl:::PACKAGE_ENERGY:PACKAGE0", 1000},
    {"powercap", "powercap:::ENERGY_UJ:ZONE0", 1},
};

const char* k_fix =
    "PAPI energy needs a PAPI built with the rapl or powercap component, on hardware with RAPL "
    "readable by this user";

struct Found {
    ProbeResult probe;
    std::optional<EnergyEvent> event;  // left open in the api when set
};

Found find_energy_event(PapiApi& api) {
    Found f;
    f.probe.source = "papi";
    std::string err = api.init();
    if (!err.empty()) {
        f.probe.detail = "PAPI initialisation failed: " + err + "; " + k_fix;
        return f;
    }
    const auto components = api.components();
    std::vector<std::string> reasons;
    bool any_component = false;
    for (const auto& e : k_events) {
        auto c = std::find_if(components.begin(), components.end(),
                              [&](const PapiApi::Component& c) { return c.name == e.component; });
        if (c == components.end()) continue;
        any_component = true;
        if (c->disabled) {
            std::string why(trim_end(c->reason, ". \n"));
            reasons.push_back(std::string(e.component) + " component disabled" +
                              (why.empty() ? "" : ": " + why));
            continue;
        }
        err = api.open({e.event});
        if (err.empty()) {
            f.probe.available = true;
            f.probe.detail = std::string(e.event) + (e.units_per_uj == 1 ? " (uJ)" : " (nJ)");
            f.event = e;
            return f;
        }
        reasons.push_back(std::string(e.component) + ": " + err);
    }
    if (!any_component) {
        std::string have;
        for (const auto& c : components)
            if (!c.disabled) have += (have.empty() ? "" : ", ") + c.name;
        reasons.push_back("this PAPI has no rapl or powercap component (active components: " +
                          (have.empty() ? std::string("none") : have) + ")");
    }
    for (const auto& r : reasons) f.probe.detail += r + "; ";
    f.probe.detail += k_fix;
    return f;
}

}  // namespace

ProbeResult probe_papi(PapiApi& api) {
    return find_energy_event(api).probe;
}

PapiSource::PapiSource(std::unique_ptr<PapiApi> api, std::shared_ptr<const Clock> clock)
    : m_api(std::move(api)), m_clock(std::move(clock)) {
    if (!m_api) throw Error("energy source papi is unavailable: Hearth was built without PAPI");
    Found f = find_energy_event(*m_api);
    if (!f.event) throw Error("energy source papi is unavailable: " + f.probe.detail);
    m_scale_to_uj = {1.0 / static_cast<double>(f.event->units_per_uj)};
    m_prev = m_api->read();
    if (m_prev.size() != 1)
        throw Error("energy source papi is unavailable: reading " + std::string(f.event->event) +
                    " failed right after opening it");
}

EnergyReading PapiSource::read() {
    EnergyReading out;
    std::vector<long long> cur = m_api->read();
    if (cur.size() != m_prev.size()) {
        out.warnings.push_back("papi: reading the energy event failed; skipped this interval");
        out.total = m_total;
        return out;
    }
    for (std::size_t i = 0; i < cur.size(); ++i) {
        if (cur[i] < m_prev[i]) {
            // PAPI extends the counters to 64 bits, so a decrease is a fault,
            // not a wrap: restart from the new value rather than count it.
            out.warnings.push_back("papi: energy counter went back from " +
                                   std::to_string(m_prev[i]) + " to " + std::to_string(cur[i]) +
                                   "; interval rejected as a counter glitch");
            m_prev[i] = cur[i];
            continue;
        }
        const auto units_per_uj = std::llround(1.0 / m_scale_to_uj[i]);
        const long long uj = (cur[i] - m_prev[i]) / units_per_uj;
        m_total += Microjoules{static_cast<std::uint64_t>(uj)};
        // Only what was counted is consumed: the sub-microjoule rest carries
        // over to the next interval instead of being lost every read.
        m_prev[i] += uj * units_per_uj;
    }
    out.total = m_total;
    return out;
}

}  // namespace hearth
