#pragma once
// What confines one task attempt, applied in its process between fork and
// exec (the spawn code's one hook): its tenant's user (core/task_identity)
// and its own cgroup (core/cgroup). Prepared in the worker, before the
// fork, so that the child only makes system calls.
#include "core/task_identity.hpp"

namespace hearth {

struct TaskConfinement {
    TaskIdentity identity;
    // The task's cgroup's cgroup.procs, opened for writing by the worker
    // (-1: none); the child writes itself into it first, so that every
    // process it ever starts is in the cgroup.
    int cgroup_procs_fd = -1;
};

// Where a confinement step failed, for the attempt's one-line reason.
enum class ConfineStep : int { none = 0, cgroup = 1, identity = 2 };
struct ConfineResult {
    ConfineStep step = ConfineStep::none;
    int error = 0;
};

// The hook: in the child, before exec. Async-signal-safe.
ConfineResult confine_in_child(const TaskConfinement& c, const IdentityOps& ops);

// "cannot put the task in its cgroup: Permission denied", for a failure.
std::string describe(const ConfineResult& r, const TaskConfinement& c);

}  // namespace hearth
