#include "runner/cli/heat_change.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "core/error.hpp"
#include "core/site_schedule.hpp"
#include "runner/clients/heat_api.hpp"

namespace hearth {
namespace {

using nlohmann::json;

double num_or(const json& j, const char* key, double dflt) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : dflt;
}

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Puts an agent's target back as it was: its schedule (which also drops a
// target set by hand), then that hand-set target if there was one.
void restore_target(const std::string& agent, const json& before,
                    const std::optional<std::string>& auth) {
    json after = heat_post(agent, "schedule", {{"schedule", before.value("schedule", "")}}, auth);
    const json& until = before.contains("target_until_unix") ? before["target_until_unix"] : json();
    const bool timed = until.is_number_integer() && until.get<std::int64_t>() > now_unix();
    std::optional<double> hand;
    if (before.contains("override") && before["override"].is_number())
        hand = before["override"].get<double>();
    else if (timed || num_or(after, "target", NAN) != num_or(before, "target", NAN))
        hand = num_or(before, "target", NAN);
    if (!hand) return;
    json body{{"target", *hand}};
    if (timed) body["until_unix"] = until;
    heat_post(agent, "target", body, auth);
}

void restore(const std::string& what, const std::string& agent, const json& before,
             const std::optional<std::string>& auth) {
    if (what == "measured") {
        if (before.contains("measured") && before["measured"].is_number())
            heat_post(agent, "measured", {{"measured", before["measured"]}}, auth);
        return;
    }
    restore_target(agent, before, auth);
}

}  // namespace

void ask_all(std::vector<Asked>& asked, const std::optional<std::string>& authorization) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next++) < asked.size();) {
            try {
                asked[i].heat = heat_get(asked[i].agent, authorization);
            } catch (const AgentRefusal& e) {
                asked[i].error = e.what();
                asked[i].refused = e.http_status();
            } catch (const std::exception& e) {
                asked[i].error = e.what();
            }
        }
    };
    std::vector<std::thread> threads;
    const std::size_t n = std::min<std::size_t>(16, asked.size());
    for (std::size_t i = 1; i < n; ++i) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
}

const Site& known_site(const Grid& grid, const std::string& name, const std::string& file) {
    if (const Site* s = grid.find_site(name)) return *s;
    std::string names;
    for (const auto& s : grid.sites) names += (names.empty() ? "" : ", ") + s.name;
    throw usage_error("site '" + name + "' is not in " + file + "; its sites are: " + names);
}

SiteChange apply_to_site(const Grid& grid, const Site& site, const std::string& file,
                         const std::string& what, const json& body,
                         const std::optional<std::string>& authorization,
                         const std::function<void()>& before_change) {
    std::vector<Asked> asked;
    for (const auto& n : grid.nodes)
        if (n.site == site.name) asked.push_back(Asked{n.name, n.site, n.agent, {}, {}, 0});
    if (asked.empty())
        throw Error("site '" + site.name + "' has no node in " + file +
                        "; add a [[node]] with site = \"" + site.name + "\"",
                    ExitCode::no_grid);
    // Every agent must answer before any is changed. A refused token comes
    // first: it is the caller's to fix, whatever else is wrong.
    ask_all(asked, authorization);
    for (const auto& x : asked)
        if (x.refused)
            throw AgentRefusal("node " + x.node + ": " + x.error + "; nothing was changed",
                               ExitCode::usage, x.refused, x.error);
    const auto silent =
        std::count_if(asked.begin(), asked.end(), [](const Asked& x) { return !x.answered(); });
    for (const auto& x : asked) {
        if (!x.answered())
            throw Error("node " + x.node + ": " + x.error + "; nothing was changed" +
                            (silent > 1 ? " (" + std::to_string(silent - 1) +
                                              " more agents of the site did not answer either)"
                                        : ""),
                        ExitCode::no_grid);
        if (!x.heat.value("heat", false))
            throw Error("node " + x.node + ": grid-agent at " + x.agent +
                            " has no heat control; start it with --grid " + file +
                            "; nothing was changed",
                        ExitCode::no_grid);
        if (x.heat.value("site", site.name) != site.name)
            throw Error("node " + x.node + ": grid-agent at " + x.agent + " heats site '" +
                            x.heat.value("site", "") + "', not '" + site.name +
                            "'; fix its --node or its grid file; nothing was changed",
                        ExitCode::no_grid);
    }
    if (before_change) before_change();
    SiteChange done;
    for (std::size_t i = 0; i < asked.size(); ++i) {
        try {
            done.heat = heat_post(asked[i].agent, what, body, authorization);
            done.nodes.push_back(asked[i].node);
        } catch (const Error& e) {
            std::string undone, failed;
            for (std::size_t k = i; k-- > 0;) {
                try {
                    restore(what, asked[k].agent, asked[k].heat, authorization);
                    undone += (undone.empty() ? "" : ", ") + asked[k].node;
                } catch (const std::exception& u) {
                    failed += (failed.empty() ? "" : "; ") + asked[k].node + " (" + u.what() + ")";
                }
            }
            std::string msg = "node " + asked[i].node + ": " + e.what();
            if (!failed.empty())
                throw Error(msg + "; could NOT undo the change on " + failed +
                                ": run hearth heat show and set the site again",
                            ExitCode::internal);
            msg += (undone.empty() ? "" : "; undone on " + undone) + "; nothing was changed";
            if (const auto* r = dynamic_cast<const AgentRefusal*>(&e))
                throw AgentRefusal(msg, e.code(), r->http_status(), r->agent_error());
            throw Error(msg, e.code());
        }
    }
    return done;
}

}  // namespace hearth
