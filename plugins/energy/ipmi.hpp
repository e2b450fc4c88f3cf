#pragma once
// energy/ipmi: the node's power from its BMC's DCMI power reading, through
// ipmitool (`ipmitool dcmi power reading`) or FreeIPMI (`ipmi-dcmi
// --get-system-power-statistics`): in-band through /dev/ipmi0, or over the
// BMC's LAN interface (lanplus, IPMI 2.0) with the user and password from a
// credentials file (user:password, mode 0600).
//
// DCMI gives instantaneous watts, not an energy counter: the source holds
// the latest reading and integrates it between samples; while the BMC fails
// nothing is counted, and its next good reading covers the span. A restart cannot
// recover what the agent did not see, and a node whose power changes faster
// than the BMC samples is followed only as well as the BMC follows it.
// The tool runs on a thread of its own (Poller) about once a second, so a
// slow or hung BMC never delays a sample.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "core/fsroot.hpp"
#include "poller.hpp"

namespace hearth {

struct IpmiOptions {
    std::string tool = "auto";  // auto | ipmitool | freeipmi
    std::string host;           // the BMC, host or host:port ("" = in-band, /dev/ipmi0)
    std::string credentials;    // LAN: file holding user:password, mode 0600
    double timeout_s = 5;       // per run of the tool
    int cipher = -1;            // lanplus cipher suite (-1: the tool's choice, found by asking)
    std::string workarounds;    // FreeIPMI's workaround flags (-W), e.g. "opensesspriv"; "": none
    Watts node_max{};           // readings above twice this are refused (0: 2000 W)
    // The command seam; null: the real posix_spawn runner.
    std::shared_ptr<CommandRunner> runner;
};

// What to run, worked out once: the argv, the password in the environment
// (never in argv, where ps would show it), the tool's name for messages.
struct IpmiCommand {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string tool;   // "ipmitool" or "ipmi-dcmi"
    std::string where;  // "in-band" or "BMC host:port over lanplus"
    // FreeIPMI over LAN: its config file, holding the user and password
    // (FreeIPMI reads no password from the environment). run_ipmi() writes
    // it to a private file for each run and passes --config-file.
    std::string config;
};

// Runs the command; with a config, first writes it to a new file of mode
// 0600 in a new directory of mode 0700 (under TMPDIR, else /tmp), adds
// --config-file FILE, and removes both once the tool has exited.
CommandResult run_ipmi(const IpmiCommand& c, CommandRunner& runner, const CommandLimits& limits);

// Checks the options (credentials file mode 0600 and user:password, a tool
// on PATH) and builds the command, or throws Error naming the fix. fs: where
// /dev/ipmi0 is looked for (in-band).
// runner: where the tools are looked for.
IpmiCommand ipmi_command(const IpmiOptions& o, const FsRoot& fs, const CommandRunner& runner);

ProbeResult probe_ipmi(const IpmiOptions& o, const FsRoot& fs);

class IpmiSource final : public EnergySource {
public:
    // Runs the tool once (throws Error with the reason when it gives no
    // reading); background: poll on a thread (false in tests on a manual clock).
    IpmiSource(const IpmiOptions& o, std::shared_ptr<const FsRoot> fs,
               std::shared_ptr<const Clock> clock, bool background = true);
    std::string name() const override { return "ipmi"; }
    bool estimated() const override { return false; }
    std::string meter() const override;
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override { return std::chrono::seconds(10); }
    Watts max_power() const override { return m_max; }

private:
    Polled fetch();

    IpmiOptions m_o;
    std::shared_ptr<const Clock> m_clock;
    IpmiCommand m_cmd;
    Watts m_max{};
    PolledPower m_power;
    std::uint64_t m_total_uj = 0;
    std::uint64_t m_warned_failures = 0;  // failures already warned of
    bool m_warned_stale = false;
    std::unique_ptr<Poller> m_poller;  // last: its thread uses the members above
};

}  // namespace hearth
