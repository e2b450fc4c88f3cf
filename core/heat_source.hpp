#pragma once
// The heat-source contract, implemented by the plugins/heat/ sources
// ("static", "http", "sim-tank", "sim-room"): once per control step the
// agent polls its site's source for the measured temperature (and, for feeds
// that set them, the target). A source never hands out data it cannot vouch
// for: stale or garbage data is reported as missing with an alarm, and the
// controller then runs the site's safe mode. In core/ so that what consumes
// it depends on no plugin.
#include <optional>
#include <string>

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

}  // namespace hearth
