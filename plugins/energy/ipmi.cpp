#include "ipmi.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
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

// FreeIPMI's config file is words split on blanks, '#' starting a comment:
// a value holding either (or a quote) cannot be written to it faithfully.
bool config_word(const std::string& v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](unsigned char ch) {
        return ch > 0x20 && ch < 0x7f && ch != '#' && ch != '"' && ch != '\'';
    });
}

}  // namespace

CommandResult run_ipmi(const IpmiCommand& c, CommandRunner& runner, const CommandLimits& limits) {
    if (c.config.empty()) return runner.run(c.argv, c.env, limits);
    CommandResult fail;
    fail.outcome = CommandResult::Outcome::failed;
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/hearth-ipmi-XXXXXX";
    if (!::mkdtemp(dir.data())) {  // mode 0700
        fail.error = "cannot make a private directory for FreeIPMI's config file under " +
                     dir.substr(0, dir.rfind('/')) + ": " + errno_text(errno) +
                     " (set TMPDIR to a writable directory)";
        return fail;
    }
    const std::string file = dir + "/freeipmi.conf";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool written = fd >= 0;
    if (written) {
        written =
            ::write(fd, c.config.data(), c.config.size()) == static_cast<ssize_t>(c.config.size());
        written = ::close(fd) == 0 && written;
    }
    CommandResult r;
    if (written) {
        std::vector<std::string> argv = c.argv;
        argv.insert(argv.begin() + 1, {"--config-file", file});
        r = runner.run(argv, c.env, limits);
    } else {
        r = fail;
        r.error = "cannot write FreeIPMI's config file " + file + ": " + errno_text(errno);
    }
    ::unlink(file.c_str());
    ::rmdir(dir.c_str());
    return r;
}

IpmiCommand ipmi_command(const IpmiOptions& o, const FsRoot& fs, const CommandRunner& runner) {
    if (o.tool != "auto" && o.tool != "ipmitool" && o.tool != "freeipmi")
        throw usage_error("unknown IPMI tool '" + o.tool + "': use auto, ipmitool or freeipmi");
    if (!o.workarounds.empty()) {
        const bool ok = std::all_of(o.workarounds.begin(), o.workarounds.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == ',';
        });
        if (!ok)
            throw usage_error("--ipmi-workarounds '" + o.workarounds +
                              "': give FreeIPMI's workaround flags, comma-separated (e.g. "
                              "opensesspriv)");
    }
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

    if (!o.workarounds.empty() && c.tool == "ipmitool")
        throw usage_error(
            "--ipmi-workarounds are FreeIPMI's workaround flags; ipmitool takes "
            "none: remove them or use --ipmi-tool freeipmi");
    const auto workarounds = [&] {
        if (!o.workarounds.empty()) c.argv.insert(c.argv.end(), {"-W", o.workarounds});
    };
    if (o.host.empty()) {
        if (!fs.exists("/dev/ipmi0") && !fs.exists("/dev/ipmi/0") && !fs.exists("/dev/ipmidev/0"))
            throw Error(
                "no BMC: no /dev/ipmi0 (load the ipmi_si and ipmi_devintf modules if the "
                "node has a BMC) and no --ipmi-host");
        c.where = "in-band";
        if (c.tool == "ipmitool")
            c.argv = {"ipmitool", "dcmi", "power", "reading"};
        else {
            c.argv = {"ipmi-dcmi"};
            workarounds();
            c.argv.push_back("--get-system-power-statistics");
        }
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
        // FreeIPMI reads no password from the environment: the user and
        // password go in its config file (run_ipmi), never on argv. The
        // host keeps its :port, which FreeIPMI takes in the host name.
        if (!config_word(user) || !config_word(password))
            throw usage_error(
                "the credentials in " + o.credentials +
                " hold a blank, a quote, a '#' or a control character, which FreeIPMI's config "
                "file cannot carry; use --ipmi-tool ipmitool (its password goes in the "
                "environment)");
        c.argv = {"ipmi-dcmi", "-h", o.host, "-D", "LAN_2_0"};
        if (o.cipher >= 0) c.argv.insert(c.argv.end(), {"-I", std::to_string(o.cipher)});
        workarounds();
        c.argv.push_back("--get-system-power-statistics");
        c.config = "username " + user + "\npassword " + password + "\n";
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
    const CommandResult res = run_ipmi(c, *runner, {o.timeout_s, 64 * 1024});
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
    const CommandResult res = run_ipmi(m_cmd, *m_o.runner, {m_o.timeout_s, 64 * 1024});
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
