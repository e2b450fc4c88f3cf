#pragma once
// CPU time from /proc (under an FsRoot), the weights of dynamic attribution.
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "fsroot.hpp"

namespace hearth {

// CPU seconds of a process tree: the root and its live descendants (found
// through /proc/PID/task/PID/children), each counting its own time and that
// of its children it has reaped. nullopt when the root is gone.
// files: open /proc files kept between calls (path -> fd), or null; entries
// of processes that are gone are closed and dropped.
class ProcFiles {
public:
    ~ProcFiles();
    ReadResult read(const FsRoot& fs, const std::string& abs,
                    std::size_t limit = static_cast<std::size_t>(-1));
    // Closes the files not read since the last sweep (processes gone).
    void sweep();

private:
    struct Entry {
        int fd = -1;
        bool used = false;
    };
    std::map<std::string, Entry> m_files;
};

std::optional<double> tree_cpu_seconds(const FsRoot& fs, pid_t root, ProcFiles* files = nullptr);

// Busy and total CPU seconds of the whole node, from the "cpu" line of /proc/stat.
struct NodeCpu {
    double busy = 0;
    double total = 0;
};
std::optional<NodeCpu> node_cpu_seconds(const FsRoot& fs, ProcFiles* files = nullptr);

}  // namespace hearth
