// hearth heat: the facility manager's view and control of the sites' heat
// targets. Every change goes to every agent of the site, all or nothing:
// the value is checked here first, then every agent must answer before any
// is changed, and agents already changed are put back if a later one fails.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/schedule.hpp"
#include "core/utc_time.hpp"
#include "runner/cli/commands.hpp"
#include "runner/cli/heat_change.hpp"
#include "runner/clients/heat_api.hpp"

namespace hearth {
namespace {

using nlohmann::json;

bool has_heat(const Asked& a) {
    return a.answered() && a.heat.value("heat", false);
}

double num_or(const json& j, const char* key, double dflt = 0) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : dflt;
}

std::string fixed(double v, int decimals) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(decimals) << v;
    return o.str();
}

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// TEMP as typed: a plain decimal number of degrees C. Non-finite values
// (nan, 1e309) pass through to the bounds check, which names them.
double parse_celsius(const std::string& text, const char* what) {
    const char* s = text.c_str();
    char* end = nullptr;
    double v = std::strtod(s, &end);
    // strtod also reads hexadecimal, which no one means as a temperature.
    const bool hex = text.find_first_of("xX") != std::string::npos;
    if (text.empty() || end == s || *end != '\0' || hex)
        throw usage_error(std::string(what) + " '" + text +
                          "' is not a number; give degrees C such as 58 or 57.5");
    return v;
}

// --until: a duration from now ("2h", "1h30m") or a UTC time.
std::int64_t parse_until(const std::string& text, std::int64_t now_s) {
    std::optional<std::int64_t> t;
    try {
        auto ms = parse_duration(text).count();
        t = now_s + (ms + 999) / 1000;
    } catch (const Error&) {
    }
    if (!t)
        if (auto ms = try_parse_utc_ms(text)) t = *ms / 1000;
    if (!t)
        throw usage_error("bad --until '" + text +
                          "': give a duration from now such as 2h or 1h30m, or a UTC time such "
                          "as 2026-11-22T18:00:00Z");
    if (*t <= now_s)
        throw usage_error("--until " + text + " (" + format_utc(*t) +
                          ") is in the past; give a later time");
    return *t;
}

// ---- show ------------------------------------------------------------------

struct SiteView {
    std::string name;
    std::vector<const Asked*> asked;
    const Site* in_grid = nullptr;
};

json site_json(const SiteView& v) {
    json out{{"site", v.name}};
    const Asked* first = nullptr;
    for (const Asked* a : v.asked)
        if (has_heat(*a) && a->heat.value("site", v.name) == v.name) {
            first = a;
            break;
        }
    if (first) {
        const json& h = first->heat;
        for (const char* k : {"target", "base_target", "target_until_unix", "schedule", "band",
                              "min", "max", "measured", "mode", "source"})
            out[k] = h.contains(k) ? h[k] : json();
    } else {
        const Site* s = v.in_grid;
        out["target"] = s ? json(s->target.value) : json();
        out["base_target"] = out["target"];
        out["target_until_unix"] = json();
        out["schedule"] = s ? json(s->schedule) : json();
        out["band"] = s ? json(s->band) : json();
        out["min"] = s ? json(s->min.value) : json();
        out["max"] = s ? json(s->max.value) : json();
        out["measured"] = json();
        out["mode"] = json();
        out["source"] = s ? json(s->source.type) : json();
    }
    double power = 0, today = 0, today_useful = 0, month = 0, month_useful = 0;
    std::vector<std::string> alarms;
    auto alarm = [&](const std::string& a) {
        if (std::find(alarms.begin(), alarms.end(), a) == alarms.end()) alarms.push_back(a);
    };
    std::string unreachable;           // one alarm for them all: "n2 (URL), n5 (URL)"
    std::vector<std::string> targets;  // "n1 58" for each agent, to spot disagreement
    std::set<double> distinct;
    json nodes = json::array();
    for (const Asked* a : v.asked) {
        json n{{"node", a->node.empty() ? json() : json(a->node)}, {"agent", a->agent}};
        if (!a->answered() && a->refused) {
            n["error"] = a->error;
            alarm(a->who() + ": refused the token (HTTP " + std::to_string(a->refused) + ")");
        } else if (!a->answered()) {
            n["error"] = a->error;
            unreachable += (unreachable.empty() ? "" : ", ") + a->who() + " (" + a->agent + ")";
        } else if (!a->heat.value("heat", false)) {
            n["state"] = a->heat;
            alarm(a->who() + ": agent has no heat control; start it with --grid");
        } else if (a->heat.value("site", v.name) != v.name) {
            n["state"] = a->heat;
            alarm(a->who() + ": agent heats site '" + a->heat.value("site", "") +
                  "'; fix its --grid or --node");
        } else {
            const json& h = a->heat;
            n["state"] = h;
            power += num_or(h, "power_w");
            today += num_or(h, "today_kwh");
            today_useful += num_or(h, "today_useful_kwh");
            month += num_or(h, "month_kwh");
            month_useful += num_or(h, "month_useful_kwh");
            if (h.contains("alarm") && h["alarm"].is_string() &&
                !h["alarm"].get<std::string>().empty())
                alarm(h["alarm"].get<std::string>());
            double t = num_or(h, "target", NAN);
            distinct.insert(t);
            targets.push_back(a->who() + " " + fixed(t, 1));
        }
        nodes.push_back(n);
    }
    if (!unreachable.empty()) alarm("unreachable: " + unreachable);
    if (distinct.size() > 1) {
        std::string list;
        for (const auto& t : targets) list += (list.empty() ? "" : ", ") + t;
        alarm("agents disagree on the target (" + list + "); run hearth heat set");
    }
    if (v.asked.empty()) alarm("no node in the grid file");
    out["power_w"] = power;
    out["today_kwh"] = today;
    out["today_useful_kwh"] = today_useful;
    out["month_kwh"] = month;
    out["month_useful_kwh"] = month_useful;
    out["useful_share"] = month > 0 ? json(month_useful / month) : json();
    out["alarms"] = alarms;
    out["nodes"] = nodes;
    return out;
}

std::string cell(const json& j, int decimals) {
    return j.is_number()   ? fixed(j.get<double>(), decimals)
           : j.is_string() ? j.get<std::string>()
                           : "-";
}

void print_table(const json& sites) {
    struct Col {
        const char* head;
        int width;
        bool left;
    };
    const Col cols[] = {{"SITE", 16, true},        {"TARGET", 7, false},
                        {"MEASURED", 9, false},    {"MODE", 6, true},
                        {"POWER(W)", 9, false},    {"TODAY(kWh)", 11, false},
                        {"MONTH(kWh)", 11, false}, {"USEFUL%", 8, false}};
    auto row = [&](const std::vector<std::string>& cells, const std::string& last) {
        std::ostringstream o;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const Col& c = cols[i];
            if (i) o << "  ";
            o << (c.left ? std::left : std::right) << std::setw(c.width) << cells[i];
        }
        o << "  " << last;
        std::string s = o.str();
        while (!s.empty() && s.back() == ' ') s.pop_back();
        std::cout << s << "\n";
    };
    std::vector<std::string> heads;
    for (const auto& c : cols) heads.push_back(c.head);
    row(heads, "ALARM");
    for (const auto& s : sites) {
        std::string alarms;
        for (const auto& a : s["alarms"])
            alarms += (alarms.empty() ? "" : "; ") + a.get<std::string>();
        const json& share = s["useful_share"];
        row({s["site"].get<std::string>(), cell(s["target"], 1), cell(s["measured"], 1),
             cell(s["mode"], 0), fixed(s["power_w"].get<double>(), 0),
             fixed(s["today_kwh"].get<double>(), 3), fixed(s["month_kwh"].get<double>(), 3),
             share.is_number() ? fixed(100 * share.get<double>(), 0) : "-"},
            alarms);
    }
}

int heat_show(const HeatArgs& a) {
    std::optional<Grid> grid;
    if (!a.grid.empty()) grid = load_grid(a.grid);
    std::vector<Asked> asked;
    if (grid)
        for (const auto& n : grid->nodes) asked.push_back(Asked{n.name, n.site, n.agent, {}, {}, 0});
    for (const auto& url : a.agents) {
        bool dup =
            std::any_of(asked.begin(), asked.end(), [&](const Asked& x) { return x.agent == url; });
        if (!dup) asked.push_back(Asked{"", "", url, {}, {}, 0});
    }
    if (asked.empty())
        throw usage_error("no agent to ask; give --grid FILE (hearth-grid(5)) or --agent URL");
    ask_all(asked);

    std::vector<SiteView> views;
    auto view = [&](const std::string& name) -> SiteView& {
        for (auto& v : views)
            if (v.name == name) return v;
        views.push_back(SiteView{name, {}, grid ? grid->find_site(name) : nullptr});
        return views.back();
    };
    if (grid)
        for (const auto& s : grid->sites) view(s.name);
    for (auto& x : asked) {
        if (x.site.empty()) x.site = x.answered() ? x.heat.value("site", "?") : "?";
        view(x.site).asked.push_back(&x);
    }
    json sites = json::array();
    for (const auto& v : views) sites.push_back(site_json(v));
    std::size_t answered =
        std::count_if(asked.begin(), asked.end(), [](const Asked& x) { return x.answered(); });
    if (a.json)
        std::cout << json{{"sites", sites}, {"agents", asked.size()}, {"answered", answered}}.dump(
                         2)
                  << "\n";
    else
        print_table(sites);
    // A refused token is the caller's to fix (exit 2), named after the table.
    const auto refused = std::count_if(asked.begin(), asked.end(),
                                       [](const Asked& x) { return x.refused == 401 || x.refused == 403; });
    for (const auto& x : asked)
        if (x.refused == 401 || x.refused == 403)
            throw usage_error(x.error + (refused > 1 ? " (and " + std::to_string(refused - 1) +
                                                           " more agents)"
                                                     : ""));
    if (answered == 0)
        throw Error("none of the " + std::to_string(asked.size()) +
                        " grid-agents answered; start them or fix their agent URLs (the "
                        "alarms name each)",
                    ExitCode::no_grid);
    return 0;
}

// ---- set, schedule, measured -----------------------------------------------

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

std::string celsius_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g C", v);
    return buf;
}

int heat_set(const HeatArgs& a) {
    Grid grid = load_grid(a.grid);
    const Site& site = known_site(grid, a.site, a.grid);
    const double t = parse_celsius(a.value, "TEMP");
    check_target(site, t);
    json body{{"target", t}};
    std::string until_text;
    if (a.until) {
        const std::int64_t until = parse_until(*a.until, now_unix());
        body["until_unix"] = until;
        until_text = " until " + format_utc(until);
    }
    auto done = apply_to_site(grid, site, a.grid, "target", body);
    std::cout << "site " << site.name << ": target " << celsius_text(t) << until_text << " on "
              << joined(done.nodes) << "\n";
    return 0;
}

int heat_schedule(const HeatArgs& a) {
    Grid grid = load_grid(a.grid);
    const Site& site = known_site(grid, a.site, a.grid);
    const std::string spec = checked_schedule(site, a.value);
    auto done = apply_to_site(grid, site, a.grid, "schedule", {{"schedule", spec}});
    std::cout << "site " << site.name << ": "
              << (spec.empty() ? std::string("schedule cleared") : "schedule '" + spec + "'")
              << " on " << joined(done.nodes) << "\n";
    return 0;
}

int heat_measured(const HeatArgs& a) {
    Grid grid = load_grid(a.grid);
    const Site& site = known_site(grid, a.site, a.grid);
    if (site.source.type != "static")
        throw usage_error("site '" + site.name + "' reads its temperature from its " +
                          site.source.type +
                          " source; hearth heat measured is for sites with a static source");
    const double t = parse_celsius(a.value, "TEMP");
    // Outside this range it is a typo or a broken probe, not a reading.
    if (!std::isfinite(t) || t < -50 || t > 150)
        throw usage_error("measured temperature '" + a.value +
                          "' is not plausible; give degrees C from -50 to 150");
    auto done = apply_to_site(grid, site, a.grid, "measured", {{"measured", t}});
    std::cout << "site " << site.name << ": measured " << celsius_text(t) << " on " << joined(done.nodes)
              << "\n";
    return 0;
}

}  // namespace

int cmd_heat(const HeatArgs& a) {
    if (a.action == "show") return heat_show(a);
    if (a.action == "set") return heat_set(a);
    if (a.action == "schedule") return heat_schedule(a);
    if (a.action == "measured") return heat_measured(a);
    throw usage_error(
        "hearth heat needs show, set, schedule or measured; see 'hearth heat --help'");
}

}  // namespace hearth
