#pragma once
// The process groups of a worker's running tasks, for its SIGTERM handler:
// when mpirun tears the job down (or a site is relaunched), the tasks (in
// their own groups) must go with the worker, and so must what left the group
// with setsid(): their cgroups are killed and removed.
#include <sys/types.h>

namespace hearth {

// Kept for the handler (async-signal-safe); silently not kept past 4096.
void track_group(pid_t pgid);
void untrack_group(pid_t pgid);

// The handler for SIGTERM and SIGINT: SIGKILL to every tracked group and
// every task's cgroup, then _exit(128 + sig).
void on_term(int sig);

}  // namespace hearth
