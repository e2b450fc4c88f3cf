#pragma once
// energy/powercap: RAPL zones under <fsroot>/sys/class/powercap.
// Zones are picked by their `name` file, not their index: psys (the whole
// platform) alone when present; otherwise every package-N plus dram. Sub-zones
// (core, uncore) are inside their package and intel-rapl-mmio twins duplicate
// it: neither is added. Each zone's energy_uj wraps at max_energy_range_uj;
// deltas are accumulated in 64 bits and a delta implying more than twice the
// zone's max power is rejected as a glitch.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "core/fsroot.hpp"

namespace hearth {

struct PowercapZone {
    std::string dir;   // e.g. /sys/class/powercap/intel-rapl:0
    std::string name;  // package-0, dram, psys
    std::uint64_t max_range_uj = 0;
    Watts max_power{};  // from constraint_0_max_power_uw, or a default per domain
};

// Finds the zones to use; fills why_not (one line, with the fix) when none is
// readable: absent tree, EACCES on energy_uj (root-only since CVE-2020-8694),
// ... Pure over the FsRoot.
std::vector<PowercapZone> find_powercap_zones(const FsRoot& fs, std::string& why_not);

ProbeResult probe_powercap(const FsRoot& fs);

class PowercapSource final : public EnergySource {
public:
    // Throws Error (with probe's reason) when no zone is usable.
    PowercapSource(std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock);
    std::string name() const override { return "powercap"; }
    bool estimated() const override { return false; }
    std::string meter() const override;
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override;
    Watts max_power() const override;
    // "dir=raw;dir=raw": each zone's last good raw reading.
    std::string checkpoint() const override;
    void resume(const std::string& checkpoint, double elapsed_s) override;
    const std::vector<PowercapZone>& zones() const { return m_zones; }

private:
    struct ZoneState {
        bool have_prev = false;
        std::uint64_t prev_raw = 0;
        Clock::TimePoint prev_time{};
        std::uint64_t warned = 0;  // kinds of warning given since the zone last read fine
        KeptFile energy;           // energy_uj, kept open: one pread an interval
    };
    std::shared_ptr<const FsRoot> m_fs;
    std::shared_ptr<const Clock> m_clock;
    std::vector<PowercapZone> m_zones;
    std::vector<ZoneState> m_state;
    Microjoules m_total{};
    std::string m_text;  // read buffer, reused
};

}  // namespace hearth
