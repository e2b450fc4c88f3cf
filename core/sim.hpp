#pragma once
// `hearth sim`: the real heat controller and scheduling policy (one call of
// core/sched_policy's schedule() a step, the function `hearth serve` calls)
// run against simulated sites (core/thermal), nodes, tenants and job
// arrivals in virtual time: no sleeping, no processes. Facility managers try a schedule here before
// applying it; the benchmark measures heat-aware against unaware dispatch.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/sched_policy.hpp"

namespace hearth {

enum class SimPolicy { heat_aware, unaware };
const char* to_string(SimPolicy p);
SimPolicy parse_policy(const std::string& s);  // usage_error for unknown names

struct SiteResult {
    std::string name;
    double node_kwh = 0;       // what the site's nodes drew
    double delivered_kwh = 0;  // the heat of it the site received (its recovery)
    double useful_kwh = 0;   // delivered while the site was below target + band
    double wasted_kwh = 0;   // delivered while at or above target + band
    double dumped_kwh = 0;   // heat the site had to reject at its hard maximum
    double mean_abs_error_c = 0;  // while settled (see SimResult)
    double max_overshoot_c = 0;   // highest T - target, but for cool-downs after a target cut
    double settled_h = 0;         // hours the error was measured over
    double starved_h = 0;         // hours below target that the grid could not heat more
    double final_c = 0;
};

struct JobResult {
    std::string name;
    std::uint64_t done = 0, tasks = 0;
    double arrival_s = 0, finish_s = -1;  // -1: not finished in the run
    double deadline_s = 0;                // absolute, 0 = none
    bool urgent = false;
    bool missed = false;    // a deadline (or the end of the run, for urgent work) was missed
    bool feasible = true;   // the whole grid, all slots from arrival, could meet it
    std::uint32_t cores_per_task = 1;  // slots each of its tasks held
};

// A traced site's state, sampled for `hearth sim --plot`: temperatures at
// the sample's instant, powers as means over the interval that ends there
// (so that they integrate to the result's kWh), starved hours cumulative.
struct SimSample {
    double t_s = 0;        // from the scenario start
    double temp_c = 0;
    double target_c = 0;
    double power_w = 0;     // the site's nodes, mean over the interval
    double override_w = 0;  // of which slots opened past the heat budget for deadlines
    double starved_h = 0;   // since the start
};

struct SiteSeries {
    std::size_t site = 0;  // into the grid's sites
    std::vector<SimSample> samples;  // the first at t = 0 (its powers 0: no interval yet)
};

// Which sites simulate() samples, every how many steps. Empty by default:
// tracing costs nothing unless asked for (bench-sim runs without it).
struct SimTrace {
    std::vector<std::size_t> sites;  // into the grid's sites
    std::uint32_t every_steps = 1;
    // Each call of the policy, its input and its grants: how a test holds
    // the simulator's decisions against `hearth serve`'s on the same queue.
    std::function<void(const PolicyInput&, const std::vector<Grant>&)> on_decision;
};

struct SimResult {
    std::string scenario;
    SimPolicy policy = SimPolicy::heat_aware;
    double simulated_s = 0;
    std::uint64_t steps = 0;
    std::vector<SiteResult> sites;
    std::vector<JobResult> jobs;
    // Totals. The setpoint error is measured while a site is "settled": from
    // the first time it enters its band after a target change (the heat-up
    // or cool-down itself is physics, not control error), excluding time it
    // sat below target while the grid could not heat it more (no work for
    // its budgeted slots, or the budget already wide open).
    double delivered_kwh = 0, useful_kwh = 0, wasted_kwh = 0;
    double useful_fraction = 0;
    double mean_abs_error_c = 0;
    double max_overshoot_c = 0;
    std::uint64_t tasks_total = 0, tasks_done = 0, requeues = 0;
    double core_s = 0;  // core-seconds of the tasks done (a task of N cores counts N)
    std::uint32_t deadline_misses = 0, feasible_misses = 0;
    double makespan_s = -1;  // first arrival to last completion; -1 if work was left
    double override_kwh = 0;        // energy of slots opened past the heat budget for deadlines
    double override_wasted_kwh = 0; // ... of which delivered where heat was not wanted
    double gas_co2_kg = 0;          // CO2 of the gas the useful heat displaced
    std::vector<SiteSeries> series;  // one per SimTrace site, in its order
};

SimResult simulate(const Scenario& sc, SimPolicy policy, const SimTrace& trace = {});

// Human table and JSON (stable key order) of a result.
std::string format_sim_table(const SimResult& r);
std::string format_sim_json(const SimResult& r);

}  // namespace hearth
