#pragma once
// CPU time from /proc (under an FsRoot), the weights of dynamic attribution.
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fsroot.hpp"

namespace hearth {

// The /proc files the agent reads every interval, kept open between
// intervals (one pread each, no open or close) with one reused buffer: for
// each process of the tasks' trees its stat and children files, and
// /proc/stat. Processes gone since the last sweep are closed and dropped.
class ProcFiles {
public:
    // The current content of /proc/PID/stat or /proc/PID/task/PID/children
    // into text (0 or an errno, as FsRoot::reread_into).
    int read_stat(const FsRoot& fs, pid_t pid, std::string& text);
    int read_children(const FsRoot& fs, pid_t pid, std::string& text);
    // The head of /proc/stat (the aggregate line comes first).
    int read_proc_stat(const FsRoot& fs, std::string& text);
    // Closes the files of processes not read since the last sweep.
    void sweep();
    // Scratch space for the readers below, kept to spare allocations.
    std::string& buffer() { return m_buf; }
    std::vector<pid_t>& todo() { return m_todo; }

private:
    struct PidFiles {
        KeptFile stat, children;
        bool used = false;
    };
    PidFiles& of(pid_t pid);

    std::map<pid_t, PidFiles> m_pids;
    KeptFile m_proc_stat{"/proc/stat"};
    std::string m_buf;
    std::vector<pid_t> m_todo;
};

// CPU seconds of a process tree: the root and its live descendants (found
// through /proc/PID/task/PID/children), each counting its own time and that
// of its children it has reaped. nullopt when the root is gone.
// files: the open files kept between calls, or null (each file opened once).
std::optional<double> tree_cpu_seconds(const FsRoot& fs, pid_t root, ProcFiles* files = nullptr);

// Busy and total CPU seconds of the whole node, from the "cpu" line of /proc/stat.
struct NodeCpu {
    double busy = 0;
    double total = 0;
};
std::optional<NodeCpu> node_cpu_seconds(const FsRoot& fs, ProcFiles* files = nullptr);

}  // namespace hearth
