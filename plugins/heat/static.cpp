// heat/static: a temperature people (or the API) type in.
#include <cmath>
#include <cstdio>
#include <mutex>

#include "core/error.hpp"
#include "plugins/heat/builtin.hpp"

namespace hearth {
namespace {

class StaticSource final : public HeatSource {
public:
    explicit StaticSource(std::optional<Celsius> measured) : m_measured(measured) {}

    HeatReading poll() override {
        std::lock_guard lock(m_mutex);
        HeatReading r;
        r.measured = m_measured;
        if (!m_measured)
            r.alarm =
                "no measured temperature yet; set one with `hearth heat set-measured` or the API";
        return r;
    }

    // The API thread sets while the control loop polls: hence the mutex.
    void set_measured(Celsius t) override {
        if (!std::isfinite(t.value) || t.value < k_feed_measured_min ||
            t.value > k_feed_measured_max) {
            char buf[160];
            std::snprintf(buf, sizeof buf,
                          "measured temperature %g C is not a water or air temperature; give one "
                          "between %g and %g C",
                          t.value, k_feed_measured_min, k_feed_measured_max);
            throw usage_error(buf);
        }
        std::lock_guard lock(m_mutex);
        m_measured = t;
    }

    std::string type() const override { return "static"; }

private:
    std::mutex m_mutex;
    std::optional<Celsius> m_measured;
};

}  // namespace

std::unique_ptr<HeatSource> make_static_source(const HeatSourceSpec& spec) {
    return std::make_unique<StaticSource>(spec.measured);
}

}  // namespace hearth
