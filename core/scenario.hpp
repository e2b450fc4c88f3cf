#pragma once
// A `hearth sim` scenario (TOML, hearth-scenario(5)): a grid file, a start
// time, a duration and the jobs that arrive. Parsed and validated whole, like
// the grid file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/grid.hpp"

namespace hearth {

struct SimJob {
    std::string name;
    std::string tenant;
    double arrival_s = 0;   // from the scenario start
    std::uint64_t tasks = 0;
    double task_s = 0;      // time a task takes on one unthrottled slot
    double deadline_s = 0;  // after arrival; 0 = none
    bool urgent = false;
    std::int32_t priority = 0;  // within its tenant: higher first
    std::uint32_t cores_per_task = 1;  // slots (cores) each task holds
    std::uint64_t mem_per_task = 0;    // bytes each task needs free on its node (node `memory`)
    std::uint32_t gpus_per_task = 0;   // GPUs each task holds on its node (node `gpus`)
};

struct Scenario {
    std::string name;
    std::string description;
    // Its [[tenant]] table is the scenario's own when it has one (try shares
    // before setting them); when non-empty, every job's tenant is in it.
    Grid grid;
    std::int64_t start_unix = 0;  // UTC
    // Schedules are evaluated in UTC shifted by this: 0 for a scenario file;
    // the agent's try (core/sim_try) gives its site's local offset, as its
    // heat control evaluates them in local time.
    std::int64_t utc_offset_s = 0;
    double duration_s = 0;
    double step_s = 60;
    // The weather: replaces every room's and loop's outside temperature (a
    // grid file describes the sites; the scenario says what week it is).
    std::optional<Celsius> outside;
    // Fair-share usage decays with this half-life, as `hearth serve`'s does.
    double usage_half_life_s = 7 * 86400.0;
    std::vector<SimJob> jobs;  // recurring entries already expanded, by arrival
};

// base_dir resolves a relative `grid` path (the scenario file's directory).
Scenario parse_scenario(const std::string& toml_text, const std::string& origin,
                        const std::string& base_dir);
Scenario load_scenario(const std::string& path);


}  // namespace hearth
