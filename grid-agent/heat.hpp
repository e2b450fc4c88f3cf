#pragma once
// The agent's heat loop: glue between the site's heat source, the pure
// controller (core/heat_control) and the node's throttle actuators. It also
// counts the heat this node delivered (all its electricity ends up as heat
// in the site) and whether the site wanted it, by UTC day and month.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/actuator.hpp"
#include "core/clock.hpp"
#include "core/grid.hpp"
#include "core/heat_control.hpp"
#include "core/heat_source.hpp"
#include "core/schedule.hpp"
#include "core/sim_try.hpp"

namespace hearth {

// What the worker on this node may do now (the socket's "budget" op).
struct HeatBudget {
    std::uint32_t slots = 0;          // task slots it may fill
    std::uint32_t slots_total = 0;
    HeatMode mode = HeatMode::open;   // stop: hand running tasks back
    double fraction = 1;
    double waste = 0;  // K above the bottom of the band (dispatch: least waste first)
};

class HeatControl {
public:
    // continuous: an actuator throttles power between whole slots, so the
    // worker may start ceil(fraction x slots) tasks; without one it rounds.
    HeatControl(Site site, GridNode node, std::unique_ptr<HeatSource> source,
                std::vector<std::unique_ptr<Actuator>> actuators, std::vector<std::string> notes,
                std::shared_ptr<const Clock> clock);
    ~HeatControl();

    // Every committed interval: the node's energy heated the site.
    void on_interval(std::uint64_t energy_uj, double seconds);
    // One control step, with the tasks running now (their process groups).
    void control(double dt_s, const std::vector<ThrottleTask>& tasks);
    // Between steps (duty cycling).
    void tick();

    HeatBudget budget() const;
    const Site& site() const { return m_site; }  // fixed after construction
    // Temperature now (nullopt without a reading) and target now, for history.
    std::optional<double> measured() const;
    double target() const;
    // What the control follows now (override, schedule, grid file's target),
    // for POST /v1/heat/try's "today's plan".
    HeatPlan plan() const;
    nlohmann::json to_json(double power_w) const;

    // The facility manager's changes; usage_error (nothing changed) when refused.
    void set_target(double celsius, std::optional<std::int64_t> until_unix);
    void set_schedule(const std::string& spec);
    void set_measured(double celsius);

    // Accumulators and overrides, saved with every ledger commit so a restart
    // loses neither the day's heat nor a target a manager set.
    std::string checkpoint() const;
    void restore(const std::string& text);

private:
    double target_now(std::int64_t unix_s) const;  // m_mu held
    void roll_periods(std::int64_t unix_s);        // m_mu held

    mutable std::mutex m_mu;
    Site m_site;
    GridNode m_node;
    std::unique_ptr<HeatSource> m_source;
    std::vector<std::unique_ptr<Actuator>> m_actuators;
    std::vector<std::string> m_notes;  // actuators not used, and why
    std::shared_ptr<const Clock> m_clock;

    ControllerState m_state;
    // Until the first control step there is no reading: safe mode (no
    // slots), as the controller decides without one. It was "open, every
    // slot": a worker asking in the first moments after an agent (re)start
    // could fill every slot of a site that wants no heat (the shared-grid
    // test's budget sampler caught one).
    ControlDecision m_decision{HeatMode::safe, 0.0};
    HeatReading m_reading;
    double m_target = 0;
    std::optional<double> m_override;
    std::optional<std::int64_t> m_override_until;
    std::optional<Schedule> m_schedule;
    std::string m_schedule_text;

    std::string m_day, m_month;  // "2026-11-22", "2026-11"
    double m_day_j = 0, m_day_useful_j = 0, m_month_j = 0, m_month_useful_j = 0;
};

}  // namespace hearth
