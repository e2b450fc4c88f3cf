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
    // User + system CPU of the task and the children it reaped; its cgroup's
    // since the task started in it, every process counted, when larger.
    double cpu_s = 0;
};

// Reaps the child if it has ended (non-blocking). Its cgroup stays until
// release_task_cgroup.
ExitInfo try_reap(Child& child);
// The attempt of the task whose pid this was is settled (the agent has had
// its last figure): its cgroup takes a later task when empty and reuse is
// true, else it is removed. reuse false: a reading may still come (the
// agent was away), which must not see another task's CPU.
void release_task_cgroup(pid_t pid, bool reuse);
void kill_group(pid_t pgid, int sig);
// For the worker's SIGTERM handler (async-signal-safe): SIGKILL to every
// process of every task's cgroup, setsid() or not, then the cgroups are
// removed. Nothing when tasks have no cgroups.
void kill_all_tasks_signal_safe();

}  // namespace hearth
