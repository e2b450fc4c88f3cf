#pragma once
// The heat-source plugin contract ("heat/static", "heat/http",
// "heat/sim-tank", "heat/sim-room"): once per control step the agent polls
// its site's source for the measured temperature (and, for feeds that set
// them, the target). A source never hands out data it cannot vouch for:
// stale or garbage data is reported as missing with an alarm, and the
// controller then runs the site's safe mode.
#include <memory>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/grid.hpp"
#include "core/units.hpp"

namespace hearth {

struct HeatReading {
    std::optional<Celsius> measured;  // nullopt: no trustworthy reading now
    std::optional<Celsius> target;    // set only by feeds that carry targets
    std::string alarm;                // "" = fine; otherwise one line for people
};

class HeatSource {
public:
    virtual ~HeatSource() = default;
    virtual HeatReading poll() = 0;
    // The site's heat input over the last `seconds` (the node's measured
    // power): simulated sources integrate it, others ignore it.
    virtual void deliver(Watts /*heat*/, double /*seconds*/) {}
    // The API's "set the measured temperature" (static sources only; others
    // throw usage_error saying their readings come from the feed).
    virtual void set_measured(Celsius t);
    virtual std::string type() const = 0;
};

// The HTTP seam: one GET with a timeout. The real one is libcurl.
struct HttpResult {
    long status = 0;           // 0 when no response came
    std::string content_type;  // as sent
    std::string body;
    std::string error;         // transport error text, "" when a response came
};
class HttpGetter {
public:
    virtual ~HttpGetter() = default;
    virtual HttpResult get(const std::string& url, double timeout_s) = 0;
};
std::unique_ptr<HttpGetter> make_curl_getter();

// Builds the source a site's spec names. http sources use `http` (null: the
// libcurl getter); simulated ones run their model on `clock`'s time.
std::unique_ptr<HeatSource> make_heat_source(const Site& site, std::shared_ptr<const Clock> clock,
                                             std::shared_ptr<HttpGetter> http = nullptr);

}  // namespace hearth
