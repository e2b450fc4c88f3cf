#pragma once
// The grid-agent's request bodies, parsed and checked before anything acts on
// them: the HTTP heat changes and tries (POST /v1/heat/...). The local
// socket's ops are core/agent_socket.
// Pure functions over text, so the fuzzer drives exactly what the agent runs.
// Every refusal is a usage_error naming the field and the fix.
#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "grid.hpp"

namespace hearth {

// Bodies larger than this are refused before parsing (413 on HTTP).
constexpr std::size_t k_max_body_bytes = 64 * 1024;

struct TargetChange {
    double target = 0;                      // checked against the site's bounds
    std::optional<std::int64_t> until_unix;  // > now
    std::optional<std::string> site;         // when given, must be the agent's site
};
struct ScheduleChange {
    std::string schedule;  // canonical text; "" = none
    std::optional<std::string> site;
};
struct MeasuredChange {
    double measured = 0;  // -50..150 C: a sensor's plausible range
    std::optional<std::string> site;
};
using HeatChange = std::variant<TargetChange, ScheduleChange, MeasuredChange>;

// what: "target", "schedule" or "measured"; body: the raw request body.
// site: the site whose bounds apply; now_unix: for until_unix.
HeatChange parse_heat_change(const std::string& what, const std::string& body, const Site& site,
                             std::int64_t now_unix);

// The body of POST /v1/heat/try, checked: exactly one of schedule (the
// grammar and message of `hearth heat schedule`) and target (the site's
// bounds, as `hearth heat set`).
struct TryRequest {
    std::optional<std::string> schedule;  // canonical; "" = none (the base target)
    std::optional<double> target;
    int horizon_h = 24;          // 24 or 168
    std::optional<double> work;  // [0, 1]: share of the slots with work; default from history
};
inline constexpr std::size_t k_max_try_body_bytes = 8 * 1024;
TryRequest parse_try_request(const std::string& body, const Site& site);

}  // namespace hearth
