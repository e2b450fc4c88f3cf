#pragma once
// Starting and stopping one task attempt's process. A task runs in its own
// process group, so a timeout or a cancel kills its whole tree with one kill().
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/task_confine.hpp"

namespace hearth {

struct SpawnRequest {
    std::vector<std::string> argv;
    std::string cwd;       // the attempt's scratch directory
    std::string log_path;  // stdout and stderr both go here
    // NAME=VALUE, the task's whole environment (core/task_env); the
    // worker's own when empty.
    std::vector<std::string> env;
    // Bytes of data (heap, anonymous mappings) the task may hold
    // (RLIMIT_DATA, inherited by its children); 0: no limit.
    std::uint64_t mem_limit = 0;
    const TaskConfinement* confine = nullptr;  // its tenant's user and cgroup (null: none)
};

struct Child {
    pid_t pid = -1;
    int pidfd = -1;  // readable when the process exits: poll() on it, no SIGCHLD games
};

// Throws Error with a one-line reason when the program cannot be started.
Child spawn_task(const SpawnRequest& req);

struct ExitInfo {
    bool exited = false;  // false: still running
    bool signalled = false;
    int code = 0;  // exit status, or signal number when signalled
    double cpu_s = 0;  // user + system CPU of the task and the children it reaped
};

// Reaps the child if it has ended (non-blocking).
ExitInfo try_reap(Child& child);
void kill_group(pid_t pgid, int sig);
// For the worker's SIGTERM handler (async-signal-safe): SIGKILL to every
// process of every task's cgroup, setsid() or not, then the cgroups are
// removed. Nothing when tasks have no cgroups.
void kill_all_tasks_signal_safe();

}  // namespace hearth
