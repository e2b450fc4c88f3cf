#pragma once
// The client side of a grid-agent's heat API (grid-agent(8)): read a node's
// heat state and change its site's target, schedule or measured temperature.
// Every failure is a hearth::Error naming the agent's URL and the fix:
// ExitCode::no_grid when the agent could not be asked (down, wrong URL, not a
// grid-agent with heat control), ExitCode::usage (an AgentRefusal) when it
// refused the value or the caller's token.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace hearth {

// Long enough for a loaded agent, short enough that a dead one does not
// stall a facility manager's command.
inline constexpr long k_heat_api_timeout_ms = 4000;

// The agent answered and refused (400, 401, 403): its HTTP status and its
// own error text travel with the message, so that hearth dashboard can pass
// both on to its caller.
class AgentRefusal : public Error {
public:
    AgentRefusal(const std::string& message, ExitCode code, long http_status,
                 std::string agent_error)
        : Error(message, code), m_status(http_status), m_agent_error(std::move(agent_error)) {}
    long http_status() const noexcept { return m_status; }
    const std::string& agent_error() const noexcept { return m_agent_error; }

private:
    long m_status;
    std::string m_agent_error;
};

// authorization: an Authorization header value to send (nullopt: the
// client's default).

// GET /v1/heat: the agent's heat object ("heat": false without heat control).
nlohmann::json heat_get(const std::string& agent,
                        const std::optional<std::string>& authorization = std::nullopt);

// POST /v1/heat/WHAT (target, schedule or measured) with body; returns the
// agent's heat object after the change.
nlohmann::json heat_post(const std::string& agent, const std::string& what,
                         const nlohmann::json& body,
                         const std::optional<std::string>& authorization = std::nullopt);

}  // namespace hearth
