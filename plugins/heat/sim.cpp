// heat/sim-tank and heat/sim-room: the site is a thermal model (core/thermal)
// heated by the node's measured power, for `hearth sim`, demos and tests.
#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/thermal.hpp"
#include "plugins/heat/builtin.hpp"

namespace hearth {
namespace {

constexpr double k_day_s = 86400.0;
constexpr double k_max_step_s = 60.0;

class SimSource final : public HeatSource {
public:
    SimSource(SiteKind kind, const ThermalParams& p, std::shared_ptr<const Clock> clock,
              std::string type)
        : m_kind(kind),
          m_params(p),
          m_clock(std::move(clock)),
          m_type(std::move(type)),
          m_temp(p.initial) {}

    HeatReading poll() override {
        std::lock_guard lock(m_mutex);
        return HeatReading{m_temp, std::nullopt, ""};
    }

    // The heat went in over the `seconds` that end now, so the draw windows
    // are looked up over that past interval (UTC time of day). Steps end at
    // every draw-window edge and at least every minute: each step then has
    // constant inputs, which thermal_step solves exactly.
    void deliver(Watts heat, double seconds) override {
        if (!(seconds > 0) || !std::isfinite(seconds) || !std::isfinite(heat.value)) return;
        const double now_s = static_cast<double>(m_clock->unix_ms()) / 1000.0;
        double tod = std::fmod(now_s - seconds, k_day_s);
        if (tod < 0) tod += k_day_s;
        std::lock_guard lock(m_mutex);
        for (double left = seconds; left > 0;) {
            const double edge = next_edge(tod);
            const double dt = std::min({left, k_max_step_s, edge - tod});
            m_temp = thermal_step(m_kind, m_params, m_temp, heat, dt, static_cast<int>(tod));
            left -= dt;
            // Land exactly on an edge, so rounding cannot leave a sliver of
            // a step with the old window's draw.
            tod = dt == edge - tod ? edge : tod + dt;
            if (tod >= k_day_s) tod -= k_day_s;
        }
    }

    std::string type() const override { return m_type; }

private:
    // The first draw-window edge (or midnight) after tod.
    double next_edge(double tod) const {
        double edge = k_day_s;
        for (const auto& d : m_params.draw)
            for (int e : {d.start_s, d.end_s})
                if (e > tod && e < edge) edge = e;
        return edge;
    }

    const SiteKind m_kind;
    const ThermalParams m_params;
    const std::shared_ptr<const Clock> m_clock;
    const std::string m_type;
    std::mutex m_mutex;  // deliver (control loop) against poll (status readers)
    Celsius m_temp;
};

}  // namespace

std::unique_ptr<HeatSource> make_sim_source(SiteKind kind, const ThermalParams& thermal,
                                            std::shared_ptr<const Clock> clock, std::string type) {
    return std::make_unique<SimSource>(kind, thermal, std::move(clock), std::move(type));
}

}  // namespace hearth
