#pragma once
// energy/hwmon: node power meters under <fsroot>/sys/class/hwmon. A node
// meter measures what the board draws (the ACPI power_meter of a server's
// BMC or PSU), so it is what becomes heat, where RAPL sees CPU and DRAM only.
//
// Devices are picked by their `name` and their attributes, not their index:
// - energy1_input (microjoules, cumulative): a counter, preferred. The hwmon
//   ABI gives no wrap point: a value below the previous one is taken as one
//   wrap at 2^32 uJ when the previous fitted in 32 bits (else at 2^63, the
//   kernel's long long), and rejected as a reset when that implies more than
//   twice the meter's maximum power.
// - power1_average (microwatts, averaged over power1_average_interval ms) or
//   else power1_input: instantaneous power, integrated between reads (each
//   read's power times the time since the previous one). Not a counter: a
//   restart cannot recover what the agent did not see.
// Devices measuring one part (a GPU, a CPU's cores) are not node meters.
// Attributes are looked for in hwmonN/ and, for older kernels, hwmonN/device/.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "core/fsroot.hpp"

namespace hearth {

struct HwmonMeter {
    std::string dir;       // where the attributes are, e.g. /sys/class/hwmon/hwmon3/device
    std::string name;      // power_meter
    bool counter = false;  // energy1_input; else power (file below)
    std::string file;      // energy1_input, power1_average or power1_input
    std::uint64_t average_interval_ms = 0;  // power1_average_interval, 0 if none
    Watts max_power{};  // the node's (grid file), else power1_cap_max, else a default
};

// The meters to use (all node meters found: two PSUs are two meters, summed),
// or none with why_not (one line, with the fix). Pure over the FsRoot.
// node_max: the node's maximum power as configured (0: unknown), which the
// plausibility checks use before the meter's own cap.
std::vector<HwmonMeter> find_hwmon_meters(const FsRoot& fs, std::string& why_not,
                                          Watts node_max = {});

ProbeResult probe_hwmon(const FsRoot& fs, Watts node_max = {});

class HwmonSource final : public EnergySource {
public:
    // Throws Error (with probe's reason) when no meter is usable.
    HwmonSource(std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
                Watts node_max = {});
    std::string name() const override { return "hwmon"; }
    bool estimated() const override { return false; }
    std::string meter() const override;
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override;
    Watts max_power() const override;
    // "dir=raw;...": each counter's last good reading (power meters have none).
    std::string checkpoint() const override;
    void resume(const std::string& checkpoint, double elapsed_s) override;
    const std::vector<HwmonMeter>& meters() const { return m_meters; }

private:
    struct MeterState {
        bool have_prev = false;
        std::uint64_t prev_raw = 0;  // counter: last reading
        Clock::TimePoint prev_time{};
        double carry_uj = 0;  // power: the fraction of a microjoule not yet counted
        bool warned = false;  // since the meter last read fine
        KeptFile file;        // the meter's file, kept open: one pread an interval
    };
    std::shared_ptr<const FsRoot> m_fs;
    std::shared_ptr<const Clock> m_clock;
    std::vector<HwmonMeter> m_meters;
    std::vector<MeterState> m_state;
    Microjoules m_total{};
    std::string m_text;  // read buffer, reused
};

}  // namespace hearth
