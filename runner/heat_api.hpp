#pragma once
// The client side of a grid-agent's heat API (grid-agent(8)): read a node's
// heat state and change its site's target, schedule or measured temperature.
// Every failure is a hearth::Error naming the agent's URL and the fix:
// ExitCode::no_grid when the agent could not be asked (down, wrong URL, not a
// grid-agent with heat control), ExitCode::usage when it refused the value.
#include <string>

#include <nlohmann/json.hpp>

namespace hearth {

// Long enough for a loaded agent, short enough that a dead one does not
// stall a facility manager's command.
inline constexpr long k_heat_api_timeout_ms = 4000;

// GET /v1/heat: the agent's heat object ("heat": false without heat control).
nlohmann::json heat_get(const std::string& agent);

// POST /v1/heat/WHAT (target, schedule or measured) with body; returns the
// agent's heat object after the change.
nlohmann::json heat_post(const std::string& agent, const std::string& what,
                         const nlohmann::json& body);

}  // namespace hearth
