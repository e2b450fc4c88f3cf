#include "core/dcmi_reading.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/text.hpp"

namespace hearth {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The number after the colon that follows `key` in "key : 220 Watts" (a
// line may hold two: ipmitool 1.8.19 prints the timestamp without a newline).
bool number_after(const std::string& line, const std::string& key, double& out) {
    const auto at = lower(line).find(key);
    if (at == std::string::npos) return false;
    const auto colon = line.find(':', at);
    if (colon == std::string::npos) return false;
    const std::string rest = trimmed(line.substr(colon + 1));
    if (rest.empty() || !(std::isdigit(static_cast<unsigned char>(rest[0])) || rest[0] == '-'))
        return false;
    char* end = nullptr;
    const double v = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) return false;
    out = v;
    return true;
}

// The first line of the tool's own words, for a reason.
std::string first_line(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        line = trimmed(line);
        if (!line.empty()) return line.size() > 160 ? line.substr(0, 160) + "..." : line;
    }
    return "";
}

}  // namespace

DcmiReading parse_dcmi_power(const std::string& output, int exit_status, const std::string& tool) {
    DcmiReading r;
    const std::string low = lower(output);
    // DCMI is optional: BMCs without it answer Invalid Command (C1h) or the
    // tool says so itself.
    if (low.find("not supported") != std::string::npos ||
        low.find("invalid command") != std::string::npos || low.find("(c1)") != std::string::npos ||
        low.find("unsupported") != std::string::npos) {
        r.reason = "the BMC does not support DCMI power readings (" + tool + ": " +
                   first_line(output) + "); use --energy hwmon or redfish if the node has them";
        return r;
    }
    bool have_now = false, have_state = false, active = true;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        const std::string l = lower(line);
        double v = 0;
        if (number_after(line, "instantaneous power reading", v) ||
            number_after(line, "current power", v)) {
            r.watts = v;
            have_now = true;
        } else if (number_after(line, "average power", v)) {
            r.average_watts = v;
        } else if (l.find("during") == std::string::npos &&
                   number_after(line, "sampling period", v)) {
            // ipmitool 1.8.19 says Seconds, later ones Milliseconds.
            r.period_s = l.find("millisecond") != std::string::npos ? v / 1000.0 : v;
        } else if (number_after(line, "statistics reporting time period", v)) {
            r.period_s = v / 1000.0;  // FreeIPMI: milliseconds
        }
        if (l.find("power reading state") != std::string::npos ||
            l.find("power measurement") != std::string::npos) {
            have_state = true;
            active = l.find("deactivated") == std::string::npos &&
                     l.find("not active") == std::string::npos &&
                     l.find("inactive") == std::string::npos;
        }
    }
    if (exit_status != 0 && !have_now) {
        const std::string said = first_line(output);
        r.reason = tool + " failed (exit status " + std::to_string(exit_status) + ")" +
                   (said.empty() ? "" : ": " + said) +
                   "; check the BMC address, the credentials and that the BMC's IPMI over LAN "
                   "is enabled (or, in-band, that the ipmi_si and ipmi_devintf modules are "
                   "loaded)";
        return r;
    }
    if (!have_now) {
        const std::string said = first_line(output);
        r.reason = tool + " printed no power reading" +
                   (said.empty() ? " (empty output)" : " ('" + said + "')") +
                   "; check that it is ipmitool or FreeIPMI's ipmi-dcmi";
        return r;
    }
    if (have_state && !active) {
        r.reason = "the BMC's power measurement is not active (" + tool +
                   " reports it deactivated); its readings are not valid";
        return r;
    }
    if (!std::isfinite(r.watts) || r.watts < 0) {
        r.reason = tool + " reported " + std::to_string(r.watts) + " W, which is no power";
        return r;
    }
    r.ok = true;
    return r;
}

}  // namespace hearth
