#include "runner/mpi/task_groups.hpp"

#include <signal.h>
#include <unistd.h>

#include "runner/mpi/task_process.hpp"

namespace hearth {
namespace {

constexpr int k_max_groups = 4096;
volatile sig_atomic_t g_groups[k_max_groups];

}  // namespace

void track_group(pid_t pgid) {
    for (int i = 0; i < k_max_groups; ++i)
        if (g_groups[i] == 0) {
            g_groups[i] = pgid;
            break;
        }
}

void untrack_group(pid_t pgid) {
    // Tracked once (track_group takes the first free entry): no need to read
    // the rest of the table, a few microseconds a task.
    for (int i = 0; i < k_max_groups; ++i)
        if (g_groups[i] == pgid) {
            g_groups[i] = 0;
            break;
        }
}

void on_term(int sig) {
    for (int i = 0; i < k_max_groups; ++i)
        if (g_groups[i] > 0) ::kill(-static_cast<pid_t>(g_groups[i]), SIGKILL);
    kill_all_tasks_signal_safe();
    ::_exit(128 + sig);
}

}  // namespace hearth
