#include "core/sim.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "core/error.hpp"
#include "core/heat_control.hpp"
#include "core/heat_dispatch.hpp"
#include "core/sched_policy.hpp"
#include "core/schedule.hpp"
#include "core/slot_fraction.hpp"
#include "core/thermal.hpp"

namespace hearth {

const char* to_string(SimPolicy p) { return p == SimPolicy::heat_aware ? "heat-aware" : "unaware"; }

SimPolicy parse_policy(const std::string& s) {
    if (s == "heat-aware") return SimPolicy::heat_aware;
    if (s == "unaware") return SimPolicy::unaware;
    throw usage_error("unknown policy '" + s + "'; use heat-aware, unaware or both");
}

namespace {

constexpr double k_j_per_kwh = 3.6e6;

struct SiteSim {
    const Site* def = nullptr;
    double capacity = 0;  // J/K
    Schedule schedule;
    bool scheduled = false;
    double t = 0, target = 0;
    bool settled = false;
    bool cooling = false;  // after a target cut, until back under target + band
    ControllerState ctl;
    HeatMode mode = HeatMode::open;
    double fraction = 1;
    std::vector<std::uint32_t> nodes;
    std::uint32_t free_allowed = 0;  // after dispatch: budgeted slots left empty
    // accumulators (joules, seconds, kelvin-seconds)
    double node = 0, delivered = 0, useful = 0, wasted = 0, dumped = 0;
    double err_ks = 0, settled_s = 0, starved_s = 0, overshoot = 0;
};

struct NodeSim {
    std::uint32_t site = 0;
    std::uint32_t slots = 0;
    std::uint32_t first_slot = 0;  // into the slot arrays
    double idle = 0, dyn = 0;      // W
    std::uint32_t busy = 0;
    std::uint32_t busy_prio = 0;  // of which deadline or urgent work: never throttled
    std::uint32_t allowed = 0;
    double cap = 0;           // slots' worth of power the throttle lets through
    std::uint64_t memory = 0;    // bytes (grid file `memory`); 0: not modelled
    std::uint64_t mem_used = 0;  // claimed by the tasks running there
    std::optional<std::uint32_t> gpus;  // grid file `gpus`; unset: not modelled
    std::uint32_t gpus_used = 0;        // held by the tasks running there
};

struct JobSim {
    const SimJob* def = nullptr;
    std::uint32_t tenant = 0;  // into the policy's tenants
    bool arrived = false;
    bool priority = false;  // urgent or with a deadline
    double deadline_abs = 0;
    std::uint64_t queued = 0, running = 0, done = 0;  // tasks (each holding `cores` slots)
    std::uint32_t cores = 1;
    double finish = -1;
    bool feasible = true;
};

}  // namespace

SimResult simulate(const Scenario& sc, SimPolicy policy, const SimTrace& trace) {
    const Grid& g = sc.grid;
    const bool aware = policy == SimPolicy::heat_aware;
    std::vector<SiteSim> sites(g.sites.size());
    for (std::size_t i = 0; i < g.sites.size(); ++i) {
        auto& s = sites[i];
        s.def = &g.sites[i];
        s.capacity = heat_capacity_j_per_k(s.def->kind, s.def->thermal);
        s.t = s.def->thermal.initial.value;
        if (!s.def->schedule.empty()) {
            s.schedule = parse_schedule(s.def->schedule);
            s.scheduled = true;
        }
        s.target = s.def->target.value;
    }
    std::vector<NodeSim> nodes(g.nodes.size());
    std::uint32_t slot_count = 0;
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
        const auto& gn = g.nodes[i];
        auto& n = nodes[i];
        std::uint32_t si = 0;
        while (si < g.sites.size() && g.sites[si].name != gn.site) ++si;
        if (si == g.sites.size()) throw usage_error("node '" + gn.name + "' names unknown site '" + gn.site + "'");
        n.site = si;
        n.slots = gn.slots;
        n.first_slot = slot_count;
        slot_count += gn.slots;
        n.idle = gn.idle.value;
        n.dyn = std::max(0.0, gn.max.value - gn.idle.value);
        n.memory = gn.memory;
        n.gpus = gn.gpus;
        sites[si].nodes.push_back(static_cast<std::uint32_t>(i));
    }
    std::vector<double> remaining(slot_count, 0);
    std::vector<std::int32_t> slot_job(slot_count, -1);
    // A task of N cores holds N slots; the first of them stands for the task
    // (its count, its memory), the others only hold their cores.
    std::vector<bool> slot_head(slot_count, false);

    // Tenants: the table's, in its order; without one, every tenant named
    // by a job, an equal share each. Usage decays as the scheduler's does.
    std::vector<PolicyTenant> tenants;
    for (const auto& spec : g.tenants) {
        PolicyTenant pt;
        pt.name = spec.name;
        pt.share = spec.share;
        pt.max_running = spec.max_running;
        tenants.push_back(pt);
    }
    auto tenant_index = [&](const std::string& name) {
        for (std::size_t k = 0; k < tenants.size(); ++k)
            if (tenants[k].name == name) return static_cast<std::uint32_t>(k);
        if (!g.tenants.empty())
            throw usage_error("job tenant '" + name + "' is not in the tenant table; add a [[tenant]] for it");
        PolicyTenant pt;
        pt.name = name;
        tenants.push_back(pt);
        return static_cast<std::uint32_t>(tenants.size() - 1);
    };

    std::vector<JobSim> jobs(sc.jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        auto& j = jobs[i];
        j.def = &sc.jobs[i];
        j.tenant = tenant_index(j.def->tenant);
        j.priority = j.def->urgent || j.def->deadline_s > 0;
        j.cores = std::max(1u, j.def->cores_per_task);
        j.deadline_abs = j.def->deadline_s > 0 ? j.def->arrival_s + j.def->deadline_s : 0;
        if (j.def->deadline_s > 0) {
            // Every slot of the grid from arrival on, in waves of whole tasks.
            const double waves =
                std::ceil(static_cast<double>(j.def->tasks) / std::max(1u, slot_count / j.cores));
            j.feasible = waves * j.def->task_s <= j.def->deadline_s &&
                         j.deadline_abs <= sc.duration_s;
        }
    }

    std::vector<double> usage(tenants.size(), 0.0);  // slot-seconds, decayed
    SimResult r;
    r.scenario = sc.name;
    r.policy = policy;
    std::size_t next_arrival = 0;
    std::vector<double> site_waste(sites.size(), 0);
    std::uint32_t rotate = 0;
    std::vector<std::uint32_t> active;  // arrived jobs with tasks queued or running
    std::vector<double> left(jobs.size(), 0.0);  // per job: work left in its running tasks
    auto target_at = [&](const SiteSim& s, int mow) {
        return s.scheduled ? s.schedule.target_at(mow).value : s.def->target.value;
    };

    // Tracing (--plot): each traced site's energy since its last sample.
    const bool tracing = !trace.sites.empty();
    const std::uint32_t trace_every = std::max<std::uint32_t>(1, trace.every_steps);
    std::vector<double> trace_j(trace.sites.size(), 0.0), trace_override_j(trace.sites.size(), 0.0);
    double trace_s = 0;
    std::uint32_t trace_steps = 0;
    for (std::size_t k = 0; k < trace.sites.size(); ++k) {
        const std::size_t si = trace.sites[k];
        if (si >= sites.size()) throw Error("hearth sim: traced site " + std::to_string(si) + " is not in the grid; this is a bug");
        SimSample first;
        first.temp_c = sites[si].t;
        first.target_c = target_at(sites[si], minute_of_week(sc.start_unix, sc.utc_offset_s));
        r.series.push_back(SiteSeries{si, {first}});
    }

    // The policy's view of this step: its job indices are positions in
    // `active`. Refilled in place each step, not reallocated.
    PolicyInput in;
    auto fill_policy_input = [&](double now, bool heat_aware, std::uint32_t rot) {
        in.now_s = now;
        in.heat_aware = heat_aware;
        in.rotate = rot;
        in.tenants = tenants;
        for (std::size_t k = 0; k < tenants.size(); ++k) in.tenants[k].usage_slot_s = usage[k];
        // Deadline planning counts the work left in running tasks.
        for (auto ji : active) left[ji] = 0;
        for (const auto& n : nodes) {
            if (!n.busy_prio) continue;
            for (std::uint32_t k = n.first_slot; k < n.first_slot + n.slots; ++k)
                if (slot_job[k] >= 0 && slot_head[k] &&
                    jobs[static_cast<std::size_t>(slot_job[k])].priority)
                    left[static_cast<std::size_t>(slot_job[k])] += std::max(0.0, remaining[k]);
        }
        in.jobs.clear();
        for (auto ji : active) {
            const auto& j = jobs[ji];
            PolicyJob pj;
            pj.tenant = j.tenant;
            pj.priority = j.def->priority;
            pj.seq = ji;
            pj.urgent = j.def->urgent;
            pj.deadline_s = j.deadline_abs;
            pj.queued = j.queued;
            pj.running = static_cast<std::uint32_t>(j.running);
            pj.task_s = j.def->task_s;
            pj.remaining_s = left[ji];
            pj.cores_per_task = j.cores;
            pj.mem_per_task = j.def->mem_per_task;
            pj.gpus_per_task = j.def->gpus_per_task;
            in.jobs.push_back(pj);
        }
        in.nodes.clear();
        for (const auto& n : nodes) {
            PolicyNode pn;
            pn.cap = NodeCapacity{n.slots, n.allowed, site_waste[n.site],
                                  sites[n.site].mode != HeatMode::stop};
            pn.busy = n.busy;
            if (n.memory > 0) {
                pn.mem_total = n.memory;
                pn.mem_free = n.memory - std::min(n.memory, n.mem_used);
            }
            // Its GPUs and those free now, as hearth serve counts them: the
            // policy places no task where too few are free.
            if (n.gpus) {
                pn.gpus = *n.gpus;
                pn.gpus_free = *n.gpus - std::min(*n.gpus, n.gpus_used);
            }
            in.nodes.push_back(pn);
        }
    };

    double t = 0;
    while (t < sc.duration_s - 1e-9) {
        const double dt = std::min(sc.step_s, sc.duration_s - t);
        const std::int64_t now_unix = sc.start_unix + static_cast<std::int64_t>(t);
        const int sod = static_cast<int>(((now_unix % 86400) + 86400) % 86400);
        const int mow = minute_of_week(now_unix, sc.utc_offset_s);
        ++r.steps;

        while (next_arrival < jobs.size() && jobs[next_arrival].def->arrival_s <= t + 1e-9) {
            auto& j = jobs[next_arrival++];
            j.arrived = true;
            j.queued = j.def->tasks;
            active.push_back(static_cast<std::uint32_t>(next_arrival - 1));
        }

        // 1. Each site's controller sets its nodes' budgets.
        for (auto& s : sites) {
            const double target = target_at(s, mow);
            if (target != s.target) {
                s.settled = false;
                if (target < s.target) s.cooling = true;
            }
            s.target = target;
            if (std::fabs(s.t - target) <= s.def->band) s.settled = true;
            if (aware) {
                ControlInput in;
                in.target = Celsius{target};
                in.band = s.def->band;
                in.max = s.def->max;
                in.measured = Celsius{s.t};
                in.safe = s.def->source.safe_mode;
                in.dt_s = dt;
                const auto d = heat_control(s.ctl, in);
                s.mode = d.mode;
                s.fraction = d.fraction;
            } else {
                s.mode = HeatMode::open;
                s.fraction = 1;
            }
        }
        for (std::size_t ni = 0; ni < nodes.size(); ++ni) {
            auto& n = nodes[ni];
            const auto& s = sites[n.site];
            if (s.mode == HeatMode::stop) {
                // Past the hard maximum: hand the tasks back, without penalty.
                for (std::uint32_t k = n.first_slot; k < n.first_slot + n.slots; ++k) {
                    if (slot_job[k] < 0) continue;
                    auto& j = jobs[static_cast<std::size_t>(slot_job[k])];
                    slot_job[k] = -1;
                    if (!slot_head[k]) continue;
                    slot_head[k] = false;
                    --j.running;
                    ++j.queued;
                    ++r.requeues;
                }
                n.busy = 0;
                n.mem_used = 0;
                n.gpus_used = 0;
                n.busy_prio = 0;
                n.allowed = 0;
                n.cap = 0;
            } else {
                n.cap = s.fraction * n.slots;
                n.allowed = slots_for_fraction(s.fraction, n.slots);
            }
        }

        // 2. The grid's scheduling policy decides, as `hearth serve` does:
        // deadline and urgent work first (past the budgets only as far as a
        // deadline needs), then fair share between tenants.
        for (std::size_t si = 0; si < sites.size(); ++si)
            site_waste[si] = sites[si].t - (sites[si].target - sites[si].def->band);
        for (auto& u : usage) u = decay_usage(u, dt, sc.usage_half_life_s);
        active.erase(std::remove_if(active.begin(), active.end(),
                                    [&](std::uint32_t ji) { return !jobs[ji].queued && !jobs[ji].running; }),
                     active.end());
        bool queued_work = false;
        for (auto ji : active) queued_work = queued_work || jobs[ji].queued > 0;
        if (queued_work) {
            fill_policy_input(t, aware, rotate);
            const std::vector<Grant> grants = schedule(in);
            if (trace.on_decision) trace.on_decision(in, grants);
            for (Grant g : grants) {
                const std::uint32_t ji = active[g.job];
                auto& j = jobs[ji];
                auto& n = nodes[g.node];
                if (g.count == 0) continue;
                const std::uint32_t cores = g.count * j.cores;
                // The policy counts free GPUs: a grant past them is its bug.
                const bool past_gpus = n.gpus && std::uint64_t{g.count} * j.def->gpus_per_task >
                                                     *n.gpus - std::min(*n.gpus, n.gpus_used);
                if (g.count > j.queued || n.busy + cores > n.slots || past_gpus)
                    throw Error("hearth sim: the policy granted more than was queued or free; this is a bug");
                // Each task on `cores` free slots, the first its head.
                std::uint32_t to_place = cores;
                for (std::uint32_t k = n.first_slot; to_place > 0; ++k) {
                    if (slot_job[k] >= 0) continue;
                    slot_job[k] = static_cast<std::int32_t>(ji);
                    slot_head[k] = to_place % j.cores == 0;
                    remaining[k] = j.def->task_s;
                    --to_place;
                }
                j.queued -= g.count;
                j.running += g.count;
                n.busy += cores;
                n.mem_used += g.count * j.def->mem_per_task;
                n.gpus_used += g.count * j.def->gpus_per_task;
                if (j.priority) n.busy_prio += cores;
            }
            if (!aware)
                rotate = static_cast<std::uint32_t>((rotate + 1) % std::max<std::size_t>(1, nodes.size()));
        }
        // Usage in slot-seconds: cores held, as the scheduler charges.
        for (auto ji : active)
            usage[jobs[ji].tenant] += static_cast<double>(jobs[ji].running * jobs[ji].cores) * dt;

        // 3. Run the step: throttled work progresses slower and draws less;
        // deadline and urgent work runs at full speed (it was let in past the
        // budget on purpose), the rest shares what the budget leaves.
        for (auto& s : sites) s.free_allowed = 0;
        std::vector<double> site_power(sites.size(), 0.0);
        std::vector<double> site_override(sites.size(), 0.0);
        for (auto& n : nodes) {
            const double prio_run = n.busy_prio;
            const double normal = n.busy - n.busy_prio;
            const double normal_cap = std::max(0.0, std::min<double>(n.slots, n.cap) - prio_run);
            const double normal_run = std::min(normal, normal_cap);
            const double normal_rate = normal > 0 ? std::min(1.0, normal_cap / normal) : 0.0;
            const double per_slot = n.slots ? n.dyn / n.slots : 0.0;
            const double running = prio_run + normal_run;
            site_power[n.site] += n.idle + per_slot * running;
            site_override[n.site] += per_slot * std::max(0.0, running - n.cap);
            if (n.allowed > n.busy) sites[n.site].free_allowed += n.allowed - n.busy;
            if (!n.busy) continue;
            for (std::uint32_t k = n.first_slot; k < n.first_slot + n.slots; ++k) {
                if (slot_job[k] < 0) continue;
                auto& j = jobs[static_cast<std::size_t>(slot_job[k])];
                const double rate = j.priority ? 1.0 : normal_rate;
                if (rate <= 0) continue;
                remaining[k] -= dt * rate;
                if (remaining[k] > 1e-9) continue;
                // A task's slots all end in the same step (same start, same rate).
                slot_job[k] = -1;
                --n.busy;
                if (j.priority) --n.busy_prio;
                if (!slot_head[k]) continue;
                slot_head[k] = false;
                --j.running;
                ++j.done;
                n.mem_used -= std::min(n.mem_used, j.def->mem_per_task);
                n.gpus_used -= std::min(n.gpus_used, j.def->gpus_per_task);
                r.core_s += static_cast<double>(j.cores) * j.def->task_s;
                if (j.done == j.def->tasks) j.finish = t + dt + remaining[k] / rate;
            }
        }

        // 4. The sites' temperatures move; account the heat.
        for (std::size_t si = 0; si < sites.size(); ++si) {
            auto& s = sites[si];
            const double t0 = s.t;
            // What reaches the site of the nodes' energy.
            const double heat_w = heat_delivered(*s.def, Watts{site_power[si]}).value;
            const double e = heat_w * dt;
            s.node += site_power[si] * dt;
            s.delivered += e;
            const bool wanted = t0 < s.target + s.def->band;
            (wanted ? s.useful : s.wasted) += e;
            r.override_kwh += site_override[si] * dt / k_j_per_kwh;
            if (!wanted) r.override_wasted_kwh += site_override[si] * dt / k_j_per_kwh;
            double t1 =
                thermal_step(s.def->kind, s.def->thermal, Celsius{t0}, Watts{heat_w}, dt, sod)
                    .value;
            if (t1 > s.def->max.value) {  // the site's dump (dry cooler) rejects the excess
                s.dumped += (t1 - s.def->max.value) * s.capacity;
                t1 = s.def->max.value;
            }
            s.t = t1;
            // Below the band with the budget wide open, the site lacks work
            // or capacity, not control: the error is not the controller's
            // until the site is back in its band. Heat above the band always
            // counts (unaware dispatch overheats here).
            if (t1 < s.target - s.def->band && s.fraction >= 1) s.settled = false;
            // Below target with budgeted slots left empty (no work) or with
            // the budget wide open (no more capacity): the controller asked
            // for heat the grid could not give; that is not control error.
            const bool starved = t1 < s.target && (s.free_allowed > 0 || s.fraction >= 1);
            if (starved) s.starved_s += dt;
            if (s.settled && !starved) {
                s.err_ks += std::fabs(t1 - s.target) * dt;
                s.settled_s += dt;
            }
            // The cool-down after a target cut is exempt while the site is
            // cooling; kept hot (not falling), it is overshoot again.
            if (t1 <= s.target + s.def->band || t1 >= t0) s.cooling = false;
            if (!s.cooling && (s.settled || t1 > s.target)) s.overshoot = std::max(s.overshoot, t1 - s.target);
        }
        t += dt;
        // Outside the sites' loop: without a trace, the loop is as it was.
        if (tracing) {
            for (std::size_t k = 0; k < trace.sites.size(); ++k) {
                trace_j[k] += site_power[trace.sites[k]] * dt;
                trace_override_j[k] += site_override[trace.sites[k]] * dt;
            }
            trace_s += dt;
            if (++trace_steps % trace_every == 0 || t >= sc.duration_s - 1e-9) {
                for (std::size_t k = 0; k < trace.sites.size(); ++k) {
                    const auto& s = sites[trace.sites[k]];
                    SimSample p;
                    p.t_s = t;
                    p.temp_c = s.t;
                    p.target_c = s.target;
                    p.power_w = trace_j[k] / trace_s;
                    p.override_w = trace_override_j[k] / trace_s;
                    p.starved_h = s.starved_s / 3600;
                    r.series[k].samples.push_back(p);
                    trace_j[k] = trace_override_j[k] = 0;
                }
                trace_s = 0;
            }
        }
    }

    r.simulated_s = t;
    double err_ks = 0, settled_s = 0;
    for (const auto& s : sites) {
        SiteResult sr;
        sr.name = s.def->name;
        sr.node_kwh = s.node / k_j_per_kwh;
        sr.delivered_kwh = s.delivered / k_j_per_kwh;
        sr.useful_kwh = s.useful / k_j_per_kwh;
        sr.wasted_kwh = s.wasted / k_j_per_kwh;
        sr.dumped_kwh = s.dumped / k_j_per_kwh;
        sr.mean_abs_error_c = s.settled_s > 0 ? s.err_ks / s.settled_s : 0;
        sr.max_overshoot_c = s.overshoot;
        sr.settled_h = s.settled_s / 3600;
        sr.starved_h = s.starved_s / 3600;
        sr.final_c = s.t;
        r.delivered_kwh += sr.delivered_kwh;
        r.useful_kwh += sr.useful_kwh;
        r.wasted_kwh += sr.wasted_kwh;
        r.max_overshoot_c = std::max(r.max_overshoot_c, sr.max_overshoot_c);
        err_ks += s.err_ks;
        settled_s += s.settled_s;
        r.sites.push_back(sr);
    }
    r.useful_fraction = r.delivered_kwh > 0 ? r.useful_kwh / r.delivered_kwh : 0;
    r.mean_abs_error_c = settled_s > 0 ? err_ks / settled_s : 0;
    r.gas_co2_kg = r.useful_kwh * g.gas_kgco2_per_kwh;
    bool all_done = true;
    double first = 1e300, last = 0;
    for (const auto& j : jobs) {
        JobResult jr;
        jr.name = j.def->name;
        jr.tasks = j.def->tasks;
        jr.done = j.done;
        jr.cores_per_task = j.cores;
        jr.arrival_s = j.def->arrival_s;
        jr.finish_s = j.finish;
        jr.deadline_s = j.deadline_abs;
        jr.urgent = j.def->urgent;
        jr.feasible = j.feasible;
        if (j.deadline_abs > 0)
            jr.missed = j.finish < 0 || j.finish > j.deadline_abs + 1e-6;
        else if (j.def->urgent)
            jr.missed = j.finish < 0;
        r.tasks_total += jr.tasks;
        r.tasks_done += jr.done;
        if (jr.missed) {
            ++r.deadline_misses;
            if (jr.feasible) ++r.feasible_misses;
        }
        if (j.finish < 0) all_done = false;
        first = std::min(first, j.def->arrival_s);
        last = std::max(last, j.finish);
        r.jobs.push_back(jr);
    }
    r.makespan_s = (all_done && !jobs.empty()) ? last - first : -1;
    return r;
}

std::string format_sim_json(const SimResult& r) {
    nlohmann::ordered_json j;
    j["scenario"] = r.scenario;
    j["policy"] = to_string(r.policy);
    j["simulated_s"] = r.simulated_s;
    j["steps"] = r.steps;
    j["delivered_kwh"] = r.delivered_kwh;
    j["useful_kwh"] = r.useful_kwh;
    j["wasted_kwh"] = r.wasted_kwh;
    j["useful_fraction"] = r.useful_fraction;
    j["mean_abs_error_c"] = r.mean_abs_error_c;
    j["max_overshoot_c"] = r.max_overshoot_c;
    j["tasks_total"] = r.tasks_total;
    j["tasks_done"] = r.tasks_done;
    j["core_hours_done"] = r.core_s / 3600.0;
    j["requeues"] = r.requeues;
    j["deadline_misses"] = r.deadline_misses;
    j["feasible_deadline_misses"] = r.feasible_misses;
    j["makespan_s"] = r.makespan_s;
    j["override_kwh"] = r.override_kwh;
    j["override_wasted_kwh"] = r.override_wasted_kwh;
    j["gas_co2_kg_displaced"] = r.gas_co2_kg;
    auto& sites = j["sites"] = nlohmann::ordered_json::array();
    for (const auto& s : r.sites)
        sites.push_back({{"name", s.name},
                         {"node_kwh", s.node_kwh},
                         {"delivered_kwh", s.delivered_kwh},
                         {"useful_kwh", s.useful_kwh},
                         {"wasted_kwh", s.wasted_kwh},
                         {"dumped_kwh", s.dumped_kwh},
                         {"mean_abs_error_c", s.mean_abs_error_c},
                         {"max_overshoot_c", s.max_overshoot_c},
                         {"settled_h", s.settled_h},
                         {"starved_h", s.starved_h},
                         {"final_c", s.final_c}});
    auto& jobs = j["jobs"] = nlohmann::ordered_json::array();
    for (const auto& jr : r.jobs) {
        nlohmann::ordered_json o{{"name", jr.name}, {"tasks", jr.tasks}, {"done", jr.done},
                                 {"arrival_s", jr.arrival_s}, {"finish_s", jr.finish_s}};
        if (jr.deadline_s > 0) o["deadline_s"] = jr.deadline_s;
        if (jr.urgent) o["urgent"] = true;
        if (jr.cores_per_task != 1) o["cores_per_task"] = jr.cores_per_task;
        o["missed"] = jr.missed;
        o["feasible"] = jr.feasible;
        jobs.push_back(o);
    }
    return j.dump() + "\n";
}

std::string format_sim_table(const SimResult& r) {
    std::string out;
    char buf[256];
    std::snprintf(buf, sizeof buf, "scenario %s, policy %s, %.1f days simulated\n", r.scenario.c_str(),
                  to_string(r.policy), r.simulated_s / 86400);
    out += buf;
    std::snprintf(buf, sizeof buf, "%-16s %10s %10s %10s %9s %9s %9s %8s\n", "SITE", "HEAT kWh",
                  "USEFUL", "WASTED", "ERR C", "OVER C", "STARVED h", "FINAL C");
    out += buf;
    for (const auto& s : r.sites) {
        std::snprintf(buf, sizeof buf, "%-16s %10.1f %10.1f %10.1f %9.2f %9.2f %9.1f %8.1f\n",
                      s.name.c_str(), s.delivered_kwh, s.useful_kwh, s.wasted_kwh, s.mean_abs_error_c,
                      s.max_overshoot_c, s.starved_h, s.final_c);
        out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "heat delivered %.1f kWh, useful fraction %.3f, wasted %.1f kWh, gas CO2 displaced %.1f kg\n",
                  r.delivered_kwh, r.useful_fraction, r.wasted_kwh, r.gas_co2_kg);
    out += buf;
    std::snprintf(buf, sizeof buf, "setpoint error %.2f C mean, %.2f C max overshoot\n",
                  r.mean_abs_error_c, r.max_overshoot_c);
    out += buf;
    std::snprintf(buf, sizeof buf,
                  "tasks %llu/%llu done (%.1f core-hours), %llu requeued, deadline misses %u (%u "
                  "the grid could meet)\n",
                  static_cast<unsigned long long>(r.tasks_done),
                  static_cast<unsigned long long>(r.tasks_total), r.core_s / 3600.0,
                  static_cast<unsigned long long>(r.requeues), r.deadline_misses,
                  r.feasible_misses);
    out += buf;
    if (r.makespan_s >= 0)
        std::snprintf(buf, sizeof buf, "makespan %.2f h\n", r.makespan_s / 3600);
    else
        std::snprintf(buf, sizeof buf, "makespan: work left at the end of the run\n");
    out += buf;
    if (r.override_kwh > 0) {
        std::snprintf(buf, sizeof buf, "deadline overrides %.2f kWh, of which wasted %.2f kWh\n",
                      r.override_kwh, r.override_wasted_kwh);
        out += buf;
    }
    return out;
}

}  // namespace hearth
