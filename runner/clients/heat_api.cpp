#include "runner/clients/heat_api.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "runner/clients/credentials.hpp"
#include "runner/clients/http_client.hpp"

namespace hearth {
namespace {

nlohmann::json call(const std::string& agent, const std::string& path,
                    const std::optional<std::string>& body, const std::string& doing,
                    const std::optional<std::string>& authorization) {
    HttpReply r = http_request(std::string(trim_end(agent, "/")) + path, body,
                               k_heat_api_timeout_ms, authorization);
    if (!r.answered())
        throw Error("cannot reach grid-agent at " + agent + " to " + doing + ": " + r.failure +
                        "; start the agent or fix the node's agent URL in the grid file",
                    ExitCode::no_grid);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(r.body);
    } catch (const std::exception&) {
        throw Error("the server at " + agent + " answered HTTP " + std::to_string(r.status) +
                        " without JSON to " + doing +
                        "; check that the URL names a grid-agent with heat control",
                    ExitCode::no_grid);
    }
    std::string msg = j.is_object() && j.contains("error") && j["error"].is_string()
                          ? j["error"].get<std::string>()
                          : "HTTP " + std::to_string(r.status);
    if (r.status == 400)
        throw AgentRefusal("grid-agent at " + agent + " refused to " + doing + ": " + msg,
                           ExitCode::usage, r.status, msg);
    if ((r.status == 401 || r.status == 403) && !authorization)
        // The user's own token (credentials.hpp): say where it came from.
        throw AgentRefusal(refusal_message(agent, r.status, msg,
                                           body ? "a facility token of the site or an operator token"
                                                : "a facility or operator token",
                                           client_credentials()),
                           ExitCode::usage, r.status, msg);
    if (r.status == 401 || r.status == 403)
        throw AgentRefusal("grid-agent at " + agent + " refused to " + doing + ": " + msg +
                               "; use a token whose role may do this (hearth-api(7))",
                           ExitCode::usage, r.status, msg);
    if (r.status == 404)
        throw Error("grid-agent at " + agent +
                        " has no heat API (HTTP 404); upgrade it to a grid-agent with heat control",
                    ExitCode::no_grid);
    if (r.status != 200 || !j.is_object())
        throw Error(
            "grid-agent at " + agent + " failed to " + doing + ": " + msg + "; see the agent's log",
            ExitCode::no_grid);
    return j;
}

}  // namespace

nlohmann::json heat_get(const std::string& agent, const std::optional<std::string>& authorization) {
    return call(agent, "/v1/heat", std::nullopt, "read its heat state", authorization);
}

nlohmann::json heat_post(const std::string& agent, const std::string& what,
                         const nlohmann::json& body,
                         const std::optional<std::string>& authorization) {
    return call(agent, "/v1/heat/" + what, body.dump(), "set the " + what, authorization);
}

}  // namespace hearth
