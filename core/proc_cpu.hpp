#pragma once
// CPU time from /proc (under an FsRoot), the weights of dynamic attribution.
#include <sys/types.h>

#include <optional>

#include "fsroot.hpp"

namespace hearth {

// CPU seconds of a process tree: the root and its live descendants (found
// through /proc/PID/task/PID/children), each counting its own time and that
// of its children it has reaped. nullopt when the root is gone.
std::optional<double> tree_cpu_seconds(const FsRoot& fs, pid_t root);

// Busy and total CPU seconds of the whole node, from the "cpu" line of /proc/stat.
struct NodeCpu {
    double busy = 0;
    double total = 0;
};
std::optional<NodeCpu> node_cpu_seconds(const FsRoot& fs);

// Parses utime+stime+cutime+cstime (in clock ticks) from a /proc/PID/stat line.
std::optional<unsigned long long> parse_stat_ticks(const std::string& stat_line);

}  // namespace hearth
