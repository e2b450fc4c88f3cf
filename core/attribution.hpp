#pragma once
// Who burnt the energy of one interval. Pure: the agent measures, this splits.
//
// dE is split into a static part, min(idle power x dt, dE), charged by
// reservation (cores x time each task held them; capacity nobody reserved goes
// to the house account, like a standing charge), and a dynamic part charged
// by work done (CPU time, or PAPI cycles when counted for every task), with the
// node's other work (daemons, the agent itself) charged to the house.
// Integer microjoules, largest-remainder rounding: tasks + house == dE exactly.
#include <cstdint>
#include <optional>
#include <vector>

#include "units.hpp"

namespace hearth {

struct TaskUsage {
    double reserved_core_s = 0;  // cores held x seconds held within the interval
    double work = 0;             // CPU seconds (or cycles) of the task's processes
    Microjoules gpu{};           // its GPUs' energy (NVML), charged to it whole
};

struct IntervalInput {
    Microjoules energy{};  // dE measured for the node
    double seconds = 0;    // dt
    Watts idle{};          // the node's idle power
    unsigned cores = 1;    // the node's capacity
    double house_work = 0; // CPU seconds (or cycles) of everything else on the node
    std::vector<TaskUsage> tasks;
    // A node meter with parts measured beside it (RAPL, GPUs): how much of
    // `energy` their counters explain (see split_node_meter). The rest, the
    // platform overhead (power supply, board, fans, disks), is charged like
    // the static part, by reservation; the idle power left after the
    // overhead is the parts' static part. nullopt: no parts, as before.
    std::optional<Microjoules> explained;
    // GPU energy of GPUs no task registered: the house's. With the tasks'
    // `gpu`, charged as measured (dynamic) before the rest is split; capped
    // at the parts' energy (the node meter is trusted).
    Microjoules gpu_house{};
};

struct TaskCharge {
    Microjoules static_part{};
    Microjoules dynamic_part{};
    Microjoules total() const { return static_part + dynamic_part; }
};

struct IntervalSplit {
    std::vector<TaskCharge> tasks;  // same order as the input
    Microjoules house_static{};
    Microjoules house_dynamic{};
    Microjoules house() const { return house_static + house_dynamic; }
};

// One interval of a node meter against the parts it holds: explained =
// min(parts, node), overhead = node - explained (never negative). A node
// meter reading less than its parts (exceeded) is trusted: the parts'
// counters cannot see the whole node, the meter can.
struct NodeParts {
    Microjoules explained{};
    Microjoules overhead{};
    bool exceeded = false;  // the parts read more than the node meter
};
NodeParts split_node_meter(Microjoules node, Microjoules parts);

// Throws std::invalid_argument for a negative, NaN or infinite in.seconds.
IntervalSplit attribute_interval(const IntervalInput& in);

// Splits total into parts proportional to weights, in whole units, summing to
// total exactly (exact integer arithmetic; largest remainder; ties go to the
// lower index). Negative and NaN weights count as 0; infinite weights share
// the total equally; all weights zero: everything to the last part; no
// weights: std::invalid_argument unless total is 0.
std::vector<std::uint64_t> split_largest_remainder(std::uint64_t total,
                                                   const std::vector<double>& weights);

}  // namespace hearth
