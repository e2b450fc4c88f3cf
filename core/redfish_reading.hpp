#pragma once
// What one Redfish GET says about a node's power or energy: the pure half of
// plugins/energy/redfish (no HTTP here). Three documents are understood:
// - Chassis Power (PowerControl[0].PowerConsumedWatts): instantaneous watts;
// - EnvironmentMetrics (EnergykWh.Reading, or a DataSourceUri to follow);
// - a Sensor with ReadingUnits "kWh" (Reading): a cumulative energy counter.
// Anything else (an error status, HTML, missing or implausible fields) is a
// one-line reason, with the fix where there is one.
#include <string>

#include "core/units.hpp"

namespace hearth {

struct RedfishReading {
    enum class Kind { none, watts, energy_kwh, link };
    Kind kind = Kind::none;
    double value = 0;    // watts or kWh
    std::string link;    // Kind::link: the Sensor's URI (a path on the same BMC)
    std::string reason;  // Kind::none: why not, one line
};

// status: the HTTP status (0: no answer); content_type as sent; body as read.
RedfishReading parse_redfish_reading(long status, const std::string& content_type,
                                     const std::string& body);

// One step of a kWh counter. The delta is taken on microjoules rounded from
// each reading, so the steps telescope: their sum is exactly the last reading
// minus the first. A counter going backwards (a BMC reset or a replaced
// sensor) gives nothing and backwards = true: counting goes on from cur.
struct KwhStep {
    Microjoules energy{};
    bool backwards = false;
};
KwhStep kwh_counter_step(double prev_kwh, double cur_kwh);

// kWh to microjoules, rounded (1 kWh = 3.6e12 uJ).
std::uint64_t kwh_to_uj(double kwh);

}  // namespace hearth
