#pragma once
// The throttle contract, implemented by the plugins/throttle/ actuators
// ("cgroup", "sigstop", "powercap"; "slots" needs none): the agent's
// controller turns a site's heat deficit into a power budget, expressed to
// actuators as a fraction of the node's dynamic power range (0 = idle only,
// 1 = no limit). Each actuator says in one line why it cannot run on this
// node (PAPI's disabled_reason habit), and the agent uses the ones that can.
// In core/ so that what consumes it depends on no plugin.
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"

namespace hearth {

struct ThrottleTask {
    // A constructor, so that {pgid, ipc} still reads as before.
    ThrottleTask(pid_t pgid_ = 0, double ipc_ = -1, std::string cgroup_ = {},
                 bool cgroup_v2_ = true)
        : pgid(pgid_), ipc(ipc_), cgroup(std::move(cgroup_)), cgroup_v2(cgroup_v2_) {}
    pid_t pgid = 0;   // the task's process group (the worker makes one per task)
    double ipc = -1;  // instructions per cycle where PAPI counts, else -1
    // The task's own cgroup (core/cgroup), a path to open (any fsroot
    // applied), "" when it has none: then the actuators act on every
    // process in it, those that left the group with setsid() too.
    std::string cgroup;
    bool cgroup_v2 = true;
};

class Actuator {
public:
    virtual ~Actuator() = default;
    virtual std::string name() const = 0;
    // nullopt when usable; else why not and how to fix it, in one line.
    virtual std::optional<std::string> unavailable() const = 0;
    // fraction in [0, 1] of the dynamic power the node may use; the tasks
    // running now. Called on every control step (and when tasks change).
    virtual void apply(double fraction, const std::vector<ThrottleTask>& tasks) = 0;
    // For duty cycling: called often (every ~100 ms) between control steps.
    virtual void tick(Clock::TimePoint /*now*/) {}
    // Undo everything (resume stopped tasks, lift quotas and limits).
    virtual void release() = 0;
    // What is in force now, for /v1/node and logs ("quota 45% of 2 CPUs").
    virtual std::string state() const = 0;
};

}  // namespace hearth
