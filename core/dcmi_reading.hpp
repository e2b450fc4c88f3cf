#pragma once
// What one DCMI power reading says, as printed by ipmitool
// (`ipmitool dcmi power reading`) or FreeIPMI
// (`ipmi-dcmi --get-system-power-statistics`): the pure half of
// plugins/energy/ipmi (no process here). DCMI gives instantaneous watts, not
// an energy counter: the source integrates them between samples.
// Anything else (an error, "not supported", a deactivated measurement, text
// that is no reading) is a one-line reason with the fix where there is one.
#include <string>

namespace hearth {

struct DcmiReading {
    bool ok = false;
    double watts = 0;          // the instantaneous ("current") power
    double average_watts = 0;  // over the BMC's sampling period, 0 if not given
    double period_s = 0;       // that sampling period, 0 if not given
    std::string reason;        // !ok: why, one line
};

// output: what the tool printed (stdout and stderr); exit_status: its exit
// status. tool: "ipmitool" or "ipmi-dcmi", for the reasons.
DcmiReading parse_dcmi_power(const std::string& output, int exit_status, const std::string& tool);

}  // namespace hearth
