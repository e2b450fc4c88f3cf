#include "core/sim_try.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/sim.hpp"

namespace hearth {
namespace {

using nlohmann::json;

constexpr double k_step_s = 60;
constexpr double k_task_s = 600;  // the backlog's tasks: ten minutes on a slot

}  // namespace

double HeatPlan::target_at(std::int64_t unix_s, std::int64_t utc_offset_s) const {
    if (override_c && (!override_until || *override_until > unix_s)) return *override_c;
    if (schedule) return schedule->target_at(minute_of_week(unix_s, utc_offset_s)).value;
    return base_target;
}

std::optional<double> work_share(const GridNode& node, const std::vector<HistoryPoint>& recent) {
    const double dyn = node.max.value - node.idle.value;
    double sum = 0;
    int n = 0;
    for (const auto& p : recent) {
        if (p.slots_allowed <= 0 || p.slots <= 0 || !std::isfinite(p.power_w)) continue;
        const double busy =
            dyn > 0 ? std::clamp((p.power_w - node.idle.value) / dyn, 0.0, 1.0) * p.slots : 0.0;
        sum += std::clamp(busy / p.slots_allowed, 0.0, 1.0);
        ++n;
    }
    if (!n) return std::nullopt;
    return sum / n;
}

TrySetup try_setup(const Grid& grid, const std::string& site_name, const GridNode& node,
                   const TryState& state, const TryRequest& req) {
    const Site* site = grid.find_site(site_name);
    if (!site) throw usage_error("site '" + site_name + "' is not in the grid file");
    TrySetup s;
    if (state.measured && std::isfinite(*state.measured)) {
        s.start_c = *state.measured;
        s.start_from = "measured now";
    } else {
        auto last = std::find_if(state.recent.rbegin(), state.recent.rend(),
                                 [](const HistoryPoint& p) { return p.temp_c.has_value(); });
        if (last == state.recent.rend())
            throw conflict_error("site '" + site->name +
                                 "' has no temperature now nor in its history to start from; "
                                 "check its heat source (or set one: hearth heat measured)");
        s.start_c = *last->temp_c;
        s.start_from = "history";
    }
    if (req.work) {
        s.work = *req.work;
        s.work_from = "request";
    } else if (auto w = work_share(node, state.recent)) {
        s.work = *w;
        s.work_from = "history";
    } else {
        s.work = 1;
        s.work_from = "none";
    }

    Scenario& sc = s.scenario;
    sc.name = "try " + site->name;
    sc.start_unix = state.now_unix;
    sc.utc_offset_s = state.utc_offset_s;
    sc.duration_s = req.horizon_h * 3600.0;
    sc.step_s = k_step_s;
    Site tried = *site;
    tried.thermal.initial = Celsius{s.start_c};
    tried.schedule = req.schedule.value_or("");
    if (req.target) tried.target = Celsius{*req.target};
    sc.grid.sites.push_back(tried);
    std::uint32_t slots = 0;
    for (const auto& n : grid.nodes)
        if (n.site == site->name) {
            sc.grid.nodes.push_back(n);
            slots += n.slots;
        }
    // The backlog: never runs out at full speed, at most the share of the
    // slots that had work running at once.
    const auto busy = static_cast<std::uint32_t>(std::lround(s.work * slots));
    const std::uint32_t cap = s.work > 0 ? std::max<std::uint32_t>(1, busy) : 0;
    if (cap > 0) {
        TenantSpec t;
        t.name = "try";
        t.max_running = cap;
        sc.grid.tenants.push_back(t);
        SimJob j;
        j.name = "backlog";
        j.tenant = "try";
        j.task_s = k_task_s;
        j.tasks = static_cast<std::uint64_t>(slots) *
                  (static_cast<std::uint64_t>(std::ceil(sc.duration_s / k_task_s)) + 1);
        sc.jobs.push_back(j);
    }
    s.every_steps = req.horizon_h > 24 ? 15 : 5;
    return s;
}

TryResult run_try(const Grid& grid, const std::string& site, const GridNode& node,
                  const TryState& state, const TryRequest& req) {
    TryResult r;
    r.site = site;
    r.horizon_h = req.horizon_h;
    r.request = req;
    r.setup = try_setup(grid, site, node, state, req);
    SimTrace trace;
    trace.sites = {0};
    trace.every_steps = r.setup.every_steps;
    const SimResult sim = simulate(r.setup.scenario, SimPolicy::heat_aware, trace);
    const SiteResult& sr = sim.sites.at(0);
    r.delivered_kwh = sr.delivered_kwh;
    r.useful_kwh = sr.useful_kwh;
    r.mean_abs_error_c = sr.mean_abs_error_c;
    r.max_overshoot_c = sr.max_overshoot_c;
    r.starved_h = sr.starved_h;
    r.final_c = sr.final_c;
    r.min_c = r.max_c = r.setup.start_c;
    for (const auto& p : sim.series.at(0).samples) {
        const std::int64_t t = state.now_unix + static_cast<std::int64_t>(std::llround(p.t_s));
        TryPoint tp;
        tp.t_ms = t * 1000;
        tp.temp_c = p.temp_c;
        tp.target_c = p.target_c;
        // As the simulator's target: the one in force over the step ending here.
        const auto step = static_cast<std::int64_t>(r.setup.scenario.step_s);
        tp.plan_c = state.plan.target_at(std::max(state.now_unix, t - step), state.utc_offset_s);
        tp.power_w = p.power_w;
        r.min_c = std::min(r.min_c, p.temp_c);
        r.max_c = std::max(r.max_c, p.temp_c);
        r.points.push_back(tp);
    }
    return r;
}

json try_json(const TryResult& r) {
    json proposal = json::object();
    if (r.request.schedule) proposal["schedule"] = *r.request.schedule;
    if (r.request.target) proposal["target"] = *r.request.target;
    json points = json::array();
    for (const auto& p : r.points)
        points.push_back({{"t_ms", p.t_ms},
                          {"temp_c", p.temp_c},
                          {"target_c", p.target_c},
                          {"plan_c", p.plan_c},
                          {"power_w", p.power_w}});
    return {{"site", r.site},
            {"horizon_h", r.horizon_h},
            {"proposal", proposal},
            {"start_unix", r.setup.scenario.start_unix},
            {"step_s", r.setup.scenario.step_s},
            {"sample_s", r.setup.scenario.step_s * r.setup.every_steps},
            {"start_c", r.setup.start_c},
            {"start_from", r.setup.start_from},
            {"work", r.setup.work},
            {"work_from", r.setup.work_from},
            {"band", r.setup.scenario.grid.sites.at(0).band},
            {"delivered_kwh", r.delivered_kwh},
            {"useful_kwh", r.useful_kwh},
            {"mean_abs_error_c", r.mean_abs_error_c},
            {"max_overshoot_c", r.max_overshoot_c},
            {"starved_h", r.starved_h},
            {"min_c", r.min_c},
            {"max_c", r.max_c},
            {"final_c", r.final_c},
            {"points", points}};
}

}  // namespace hearth
