#pragma once
// The operator's overview of the grid (GET /v1/overview, the Jobs view):
// grid power, heat today and this week, the useful share, the gas CO2 the
// useful heat displaced, each site's state with those in alarm first, and a
// chart of the week. Made from what sites report to the scheduler: each
// attempt's energy (in its result) and each site's requests (when it last
// asked, its lease, its nodes up or down). Pure: the scheduler gathers the
// inputs (core/sched_reads.cpp).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth {

// An attempt that ended, with the energy its site metered for it.
struct AttemptEnergy {
    std::string site;
    std::int64_t ended_ms = 0;
    std::uint64_t energy_uj = 0;
    bool overridden = false;  // ran past its node's heat budget: its heat was not wanted
};

// A site of the grid file as the scheduler sees it through its requests.
struct SiteSeen {
    std::string name;
    std::int64_t last_ms = 0;  // its last request; 0: never asked
    std::int64_t lease_expires_ms = 0;
    std::uint32_t slots = 0, running = 0;
    std::vector<std::string> down;  // nodes it reported down
};

struct SiteOverview {
    std::string name;
    bool alarm = false;
    std::string reason;  // why it is in alarm
    std::uint32_t slots = 0, running = 0;
    std::int64_t last_ms = 0;
    double heat_today_kwh = 0;
};

struct DayHeat {
    std::int64_t day_ms = 0;  // the UTC day's midnight
    double kwh = 0, useful_kwh = 0;
};

struct GridOverview {
    std::int64_t now_ms = 0;
    double power_w =
        0;  // energy of the attempts that ended in the last 10 minutes, over those minutes
    double heat_today_kwh = 0, heat_week_kwh = 0;
    double useful_share =
        0;  // of the week's heat, that of attempts within their heat budgets (0 with none)
    double gas_co2_kg_week = 0;  // the useful heat times the grid file's gas_kgco2_per_kwh
    double gas_kgco2_per_kwh = 0;
    std::vector<SiteOverview> sites;  // in alarm first, then by name
    std::vector<DayHeat> week;        // 7 UTC days, oldest first, today last
};

inline constexpr std::int64_t k_overview_power_window_ms = 10 * 60 * 1000;

// attempts: those that ended since the week began (older ones are ignored).
GridOverview make_overview(const std::vector<AttemptEnergy>& attempts,
                           const std::vector<SiteSeen>& sites, std::int64_t now_ms,
                           double gas_kgco2_per_kwh);
// The first millisecond of the overview's week (six UTC days before today's midnight).
std::int64_t overview_week_start_ms(std::int64_t now_ms);

nlohmann::json to_json(const GridOverview& o);

}  // namespace hearth
