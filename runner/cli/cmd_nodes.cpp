// `hearth nodes`: every node of a grid file (or given agents) as its agent
// sees it now: up or unreachable, slots and the slots its heat budget allows,
// control mode, power, tasks running and where its energy figures come from.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "runner/cli/commands.hpp"
#include "runner/clients/credentials.hpp"
#include "runner/clients/http_client.hpp"

namespace hearth {
namespace {

struct Target {
    std::string name, site, agent;
    std::uint32_t slots = 0;
};

nlohmann::json ask(const std::string& agent, const std::string& path) {
    HttpReply r = http_request(agent + path, std::nullopt, 4000);
    if (!r.answered()) throw Error(r.failure, ExitCode::no_grid);
    if (r.status == 401 || r.status == 403) {
        std::string why;
        try {
            auto j = nlohmann::json::parse(r.body);
            if (j.is_object() && j.contains("error") && j["error"].is_string()) why = j["error"].get<std::string>();
        } catch (const std::exception&) {
        }
        throw usage_error(refusal_message(agent, r.status, why, "a facility or operator token",
                                          client_credentials()));
    }
    if (r.status != 200) throw Error("HTTP status " + std::to_string(r.status), ExitCode::no_grid);
    return nlohmann::json::parse(r.body);
}

}  // namespace

int cmd_nodes(const NodesArgs& a) {
    std::vector<Target> targets;
    if (a.grid)
        for (const auto& n : load_grid(*a.grid).nodes) targets.push_back({n.name, n.site, n.agent, n.slots});
    for (const auto& url : a.agents) targets.push_back({"", "", url, 0});
    if (targets.empty())
        throw usage_error("no nodes to show: give --grid FILE (hearth-grid(5)) or --agent URL");
    client_credentials();  // an unusable token file stops here, with exit 2
    nlohmann::json rows = nlohmann::json::array();
    std::size_t up = 0;
    std::vector<std::string> refusals;  // 401/403: the token, not the node, is at fault
    for (const auto& t : targets) {
        nlohmann::json row{{"node", t.name}, {"site", t.site}, {"agent", t.agent}};
        try {
            auto node = ask(t.agent, "/v1/node");
            auto heat = ask(t.agent, "/v1/heat");
            row["node"] = node.value("node", t.name);
            row["site"] = node.value("site", t.site);
            row["state"] = "up";
            row["power_w"] = node.value("power_w", 0.0);
            row["tasks"] = node.contains("tasks") ? node["tasks"].size() : 0;
            row["source"] = node.value("source", "");
            row["estimated"] = node.value("estimated", false);
            const bool controlled = heat.value("heat", false);
            row["slots"] = controlled ? heat.value("slots", t.slots) : t.slots;
            row["slots_allowed"] = controlled ? heat.value("slots_allowed", 0u) : row["slots"].get<std::uint32_t>();
            row["mode"] = controlled ? heat.value("mode", "") : "uncontrolled";
            row["alarm"] = controlled ? heat.value("alarm", "") : "";
            ++up;
        } catch (const Error& e) {
            const bool refused = e.code() == ExitCode::usage;
            row["state"] = refused ? "refused" : "unreachable";
            row["error"] = e.what();
            if (refused) refusals.push_back(e.what());
        } catch (const std::exception& e) {
            row["state"] = "unreachable";
            row["error"] = e.what();
        }
        rows.push_back(row);
    }
    if (a.json) {
        std::cout << nlohmann::json{{"nodes", rows}}.dump() << "\n";
    } else {
        std::printf("%-14s %-12s %-12s %5s %7s %-12s %8s %5s  %s\n", "NODE", "SITE", "STATE", "SLOTS",
                    "ALLOWED", "MODE", "POWER W", "TASKS", "SOURCE / ALARM");
        for (const auto& r : rows) {
            const bool ok = r["state"] == "up";
            std::string note = ok ? r.value("source", "") + (r.value("estimated", false) ? " (estimated)" : "")
                                  : r.value("error", "");
            if (ok && !r.value("alarm", "").empty()) note += "; " + r.value("alarm", "");
            std::printf("%-14s %-12s %-12s %5s %7s %-12s %8s %5s  %s\n", r.value("node", "").c_str(),
                        r.value("site", "").c_str(), r.value("state", "").c_str(),
                        ok ? std::to_string(r.value("slots", 0u)).c_str() : "-",
                        ok ? std::to_string(r.value("slots_allowed", 0u)).c_str() : "-",
                        ok ? r.value("mode", "").c_str() : "-",
                        ok ? std::to_string(static_cast<long>(r.value("power_w", 0.0) + 0.5)).c_str() : "-",
                        ok ? std::to_string(r.value("tasks", 0u)).c_str() : "-", note.c_str());
        }
    }
    // A refused token is the caller's to fix (exit 2), named after the table.
    if (!refusals.empty())
        throw usage_error(refusals.front() +
                          (refusals.size() > 1
                               ? " (and " + std::to_string(refusals.size() - 1) + " more agents)"
                               : ""));
    // Every node unreachable: the grid cannot run anything (exit 3).
    return up == 0 ? static_cast<int>(ExitCode::no_grid) : 0;
}

}  // namespace hearth
