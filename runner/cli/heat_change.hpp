#pragma once
// Changing a site's heat target, schedule or measured temperature on every
// agent of the site, all or nothing: every agent must answer before any is
// changed, and agents already changed are put back if a later one refuses.
// Shared by `hearth heat` and `hearth dashboard`.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/grid.hpp"
#include "core/site_schedule.hpp"

namespace hearth {

// One agent asked: a node of the grid file, or a URL given with --agent.
struct Asked {
    std::string node;  // "" for an --agent URL outside the grid file
    std::string site;  // from the grid file; else what the agent says
    std::string agent;
    nlohmann::json heat;  // the agent's answer (null when it did not answer)
    std::string error;    // why it did not
    long refused = 0;     // the HTTP status when the agent refused the request (400, 401, 403)
    bool answered() const { return error.empty(); }
    std::string who() const { return node.empty() ? agent : node; }
};

// GET /v1/heat of every agent, in parallel: a dead one costs its timeout once,
// not once each. Failures land in each Asked's error.
void ask_all(std::vector<Asked>& asked,
             const std::optional<std::string>& authorization = std::nullopt);

// The site of the grid file, or usage_error naming the file's sites.
const Site& known_site(const Grid& grid, const std::string& name, const std::string& file);

// checked_schedule (the schedule as typed, for the site) is core's.

struct SiteChange {
    std::vector<std::string> nodes;  // the nodes changed
    nlohmann::json heat;             // the last agent's heat object after the change
};

// Sends body to POST /v1/heat/WHAT on every agent of the site, all or nothing.
// file names the grid file in messages. before_change runs once every agent
// has answered and before anything is sent (hearth dashboard checks the value
// there, after the agents have checked the caller's token). Throws Error
// (AgentRefusal when an agent refused, with its HTTP status) saying whether
// anything was undone.
SiteChange apply_to_site(const Grid& grid, const Site& site, const std::string& file,
                         const std::string& what, const nlohmann::json& body,
                         const std::optional<std::string>& authorization = std::nullopt,
                         const std::function<void()>& before_change = {});

}  // namespace hearth
