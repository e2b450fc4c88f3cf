#pragma once
// The seam for per-task hardware work counters (CPU cycles, from PAPI where
// the node counts them). When every running task is counted, dynamic energy
// is split by cycles rather than CPU time: a memory-bound task that stalls
// burns less per second of CPU than one that keeps the core's units busy.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace hearth {

class CycleMeter {
public:
    virtual ~CycleMeter() = default;
    // Starts counting a task's process; false (see why_not) when it cannot.
    virtual bool attach(std::uint64_t id, pid_t pid) = 0;
    // Cycles counted since attach; nullopt once the count is lost.
    virtual std::optional<double> cycles(std::uint64_t id) = 0;
    virtual void detach(std::uint64_t id) = 0;
    virtual std::string why_not() const = 0;
};

}  // namespace hearth
