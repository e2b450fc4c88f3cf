#pragma once
// hearth dashboard's view of a whole grid, merged from its agents' answers:
// per site, the agents' GET /v1/grid entries (nodes that did not answer are
// "down" with an alarm), a site's history from its nodes' series, and
// energy rows summed by key. Pure: answers in, JSON out (hearth-api(7)).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grid.hpp"
#include "history.hpp"

namespace hearth {

// What one node's agent answered to one request.
struct AgentAnswer {
    std::string node;     // the grid file's name for the node
    std::string agent;    // its agent URL
    long status = 0;      // the HTTP status; 0 when no answer came
    nlohmann::json body;  // the answer as JSON (null when it was not JSON)
    std::string failure;  // why no answer came ("" when one did)

    bool ok() const { return status == 200 && body.is_object(); }
    // The agent's own error text, else the failure or the status.
    std::string reason() const;
};

// When no agent answered 200 but some refused the caller (401, 403, 400):
// the first such answer, which the dashboard passes back as it is. Null
// otherwise (some answered, or none answered at all).
const AgentAnswer* common_refusal(const std::vector<AgentAnswer>& answers);

// GET /v1/grid over the grid: one entry per site of the grid file, in its
// order, merged from the answers of the site's nodes (answers: one per node
// of the grid file, any order). A site every node of which refused the
// caller with 403 (a facility token for another site) is left out.
nlohmann::json merge_grid(const Grid& grid, const std::vector<AgentAnswer>& answers);

// One site's entry from its nodes' answers to GET /v1/grid.
nlohmann::json merge_grid_site(const Site& site, const std::vector<AgentAnswer>& nodes);

// GET /v1/history points from and to JSON ({"t_ms","power_w","temp_c",
// "target_c","slots_allowed","slots"}); a malformed point is skipped.
std::vector<HistoryPoint> history_points(const nlohmann::json& answer, int res_s);
nlohmann::json history_json(const std::vector<HistoryPoint>& points);

// GET /v1/history?site=S: the site's series merged from its nodes' answers
// (merge_site_history); "nodes" lists who answered, "missing" who did not.
// res_s: the resolution asked for; nullopt: the first answer's (each agent
// picks by the span, and its finest step is its --history-step). Answers at
// another resolution are left out (their buckets would not line up).
nlohmann::json merge_history(const std::string& site, std::optional<int> res_s,
                             const std::vector<AgentAnswer>& nodes);

// GET /v1/energy over several agents: rows summed by key (energy_uj,
// static_uj, seconds; estimated when any part was), ordered by key;
// "missing" names the agents that did not answer.
nlohmann::json merge_energy(const std::string& by, const std::vector<AgentAnswer>& answers);

// --listen HOST:PORT of hearth dashboard, which serves plain HTTP: HOST must
// be loopback (127.0.0.0/8, ::1 or localhost). usage_error in one line otherwise.
struct ListenAddress {
    std::string host;
    int port = 0;  // 0: any free port
};
ListenAddress parse_loopback_listen(const std::string& text);

}  // namespace hearth
