#pragma once
// The throttle actuators (the contract is core/actuator.hpp) and the order
// they slow tasks in.
#include <memory>
#include <string>
#include <vector>

#include "core/actuator.hpp"
#include "core/clock.hpp"
#include "core/units.hpp"

namespace hearth {

// With PAPI counts, memory-bound tasks (low IPC) lose least when slowed:
// returns the tasks ordered best-to-throttle first (lowest IPC; unknown IPC
// after known ones; ties by pgid for determinism).
std::vector<ThrottleTask> throttle_order(std::vector<ThrottleTask> tasks);

// fsroot: "" for the real machine, a directory in tests (cgroup and powercap
// files are written under it). cpus: the CPUs the tasks may use.
std::unique_ptr<Actuator> make_cgroup_actuator(const std::string& fsroot, unsigned cpus);
// The same with the child cgroup named `child` instead of "hearth": agents
// sharing one kernel (test grids in network namespaces) must not share a quota.
std::unique_ptr<Actuator> make_cgroup_actuator(const std::string& fsroot, unsigned cpus,
                                               const std::string& child);
std::unique_ptr<Actuator> make_sigstop_actuator(std::shared_ptr<const Clock> clock,
                                                double period_s = 1.0);
std::unique_ptr<Actuator> make_powercap_actuator(const std::string& fsroot, Watts idle, Watts max);

}  // namespace hearth
