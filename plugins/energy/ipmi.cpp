#include "ipmi.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bmc_credentials.hpp"
#include "core/dcmi_reading.hpp"
#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

// Above any one- or two-socket node when neither the grid file nor
// --max-watts says: only nonsense is refused.
constexpr double k_default_max_w = 2000.0;

// A BMC samples its power about once a second; asking faster only loads it.
constexpr std::chrono::milliseconds k_period{1000};

// The latest reading stands for the node's power this long; a BMC silent for
// longer is not guessed at (the next answer covers the span).
constexpr std::chrono::milliseconds k_stale{10'000};

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

}  // namespace

IpmiCommand ipmi_command(const IpmiOptions& o, const FsRoot& fs, const CommandRunner& runner) {
    if (o.tool != "auto" && o.tool != "ipmitool" && o.tool != "freeipmi")
        throw usage_error("unknown IPMI tool '" + o.tool + "': use auto, ipmitool or freeipmi");
    IpmiCommand c;
    const bool have_ipmitool = !runner.find("ipmitool").empty();
    const bool have_freeipmi = !runner.find("ipmi-dcmi").empty();
    if (o.tool == "ipmitool" || (o.tool == "auto" && have_ipmitool)) {
        c.tool = "ipmitool";
        if (!have_ipmitool)
            throw Error(
                "ipmitool is not on PATH; install it (apt-get install ipmitool) or use "
                "--ipmi-tool freeipmi");
    } else if (o.tool == "freeipmi" || have_freeipmi) {
        c.tool = "ipmi-dcmi";
        if (!have_freeipmi)
            throw Error(
                "FreeIPMI's ipmi-dcmi is not on PATH; install it (apt-get install "
                "freeipmi-tools) or use --ipmi-tool ipmitool");
    } else {
        throw Error(
            "neither ipmitool nor FreeIPMI's ipmi-dcmi is on PATH; install one (apt-get "
            "install ipmitool)");
    }

    if (o.host.empty()) {
        if (!fs.exists("/dev/ipmi0") && !fs.exists("/dev/ipmi/0") && !fs.exists("/dev/ipmidev/0"))
            throw Error(
                "no BMC: no /dev/ipmi0 (load the ipmi_si and ipmi_devintf modules if the "
                "node has a BMC) and no --ipmi-host");
        c.where = "in-band";
        if (c.tool == "ipmitool")
            c.argv = {"ipmitool", "dcmi", "power", "reading"};
        else
            c.argv = {"ipmi-dcmi", "--get-system-power-statistics"};
        return c;
    }
    if (o.credentials.empty())
        throw usage_error("--ipmi-host " + o.host +
                          " needs --ipmi-credentials FILE holding user:password (mode 0600)");
    const auto [user, password] = read_bmc_credentials(o.credentials, "ipmi");
    std::string host = o.host, port;
    if (const auto colon = o.host.rfind(':');
        colon != std::string::npos && o.host.find(':') == colon) {
        host = o.host.substr(0, colon);
        port = o.host.substr(colon + 1);
        if (!parse_u64(port) || *parse_u64(port) == 0 || *parse_u64(port) > 65535)
            throw usage_error("--ipmi-host " + o.host + ": bad port '" + port +
                              "'; give host or host:port");
    }
    c.where = "BMC " + o.host + " over lanplus";
    if (c.tool == "ipmitool") {
        // -E: the password from IPMI_PASSWORD, not argv.
        c.argv = {"ipmitool", "-I", "lanplus", "-H", host, "-U", user, "-E"};
        if (!port.empty()) c.argv.insert(c.argv.end(), {"-p", port});
        // A cipher suite named skips asking the BMC for its list (some
        // answer that slowly or not at all).
        if (o.cipher >= 0) c.argv.insert(c.argv.end(), {"-C", std::to_string(o.cipher)});
        c.argv.insert(c.argv.end(), {"dcmi", "power", "reading"});
        c.env["IPMI_PASSWORD"] = password;
    } else {
        // FreeIPMI reads no password from the environment: its config file
        // is the credentials file's user and password, which stays
        // off the command line too.
        throw usage_error(
            "--ipmi-host with FreeIPMI is not supported: its password would "
            "appear on the command line; use --ipmi-tool ipmitool");
    }
    return c;
}

ProbeResult probe_ipmi(const IpmiOptions& o, const FsRoot& fs) {
    ProbeResult r;
    r.source = "ipmi";
    auto runner = o.runner ? o.runner : std::shared_ptr<CommandRunner>(make_real_command_runner());
    IpmiCommand c;
    try {
        c = ipmi_command(o, fs, *runner);
    } catch (const Error& e) {
        r.detail = e.what();
        return r;
    }
    const CommandResult res = runner->run(c.argv, c.env, {o.timeout_s, 64 * 1024});
    if (res.outcome != CommandResult::Outcome::exited) {
        r.detail = c.tool + " (" + c.where + "): " + res.error;
        return r;
    }
    const DcmiReading d = parse_dcmi_power(res.output, res.status, c.tool);
    if (!d.ok) {
        r.detail = c.where + ": " + d.reason;
        return r;
    }
    r.available = true;
    r.detail = number(d.watts) + " W DCMI instantaneous power from " + c.tool + " (" + c.where +
               "), integrated between samples, not a counter";
    return r;
}

IpmiSource::IpmiSource(const IpmiOptions& o, std::shared_ptr<const FsRoot> fs,
                       std::shared_ptr<const Clock> clock, bool background)
    : m_o(o), m_clock(std::move(clock)), m_power(k_stale) {
    if (!m_o.runner) m_o.runner = make_real_command_runner();
    m_cmd = ipmi_command(m_o, *fs, *m_o.runner);
    m_max = Watts{m_o.node_max.value > 0 ? m_o.node_max.value : k_default_max_w};
    const Polled first = fetch();
    if (!first.ok) throw Error("energy source ipmi is unavailable: " + first.error);
    m_poller = std::make_unique<Poller>([this] { return fetch(); }, k_period, m_clock, background);
    m_poller->seed(first);
}

std::string IpmiSource::meter() const {
    return "DCMI power reading via " + m_cmd.tool + " (" + m_cmd.where + ", integrated)";
}

Polled IpmiSource::fetch() {
    Polled p;
    const CommandResult res = m_o.runner->run(m_cmd.argv, m_cmd.env, {m_o.timeout_s, 64 * 1024});
    if (res.outcome != CommandResult::Outcome::exited) {
        p.error = res.error + (res.outcome == CommandResult::Outcome::timed_out
                                   ? "; the BMC is slow or unreachable (raise --ipmi-timeout if "
                                     "it is just slow)"
                                   : "");
        return p;
    }
    const DcmiReading d = parse_dcmi_power(res.output, res.status, m_cmd.tool);
    if (!d.ok) {
        p.error = d.reason;
        return p;
    }
    if (d.watts > 2 * m_max.value) {
        p.error = "DCMI reading " + number(d.watts) + " W is more than twice the node's maximum (" +
                  number(m_max.value) +
                  " W); reading ignored (set the node's max power in the grid file or "
                  "--max-watts if it is right)";
        return p;
    }
    p.ok = true;
    p.value = d.watts;
    return p;
}

EnergyReading IpmiSource::read() {
    EnergyReading out;
    const PollState s = m_poller->latest();
    bool waiting = false;
    m_total_uj += m_power.step(s, m_clock->now(), waiting);
    // One warning per run of failures, and one when the reading goes stale.
    if (s.failures > 0 && m_warned_failures == 0) {
        out.warnings.push_back("ipmi: " + s.error);
        m_warned_failures = s.failures;
    } else if (s.failures == 0) {
        m_warned_failures = 0;
    }
    if (waiting && s.good > 0 && s.failures == 0 && !m_warned_stale) {
        out.warnings.push_back(
            "ipmi: no good reading for over 10 s; intervals wait for the next one, which covers "
            "them");
        m_warned_stale = true;
    } else if (!waiting) {
        m_warned_stale = false;
    }
    out.total = Microjoules{m_total_uj};
    return out;
}

}  // namespace hearth
