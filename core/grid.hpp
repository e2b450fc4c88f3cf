#pragma once
// The grid file (TOML, hearth-grid(5)): the sites with their heat targets,
// safety bounds, heat source and thermal parameters, the nodes with their
// site, host, slots and agent, and the tenants with their shares. Parsing is pure (text in, Grid out) and
// validates everything before anything is used: a bad file is refused as a
// whole with one line naming the file, the entry, the key and the fix.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace hearth {

enum class SiteKind { tank, room, loop };
const char* to_string(SiteKind k);

// Nothing outside these is ever accepted as a target or bound, whatever a
// site's own bounds say (Legionella below, scalding and boiling above).
inline constexpr Celsius k_hard_min{5.0};
inline constexpr Celsius k_hard_max{85.0};

// What a site does when its heat feed is stale or garbage.
enum class SafeMode { min_power, hold };
const char* to_string(SafeMode m);

// The heat source types a grid file may name ("static", "http", ...). The
// grid file is read here, before any plugin is chosen; plugins/heat registers
// one plugin of each name (tests/unit/test_plugin_docs holds them equal).
const std::vector<std::string>& heat_source_types();

struct HeatSourceSpec {
    std::string type = "static";  // one of heat_source_types()
    // static: the measured temperature until the API sets one (nullopt: none yet)
    std::optional<Celsius> measured;
    // http
    std::string url;
    double timeout_s = 2.0;
    double poll_s = 10.0;
    double stale_after_s = 60.0;
    std::string measured_field = "measured";  // JSON member (dots for nesting: "tank.top")
    std::string target_field;                 // "" = the feed does not set targets
    SafeMode safe_mode = SafeMode::min_power;
};

// A period of the day with a constant hot-water draw (tank) or extra loss.
struct DrawPeriod {
    int start_s = 0;  // seconds since midnight, [0, 86400)
    int end_s = 0;    // (start_s, 86400]
    Watts power;      // heat taken out while it lasts
};

struct ThermalParams {
    // tank: C = volume * 4186 J/(L K); loss = standing loss in W/K to ambient
    double volume_litres = 200;
    double loss_w_per_k = 2.0;
    Celsius ambient{18};
    std::vector<DrawPeriod> draw;
    // room and loop: C dT/dt = P - (T - T_out)/R
    double capacity_j_per_k = 5e6;
    double resistance_k_per_w = 0.01;
    Celsius outside{5};
    // where a simulation starts
    Celsius initial{20};
};

struct Site {
    std::string name;
    SiteKind kind = SiteKind::tank;
    Celsius target{60};
    Celsius min{k_hard_min};  // targets outside [min, max] are refused
    Celsius max{k_hard_max};  // above it tasks are stopped and requeued
    double band = 1.0;        // deadband half-width, K, (0, 10]
    // The share of the node's energy the site receives as heat: 1.0 with the
    // node inside the tank's or room's envelope; less where the power
    // supply or the rack loses some to a room that is not heated. [0.5, 1.0]
    double recovery = 1.0;
    std::string schedule;     // "" or a schedule spec (core/schedule.hpp)
    HeatSourceSpec source;
    ThermalParams thermal;
};

// Below this a site is mostly a data centre: Hearth is not the tool.
inline constexpr double k_min_recovery = 0.5;

// Heat delivered to a site from the node energy (or power) that produced it:
// the one place the rule lives, for the agent's heat accounts and its
// simulated sites, the dashboard and `hearth heat show` (which read those)
// and `hearth sim`.
constexpr double heat_delivered(const Site& site, double node_energy) {
    return node_energy * site.recovery;
}
constexpr Watts heat_delivered(const Site& site, Watts node_power) {
    return Watts{node_power.value * site.recovery};
}

struct GridNode {
    std::string name;
    std::string site;
    std::string host;  // default: name
    std::uint32_t slots = 1;  // its cores: a task of N cores holds N of them
    // Bytes tasks may use there ("64G"); 0: not said (no check at submit).
    std::uint64_t memory = 0;
    // Its GPUs for tasks (`gpus = 2`); unset: what the node's agent reads
    // through NVML, else none.
    std::optional<std::uint32_t> gpus;
    std::string agent;  // default: http://HOST:9750
    Watts idle{20};
    Watts max{120};
};

// A tenant of the shared grid ([[tenant]]): its weight in the scheduler's
// fair share (core/sched_policy) and its limits.
struct TenantSpec {
    std::string name;              // [a-z0-9_-], 1-64
    double share = 1;              // (0, 1e6]: relative weight
    std::uint32_t max_running = 0; // slots at once; 0 = no limit
    std::string user;              // "" or the Unix user its tasks run as on shared nodes
};

inline constexpr double k_max_tenant_share = 1e6;

struct Grid {
    std::vector<Site> sites;
    std::vector<GridNode> nodes;
    std::vector<TenantSpec> tenants;  // empty: no table, every tenant an equal share
    double gas_kgco2_per_kwh = 0.2;  // carbon of the gas heat a kWh delivered displaces
    const Site* find_site(const std::string& name) const;  // null when unknown
    const GridNode* find_node(const std::string& name) const;
    const TenantSpec* find_tenant(const std::string& name) const;
};

// origin names the text in messages (usually the file path).
Grid parse_grid(const std::string& toml_text, const std::string& origin);
Grid load_grid(const std::string& path);  // usage_error if unreadable

// The [[tenant]] entries of a TOML document, checked as the grid file's are
// (file:line, the fix); its other keys are ignored. A `hearth sim` scenario
// may carry its own tenant table with this.
std::vector<TenantSpec> parse_tenant_table(const std::string& toml_text, const std::string& origin);

// Names become file names, URL parts and SQL parameters: [A-Za-z0-9._-],
// 1-64 characters, not starting with '.' or '-'.
bool is_safe_name(const std::string& s);
// A tenant's name: 1-64 of a-z, 0-9, '_' and '-'.
bool is_tenant_name(const std::string& s);

// Refuses (usage_error naming the site, its bounds and the fix) a target
// that is not finite or is outside the site's [min, max].
void check_target(const Site& site, double celsius);

}  // namespace hearth
