#pragma once
// The throttle setting of the agent: "slots" (no actuator beyond the slot
// count), "auto" (the highest-priority actuator that can run here), or an
// actuator's name from the registry.
#include <memory>
#include <string>
#include <vector>

#include "core/actuator.hpp"
#include "core/clock.hpp"
#include "core/grid.hpp"
#include "core/plugin_registry.hpp"

namespace hearth {

// What the actuators are built with. fsroot: "" for the real machine, a
// directory in tests. cpus: the CPUs the tasks may use.
struct ThrottleContext {
    std::string fsroot;
    GridNode node;
    unsigned cpus = 1;
    std::shared_ptr<const Clock> clock;
};
using ThrottleRegistry = PluginRegistry<Actuator, ThrottleContext>;
const ThrottleRegistry& throttle_actuators();

// "auto", "slots" and the actuators' names, for --help and errors.
std::vector<std::string> throttle_names();

// For `grid-agent --probe`: every registered actuator, whether it can run
// here, and what it would hold (or why not).
std::vector<ProbeResult> probe_actuators(const ThrottleContext& ctx);

// Builds the actuators `setting` names; notes receives why the others were
// not used. usage_error for an unknown name or a named one that cannot run.
std::vector<std::unique_ptr<Actuator>> make_actuators(const std::string& setting,
                                                      const ThrottleContext& ctx,
                                                      std::vector<std::string>& notes);

}  // namespace hearth
