#include "grid_view.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "agent_bodies.hpp"
#include "error.hpp"

namespace hearth {
namespace {

using nlohmann::json;

double num_or(const json& j, const char* key, double dflt = 0) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : dflt;
}

std::optional<double> opt_num(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    double v = it->get<double>();
    return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

bool is_refusal(long status) {
    return status == 400 || status == 401 || status == 403;
}

// The agent's entry for the site in its GET /v1/grid answer, or null.
const json* site_entry(const json& answer, const std::string& site) {
    auto it = answer.find("sites");
    if (it == answer.end() || !it->is_array()) return nullptr;
    for (const auto& s : *it)
        if (s.is_object() && s.value("site", "") == site) return &s;
    return nullptr;
}

// The node's own row in a site entry: the one with its name, else the only one.
const json* node_row(const json& entry, const std::string& node) {
    auto it = entry.find("nodes");
    if (it == entry.end() || !it->is_array()) return nullptr;
    for (const auto& n : *it)
        if (n.is_object() && n.value("node", "") == node) return &n;
    return it->size() == 1 && (*it)[0].is_object() ? &(*it)[0] : nullptr;
}

}  // namespace

std::string AgentAnswer::reason() const {
    if (status == 0) return failure.empty() ? "no answer" : failure;
    if (body.is_object() && body.contains("error") && body["error"].is_string())
        return "HTTP " + std::to_string(status) + ": " + body["error"].get<std::string>();
    return "HTTP " + std::to_string(status);
}

const AgentAnswer* common_refusal(const std::vector<AgentAnswer>& answers) {
    const AgentAnswer* first = nullptr;
    for (const auto& a : answers) {
        if (a.ok()) return nullptr;
        if (!first && is_refusal(a.status)) first = &a;
    }
    return first;
}

json merge_grid_site(const Site& site, const std::vector<AgentAnswer>& nodes) {
    json heat;
    double power = 0, today = 0, today_useful = 0;
    std::vector<std::string> alarms;
    auto alarm = [&](const std::string& a) {
        if (!a.empty() && std::find(alarms.begin(), alarms.end(), a) == alarms.end())
            alarms.push_back(a);
    };
    std::set<double> targets;
    json rows = json::array();
    for (const auto& a : nodes) {
        json row{{"node", a.node}, {"agent", a.agent},   {"state", "down"}, {"power_w", 0.0},
                 {"slots", 0},     {"slots_allowed", 0}, {"tasks", 0}};
        const json* entry = a.ok() ? site_entry(a.body, site.name) : nullptr;
        if (!a.ok()) {
            alarm("node " + a.node + ": no answer (" + a.reason() + ")");
        } else if (!entry) {
            alarm("node " + a.node + ": its agent reports no site '" + site.name +
                  "'; start it with --grid and --node " + a.node);
        } else {
            const json& e = *entry;
            if (heat.is_null() && e.contains("heat") && e["heat"].is_object()) heat = e["heat"];
            if (e.contains("heat") && e["heat"].is_object())
                if (auto t = opt_num(e["heat"], "target")) targets.insert(*t);
            power += num_or(e, "power_w");
            today += num_or(e, "today_kwh");
            today_useful += num_or(e, "today_useful_kwh");
            if (e.contains("alarms") && e["alarms"].is_array())
                for (const auto& s : e["alarms"])
                    if (s.is_string()) alarm(s.get<std::string>());
            row["state"] = "up";
            if (const json* n = node_row(e, a.node)) {
                row["state"] = n->value("state", "up");
                row["power_w"] = num_or(*n, "power_w");
                row["slots"] = static_cast<long>(num_or(*n, "slots"));
                row["slots_allowed"] = static_cast<long>(num_or(*n, "slots_allowed"));
                row["tasks"] = static_cast<long>(num_or(*n, "tasks"));
            } else {
                row["power_w"] = num_or(e, "power_w");
            }
        }
        rows.push_back(row);
    }
    if (targets.size() > 1) alarm("the site's agents disagree on the target; set it again");
    if (nodes.empty()) alarm("no node of the grid file stands in this site");
    return json{{"site", site.name},
                {"heat", heat},
                {"power_w", power},
                {"today_kwh", today},
                {"today_useful_kwh", today_useful},
                {"alarms", alarms},
                {"nodes", rows}};
}

json merge_grid(const Grid& grid, const std::vector<AgentAnswer>& answers) {
    std::map<std::string, std::string> site_of;
    for (const auto& n : grid.nodes) site_of[n.name] = n.site;
    json sites = json::array();
    for (const auto& site : grid.sites) {
        std::vector<AgentAnswer> mine;
        for (const auto& a : answers) {
            auto it = site_of.find(a.node);
            if (it != site_of.end() && it->second == site.name) mine.push_back(a);
        }
        const bool hidden =
            !mine.empty() &&
            std::all_of(mine.begin(), mine.end(), [](const auto& a) { return a.status == 403; });
        if (!hidden) sites.push_back(merge_grid_site(site, mine));
    }
    return json{{"sites", sites}};
}

std::vector<HistoryPoint> history_points(const json& answer, int res_s) {
    std::vector<HistoryPoint> out;
    auto it = answer.find("points");
    if (it == answer.end() || !it->is_array()) return out;
    for (const auto& p : *it)
        if (auto h = history_point_from_json(p, res_s)) out.push_back(*h);
    return out;
}

json history_json(const std::vector<HistoryPoint>& points) {
    json out = json::array();
    for (const auto& p : points) out.push_back(history_point_json(p));
    return out;
}

json merge_history(const std::string& site, std::optional<int> asked,
                   const std::vector<AgentAnswer>& nodes) {
    int res_s = asked.value_or(0);
    for (const auto& a : nodes)
        if (!res_s && a.ok()) res_s = static_cast<int>(num_or(a.body, "res_s", 0));
    if (res_s <= 0) res_s = 10;
    std::vector<std::vector<HistoryPoint>> series;
    json answered = json::array(), missing = json::array();
    for (const auto& a : nodes) {
        if (!a.ok()) {
            missing.push_back({{"node", a.node}, {"error", a.reason()}});
            continue;
        }
        const int got = static_cast<int>(num_or(a.body, "res_s", res_s));
        if (got != res_s) {
            missing.push_back({{"node", a.node},
                               {"error", "answered at res_s " + std::to_string(got) + ", not " +
                                             std::to_string(res_s)}});
            continue;
        }
        series.push_back(history_points(a.body, res_s));
        answered.push_back(a.node);
    }
    return json{{"site", site},
                {"res_s", res_s},
                {"nodes", answered},
                {"missing", missing},
                {"points", history_json(merge_site_history(series))}};
}

json merge_energy(const std::string& by, const std::vector<AgentAnswer>& answers) {
    struct Sum {
        std::uint64_t energy_uj = 0, static_uj = 0;
        double seconds = 0;
        bool estimated = false;
    };
    std::map<std::string, Sum> sums;
    json missing = json::array();
    std::size_t answered = 0;
    for (const auto& a : answers) {
        if (!a.ok()) {
            missing.push_back({{"node", a.node}, {"agent", a.agent}, {"error", a.reason()}});
            continue;
        }
        ++answered;
        auto it = a.body.find("rows");
        if (it == a.body.end() || !it->is_array()) continue;
        for (const auto& r : *it) {
            if (!r.is_object() || !r.contains("key")) continue;
            const std::string key =
                r["key"].is_string() ? r["key"].get<std::string>() : r["key"].dump();
            Sum& s = sums[key];
            auto uj = [&](const char* k) -> std::uint64_t {
                auto v = r.find(k);
                return v != r.end() && v->is_number_unsigned() ? v->get<std::uint64_t>()
                       : v != r.end() && v->is_number() && v->get<double>() > 0
                           ? static_cast<std::uint64_t>(v->get<double>())
                           : 0;
            };
            s.energy_uj += uj("energy_uj");
            s.static_uj += uj("static_uj");
            s.seconds += num_or(r, "seconds");
            s.estimated = s.estimated || r.value("estimated", false);
        }
    }
    json rows = json::array();
    for (const auto& [key, s] : sums)
        rows.push_back({{"key", key},
                        {"energy_uj", s.energy_uj},
                        {"static_uj", s.static_uj},
                        {"seconds", s.seconds},
                        {"estimated", s.estimated}});
    return json{{"by", by},
                {"rows", rows},
                {"agents", answers.size()},
                {"answered", answered},
                {"missing", missing}};
}

ListenAddress parse_loopback_listen(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
        throw usage_error("bad --listen '" + text + "': write HOST:PORT, e.g. 127.0.0.1:9760");
    ListenAddress a;
    a.host = text.substr(0, colon);
    if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
        a.host = a.host.substr(1, a.host.size() - 2);
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
        throw usage_error("bad port in --listen '" + text + "': give 0-65535 (0: any free port)");
    a.port = std::stoi(port);
    in_addr v4{};
    in6_addr v6{};
    const bool loopback =
        a.host == "localhost" ||
        (inet_pton(AF_INET, a.host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
        (inet_pton(AF_INET6, a.host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
    if (!loopback)
        throw usage_error("--listen " + text +
                          " is not a loopback address: hearth dashboard serves no TLS; listen on "
                          "127.0.0.1 and reach it with ssh -L 9760:127.0.0.1:9760 HOST");
    return a;
}

}  // namespace hearth
