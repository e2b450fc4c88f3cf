#pragma once
// Contract of an energy source, implemented by the plugins/energy/ sources
// (hwmon, powercap, papi, model): where a node's energy comes from. In core/ so
// that the accountant, which consumes it, depends on no plugin. A source
// either reads a monotonic 64-bit energy total or says in one line why it
// cannot (PAPI's disabled_reason habit), so `auto` can pick the best one and
// `grid-agent --probe` can print the table.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/plugin_registry.hpp"
#include "core/units.hpp"

namespace hearth {

struct EnergyReading {
    Microjoules total{};                // monotonic since the source was opened
    bool estimated = false;             // a model, not a meter
    std::vector<std::string> warnings;  // one line each: a wrap glitch, a failed read...
    // A node meter read with its parts (RAPL, GPUs): the parts' own monotonic
    // total, which splits each interval's node energy into what they explain
    // and the platform overhead. nullopt: no parts.
    std::optional<Microjoules> parts;
    // Each GPU's own monotonic total (NVML index = position), so a task
    // registered with its GPUs carries their energy; empty: no GPU counters.
    std::vector<Microjoules> gpus;
};

class EnergySource {
public:
    virtual ~EnergySource() = default;
    virtual std::string name() const = 0;
    virtual bool estimated() const = 0;
    // What it reads, for the ledger's intervals ("power_meter energy1_input",
    // "package-0, dram"); "" when the name says it all.
    virtual std::string meter() const { return ""; }
    // Reads the counters now. A failed or implausible zone read contributes
    // nothing to this reading and adds a warning; sampling goes on.
    virtual EnergyReading read() = 0;
    // The longest interval between reads that keeps every counter unambiguous.
    virtual std::chrono::milliseconds max_interval() const = 0;
    // The node's maximum power as far as the source knows (0 if unknown).
    virtual Watts max_power() const = 0;
    // GPUs whose energy read() gives per GPU (indices 0..n-1); 0: none.
    virtual unsigned gpu_count() const { return 0; }
    // What the source needs to pick up where a previous process left off
    // (raw counter values), saved with every ledger commit; "" if nothing.
    virtual std::string checkpoint() const { return ""; }
    // Continues from a checkpoint taken elapsed_s ago: the next read() then
    // includes the energy used since, so a restart loses nothing the counters
    // still hold. Sources without counters ignore it.
    virtual void resume(const std::string& checkpoint, double elapsed_s) {
        (void)checkpoint;
        (void)elapsed_s;
    }
};

}  // namespace hearth
