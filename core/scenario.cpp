#include "core/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/jobs_api.hpp"
#include "core/task_memory.hpp"
#include "core/toml.hpp"
#include "core/utc_time.hpp"

namespace hearth {

namespace {

// zero_ok: for arrival only; every other duration must be positive, as
// parse_duration says (a task_time of "0m" was accepted before: tests/fuzz).
double seconds_of(const toml::node& n, const std::string& where, bool zero_ok = false) {
    if (auto v = n.value<std::string>()) {
        // An arrival may be at the very start: "0", "0s", "0h" ...
        if (zero_ok && !v->empty() && (*v)[0] == '0' && v->find_first_not_of("0", 0) >= v->size() - 1 &&
            (v->size() == 1 || std::string("smhd").find(v->back()) != std::string::npos))
            return 0;
        try {
            return static_cast<double>(parse_duration(*v).count()) / 1000.0;
        } catch (const Error& e) {
            throw usage_error(where + ": " + e.what());
        }
    }
    throw usage_error(where + " must be a duration string such as \"90s\", \"10m\" or \"6h\"");
}

void check_keys(const toml::table& t, const std::set<std::string>& known, const std::string& where) {
    for (const auto& [k, v] : t) {
        if (known.count(std::string(k.str()))) continue;
        std::string list;
        for (const auto& s : known) list += (list.empty() ? "" : " ") + s;
        throw usage_error(where + ": unknown key '" + std::string(k.str()) + "'; valid keys: " + list);
    }
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& origin,
                        const std::string& base_dir) {
    toml::table t;
    try {
        t = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        throw usage_error(origin + ": " + std::string(e.description()) + " at line " +
                          std::to_string(e.source().begin.line) + "; fix the TOML syntax");
    } catch (const Error& e) {  // one of toml++'s own checks (core/toml.hpp)
        throw usage_error(origin + ": " + e.what());
    }
    check_keys(t,
               {"name", "description", "grid", "start", "duration", "step", "outside", "job",
                "tenant", "usage_half_life"},
               origin);
    Scenario sc;
    sc.name = t["name"].value_or(std::string());
    sc.description = t["description"].value_or(std::string());
    auto grid = t["grid"].value<std::string>();
    if (!grid) throw usage_error(origin + ": 'grid' (the grid file) is required; add grid = \"grid.toml\"");
    std::filesystem::path gp(*grid);
    if (gp.is_relative()) gp = std::filesystem::path(base_dir) / gp;
    sc.grid = load_grid(gp.string());
    sc.start_unix = parse_utc_seconds(t["start"].value_or(std::string("2027-01-04")));
    if (!t["duration"]) throw usage_error(origin + ": 'duration' is required; add duration = \"7d\"");
    sc.duration_s = seconds_of(*t["duration"].node(), origin + ": duration");
    if (t["step"]) sc.step_s = seconds_of(*t["step"].node(), origin + ": step");
    if (t["outside"]) {
        auto v = t["outside"].value<double>();
        if (!v || !std::isfinite(*v) || *v < -50 || *v > 50)
            throw usage_error(origin + ": 'outside' must be a temperature from -50 to 50 C");
        sc.outside = Celsius{*v};
        for (auto& site : sc.grid.sites)
            if (site.kind != SiteKind::tank) site.thermal.outside = *sc.outside;
    }
    if (t["usage_half_life"])
        sc.usage_half_life_s = seconds_of(*t["usage_half_life"].node(), origin + ": usage_half_life");
    if (t["tenant"]) sc.grid.tenants = parse_tenant_table(text, origin);
    if (!(sc.duration_s > 0)) throw usage_error(origin + ": duration must be positive, e.g. \"7d\"");
    if (sc.step_s < 1 || sc.step_s > 3600)
        throw usage_error(origin + ": step must be between 1s and 1h; 60s suits a week");
    if (sc.duration_s > 366.0 * 86400)
        throw usage_error(origin + ": duration over a year; simulate at most 366d");
    if (t["job"] && !t["job"].as_array())
        throw usage_error(origin + ": 'job' must be an array of tables; write each job as [[job]]");
    if (auto* jobs = t["job"].as_array()) {
        std::size_t i = 0;
        for (const auto& jn : *jobs) {
            ++i;
            const auto* jt = jn.as_table();
            const std::string where = origin + ": job " + std::to_string(i);
            if (!jt) throw usage_error(where + " must be a table ([[job]])");
            check_keys(
                *jt,
                {"name", "tenant", "arrival", "tasks", "task_time", "deadline", "urgent", "every",
                 "count", "priority", "cores_per_task", "mem_per_task", "gpus_per_task"},
                where);
            SimJob j;
            j.name = (*jt)["name"].value_or("job" + std::to_string(i));
            j.tenant = (*jt)["tenant"].value_or(std::string("default"));
            if (!is_safe_name(j.name) || !is_safe_name(j.tenant))
                throw usage_error(where + ": name and tenant must be 1-64 of [A-Za-z0-9._-]");
            if (!sc.grid.tenants.empty() && !sc.grid.find_tenant(j.tenant)) {
                std::string names;
                for (const auto& tn : sc.grid.tenants) names += (names.empty() ? "" : ", ") + tn.name;
                throw usage_error(where + ": tenant '" + j.tenant +
                                  "' is not in the tenant table; name one of " + names +
                                  " or add a [[tenant]] for it");
            }
            if (const auto* pn = (*jt)["priority"].node()) {
                const auto v = pn->value<std::int64_t>();
                if (!pn->is_integer() || !v || *v < k_min_priority || *v > k_max_priority)
                    throw usage_error(where + ": 'priority' must be a whole number from " +
                                      std::to_string(k_min_priority) + " to " +
                                      std::to_string(k_max_priority) + " (higher runs first)");
                j.priority = static_cast<std::int32_t>(*v);
            }
            if ((*jt)["arrival"]) j.arrival_s = seconds_of(*(*jt)["arrival"].node(), where + " arrival", true);
            auto tasks = (*jt)["tasks"].value<std::int64_t>();
            if (!tasks || *tasks < 1 || *tasks > 1'000'000'000)
                throw usage_error(where + ": 'tasks' must be an integer from 1 to 1e9");
            j.tasks = static_cast<std::uint64_t>(*tasks);
            if (!(*jt)["task_time"]) throw usage_error(where + ": 'task_time' is required, e.g. \"10m\"");
            j.task_s = seconds_of(*(*jt)["task_time"].node(), where + " task_time");
            if ((*jt)["deadline"]) j.deadline_s = seconds_of(*(*jt)["deadline"].node(), where + " deadline");
            j.urgent = (*jt)["urgent"].value_or(false);
            if (const auto* cn = (*jt)["cores_per_task"].node()) {
                const auto v = cn->value<std::int64_t>();
                if (!cn->is_integer() || !v || *v < 1 || *v > k_max_cores_per_task)
                    throw usage_error(
                        where + ": 'cores_per_task' must be a whole number from 1 to " +
                        std::to_string(k_max_cores_per_task) + " (cores each task holds)");
                j.cores_per_task = static_cast<std::uint32_t>(*v);
            }
            if (const auto* mn = (*jt)["mem_per_task"].node()) {
                const auto v = mn->value<std::string>();
                if (!v) throw usage_error(where + ": 'mem_per_task' must be a size such as \"8G\"");
                j.mem_per_task = parse_byte_size(*v, where + " mem_per_task");
            }
            if (const auto* gn = (*jt)["gpus_per_task"].node()) {
                const auto v = gn->value<std::int64_t>();
                if (!gn->is_integer() || !v || *v < 0 || *v > k_max_gpus_per_task)
                    throw usage_error(
                        where + ": 'gpus_per_task' must be a whole number from 0 to " +
                        std::to_string(k_max_gpus_per_task) + " (GPUs each task holds)");
                j.gpus_per_task = static_cast<std::uint32_t>(*v);
            }
            double every = 0;
            if ((*jt)["every"]) every = seconds_of(*(*jt)["every"].node(), where + " every");
            std::int64_t count = (*jt)["count"].value_or<std::int64_t>(every > 0 ? -1 : 1);
            const bool count_given = static_cast<bool>((*jt)["count"]);
            if (j.arrival_s >= sc.duration_s)
                throw usage_error(where + ": arrives at or after the end of the run; make duration longer or arrival earlier");
            // Arrivals strictly before the end: one at the end would never run.
            if (count == -1) count = static_cast<std::int64_t>(std::ceil((sc.duration_s - j.arrival_s) / every));
            if (count < 1 || count > 100000)
                throw usage_error(where + (count_given ? ": 'count' must be from 1 to 100000"
                                                       : ": 'every' gives over 100000 arrivals; use a longer 'every'"));
            if (count > 1 && every <= 0)
                throw usage_error(where + ": 'count' above 1 needs 'every', e.g. every = \"24h\"");
            for (std::int64_t k = 0; k < count; ++k) {
                SimJob r = j;
                r.arrival_s = j.arrival_s + every * static_cast<double>(k);
                if (count > 1) r.name = j.name + "." + std::to_string(k + 1);
                sc.jobs.push_back(r);
            }
        }
    }
    std::stable_sort(sc.jobs.begin(), sc.jobs.end(),
                     [](const SimJob& a, const SimJob& b) { return a.arrival_s < b.arrival_s; });
    return sc;
}

Scenario load_scenario(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw usage_error("cannot read scenario " + path + "; check the path");
    std::stringstream ss;
    ss << in.rdbuf();
    auto dir = std::filesystem::path(path).parent_path().string();
    return parse_scenario(ss.str(), path, dir.empty() ? "." : dir);
}

}  // namespace hearth
