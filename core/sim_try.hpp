#pragma once
// "Try a target or schedule" (POST /v1/heat/try, the dashboard's site page):
// the simulation `hearth sim` runs (core/sim), of one site from its state now,
// for the next day or week, under a proposed target or schedule. This is the
// glue from the agent's state to the simulator's input and from its result
// to the JSON answer; pure, so the unit tests hold it without an agent.
//
// The site is the grid file's (thermal model, bounds, nodes). It starts at
// the temperature measured now (else the last one in the history). Work is
// what the recent history says the node had: the share of the slots the
// heat budget allowed that were busy, held as a steady backlog capped at
// that share of the site's slots (a tenant's max_running), so the real
// scheduling policy and heat controller decide the rest.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api_request.hpp"
#include "core/grid.hpp"
#include "core/history.hpp"
#include "core/scenario.hpp"
#include "core/schedule.hpp"

namespace hearth {

// What the site's heat control follows now ("today's plan"): a one-off
// target set by hand (until a time, or for good), else its schedule, else
// the grid file's target. A heat feed's own target is not part of a plan.
struct HeatPlan {
    double base_target = 0;
    std::optional<Schedule> schedule;
    std::optional<double> override_c;
    std::optional<std::int64_t> override_until;  // unix s
    double target_at(std::int64_t unix_s, std::int64_t utc_offset_s) const;
};

struct TryState {
    std::int64_t now_unix = 0;
    std::int64_t utc_offset_s = 0;  // the site's local time, for schedules
    std::optional<double> measured;
    HeatPlan plan;
    std::vector<HistoryPoint> recent;  // this node's, oldest first
};

// The share of the slots the budget allowed that had work, from a node's
// history: its power above idle as busy slots, over the slots allowed.
// nullopt when no point had a slot allowed (nothing to tell).
std::optional<double> work_share(const GridNode& node, const std::vector<HistoryPoint>& recent);

struct TrySetup {
    Scenario scenario;  // one site, its nodes, one tenant with the backlog
    double start_c = 0;
    std::string start_from;  // "measured now" or "history"
    double work = 0;
    std::string work_from;          // "request", "history" or "none" (no history: all slots)
    std::uint32_t every_steps = 1;  // samples every so many 60 s steps
};
// usage_error for an unknown site, conflict_error (409) when the site has no
// temperature to start from.
TrySetup try_setup(const Grid& grid, const std::string& site, const GridNode& node,
                   const TryState& state, const TryRequest& req);

struct TryPoint {
    std::int64_t t_ms = 0;
    double temp_c = 0;  // predicted
    // Targets in force over the simulator's step that ends at t_ms (at the
    // first point: at the start).
    double target_c = 0;  // the proposal's
    double plan_c = 0;    // today's plan's
    double power_w = 0;   // the site's nodes, mean over the interval ending here
};

struct TryResult {
    std::string site;
    int horizon_h = 24;
    TryRequest request;
    TrySetup setup;
    std::vector<TryPoint> points;
    double delivered_kwh = 0, useful_kwh = 0;
    double mean_abs_error_c = 0, max_overshoot_c = 0, starved_h = 0;
    double min_c = 0, max_c = 0, final_c = 0;
};

// Runs the simulation (core/sim, heat-aware) for the request.
TryResult run_try(const Grid& grid, const std::string& site, const GridNode& node,
                  const TryState& state, const TryRequest& req);
nlohmann::json try_json(const TryResult& r);

}  // namespace hearth
