#include "config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "core/error.hpp"
#include "core/plugin_registry.hpp"
#include "core/toml.hpp"
#include "plugins/energy/select.hpp"
#include "plugins/throttle/select.hpp"

namespace hearth {

const std::vector<AgentSetting>& agent_settings() {
    // Built on first use: the energy and throttle help lists their
    // registries' names.
    static const std::vector<AgentSetting> table = {
        {"node", "--node", "this node's name (default: the host name)", &AgentConfig::node},
        {"site", "--site", "the site the node heats", &AgentConfig::site},
        {"listen", "--listen", "HTTP API address (default 127.0.0.1:9750)", &AgentConfig::listen},
        {"socket", "--socket", "Unix socket for task registration", &AgentConfig::socket},
        {"ledger", "--ledger", "SQLite ledger file", &AgentConfig::ledger},
        {"rate_hz", "--rate", "samples per second (default 10)", &AgentConfig::rate_hz,
         SettingRange{0.1, 100}},
        {"energy", "--energy", "energy source: " + joined_names(energy_source_names()),
         &AgentConfig::energy},
        {"fsroot", "--fsroot", "read /sys and /proc under this directory", &AgentConfig::fsroot},
        {"idle_watts", "--idle-watts", "the node's idle power (model and static share)",
         &AgentConfig::idle_watts, SettingRange{0, 10000}},
        {"max_watts", "--max-watts", "the node's maximum power (model)", &AgentConfig::max_watts,
         SettingRange{0, 10000}},
        {"redfish_url", "--redfish-url",
         "the BMC's Redfish Chassis, https://BMC/redfish/v1/Chassis/1 (energy source redfish)",
         &AgentConfig::redfish_url},
        {"redfish_credentials", "--redfish-credentials",
         "file holding the BMC's user:password (mode 0600)", &AgentConfig::redfish_credentials},
        {"redfish_ca", "--redfish-ca", "PEM CA file the BMC's certificate is checked with",
         &AgentConfig::redfish_ca},
        {"redfish_timeout_s", "--redfish-timeout",
         "seconds a BMC request may take (0.1-30, default 2)", &AgentConfig::redfish_timeout_s,
         SettingRange{0.1, 30}},
        {"redfish_max_kib", "--redfish-max-kib",
         "largest BMC answer read, KiB (1-65536, default 1024)", &AgentConfig::redfish_max_kib,
         SettingRange{1, 65536}},
        {"ipmi_tool", "--ipmi-tool",
         "what reads the BMC's DCMI power: auto, ipmitool or freeipmi (energy source ipmi)",
         &AgentConfig::ipmi_tool},
        {"ipmi_host", "--ipmi-host",
         "the BMC's address, host or host:port, read over lanplus (default: in-band, /dev/ipmi0)",
         &AgentConfig::ipmi_host},
        {"ipmi_credentials", "--ipmi-credentials",
         "file holding the BMC's user:password for --ipmi-host (mode 0600)",
         &AgentConfig::ipmi_credentials},
        {"ipmi_timeout_s", "--ipmi-timeout",
         "seconds one IPMI reading may take (0.5-30, default 5)", &AgentConfig::ipmi_timeout_s,
         SettingRange{0.5, 30}},
        {"ipmi_cipher", "--ipmi-cipher",
         "lanplus cipher suite, 0-17; -1 (the default): ipmitool asks the BMC for its list",
         &AgentConfig::ipmi_cipher, SettingRange{-1, 17}},
        {"ipmi_workarounds", "--ipmi-workarounds",
         "FreeIPMI's workaround flags for a BMC that needs them, e.g. opensesspriv",
         &AgentConfig::ipmi_workarounds},
        {"grid", "--grid", "grid file: take this node's site, slots and heat target from it",
         &AgentConfig::grid},
        {"throttle", "--throttle", "how to hold power down: " + joined_names(throttle_names()),
         &AgentConfig::throttle},
        {"control_s", "--control", "seconds between heat control steps (default 10)",
         &AgentConfig::control_s, SettingRange{0.1, 3600}},
        {"commit_s", "--commit",
         "longest wait, in seconds, before closed intervals are written to the ledger, 0 to 1 "
         "(default 1)",
         &AgentConfig::commit_s, SettingRange{0, 1}},
        {"tokens", "--tokens",
         "tokens file: hashes and roles of the API's bearer tokens (mode 0640 or stricter)",
         &AgentConfig::tokens},
        {"no_auth", "--no-auth", "loopback only: serve the API without tokens (tests, demos)",
         &AgentConfig::no_auth},
        {"tls_cert", "--tls-cert", "PEM certificate: serve HTTPS", &AgentConfig::tls_cert},
        {"tls_key", "--tls-key", "PEM private key of --tls-cert", &AgentConfig::tls_key},
        {"insecure_http", "--insecure-http", "allow plain HTTP on a non-loopback address (warned)",
         &AgentConfig::insecure_http},
        {"public_metrics", "--public-metrics", "serve /metrics without a token",
         &AgentConfig::public_metrics},
        {"metrics_interval_s", "--metrics-interval",
         "seconds between updates of /metrics' per-tenant figures (1-3600, default 60)",
         &AgentConfig::metrics_interval_s, SettingRange{1, 3600}},
        {"worker_user", "--worker-user",
         "the user whose workers may register tasks (default: the agent's own)",
         &AgentConfig::worker_user},
        {"dashboard", "--dashboard", "directory of the dashboard's static files",
         &AgentConfig::dashboard},
        {"history_step_s", "--history-step",
         "seconds between the finest history points (1-60, default 10)",
         &AgentConfig::history_step_s, SettingRange{1, 60}},
    };
    return table;
}

namespace {

std::string number(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

}  // namespace

void check_setting_range(const AgentSetting& s, double v, const std::string& where) {
    if (!s.range || (v >= s.range->lo && v <= s.range->hi)) return;  // NaN fails both
    static const AgentConfig defaults;
    const double* dflt = std::get_if<double AgentConfig::*>(&s.field)
                             ? &(defaults.*std::get<double AgentConfig::*>(s.field))
                             : nullptr;
    throw usage_error(where + ": '" + s.key + "' " + number(v) + " is out of range; use " +
                      number(s.range->lo) + " to " + number(s.range->hi) +
                      (dflt ? " (default " + number(*dflt) + ")" : std::string()));
}

void add_agent_flags(CLI::App& app, AgentConfig& cfg) {
    for (const auto& s : agent_settings()) {
        std::visit(
            [&](auto member) {
                using T = std::remove_reference_t<decltype(cfg.*member)>;
                if constexpr (std::is_same_v<T, bool>)
                    app.add_flag(s.flag, cfg.*member, s.help);
                else
                    app.add_option(s.flag, cfg.*member, s.help);
            },
            s.field);
    }
}

void merge_agent_config(const CLI::App& app, const AgentConfig& from_file, AgentConfig& cfg) {
    for (const auto& s : agent_settings())
        if (app.count(s.flag) == 0)
            std::visit([&](auto member) { cfg.*member = from_file.*member; }, s.field);
}

void load_agent_config(const std::string& path, AgentConfig& cfg) {
    toml::table t;
    try {
        t = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw usage_error("cannot read config " + path + ": " + std::string(e.description()) +
                          " at line " + std::to_string(e.source().begin.line) +
                          "; fix the TOML syntax");
    }
    const auto& settings = agent_settings();
    for (const auto& [k, v] : t) {
        std::string key(k.str());
        const bool known = std::any_of(settings.begin(), settings.end(),
                                       [&](const AgentSetting& s) { return s.key == key; });
        if (!known) {
            std::string keys;
            for (const auto& s : settings) keys += (keys.empty() ? "" : " ") + s.key;
            throw usage_error("config " + path + ": unknown key '" + key +
                              "'; valid keys: " + keys);
        }
    }
    for (const auto& s : settings) {
        auto n = t[s.key];
        if (!n) continue;
        std::visit(
            [&](auto member) {
                using T = std::remove_reference_t<decltype(cfg.*member)>;
                auto v = n.template value<T>();
                if (!v) {
                    const char* want = std::is_same_v<T, bool>          ? "true or false"
                                       : std::is_same_v<T, std::string> ? "a string"
                                                                        : "a number";
                    throw usage_error("config " + path + ": '" + s.key + "' must be " + want);
                }
                if constexpr (std::is_same_v<T, double>)
                    check_setting_range(
                        s, *v,
                        "config " + path + ":" + std::to_string(n.node()->source().begin.line));
                cfg.*member = *v;
            },
            s.field);
    }
}

namespace {

bool safe(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
            return false;
    return true;
}

}  // namespace

void finish_agent_config(AgentConfig& cfg, bool serving) {
    if (cfg.node.empty()) {
        char name[256] = {};
        ::gethostname(name, sizeof name - 1);
        cfg.node = name;
    }
    if (!safe(cfg.node)) throw usage_error("bad node name '" + cfg.node + "': use 1-64 letters, digits, '.', '_' or '-'");
    if (!safe(cfg.site)) throw usage_error("bad site name '" + cfg.site + "': use 1-64 letters, digits, '.', '_' or '-'");
    // Every number within its range, the file's already checked where read
    // (with its line): what is out of range here came from a flag.
    for (const auto& s : agent_settings())
        if (const auto* member = std::get_if<double AgentConfig::*>(&s.field))
            check_setting_range(s, cfg.**member, s.flag);
    if (cfg.max_watts > 0 && cfg.idle_watts > cfg.max_watts)
        throw usage_error("idle_watts is above max_watts; a node idles below its maximum");
    // The range is the table's; a suite is also a whole number.
    if (cfg.ipmi_cipher != std::floor(cfg.ipmi_cipher))
        throw usage_error("ipmi cipher suite " + std::to_string(cfg.ipmi_cipher) +
                          " is not a whole number; use 0 to 17 (3 and 17 are the usual ones)");
    if (cfg.ipmi_tool != "auto" && cfg.ipmi_tool != "ipmitool" && cfg.ipmi_tool != "freeipmi")
        throw usage_error("unknown IPMI tool '" + cfg.ipmi_tool +
                          "': use auto, ipmitool or freeipmi");
    if (!cfg.ipmi_host.empty() && cfg.ipmi_credentials.empty())
        throw usage_error("--ipmi-host " + cfg.ipmi_host +
                          " needs --ipmi-credentials FILE holding user:password (mode 0600)");
    const std::string host = split_listen(cfg.listen).first;
    if (!serving) return;  // --probe: no listener, no tokens needed
    const bool tls = !cfg.tls_cert.empty() || !cfg.tls_key.empty();
    if (tls && (cfg.tls_cert.empty() || cfg.tls_key.empty()))
        throw usage_error("TLS needs both a certificate and its key; give --tls-cert FILE and --tls-key FILE");
    if (!is_loopback_host(host) && !tls && !cfg.insecure_http)
        throw usage_error("refusing to listen on " + cfg.listen +
                          " without TLS: tokens would cross the network in clear; give --tls-cert and "
                          "--tls-key, or --insecure-http on a network you trust");
    if (cfg.tokens.empty() && !cfg.no_auth)
        throw usage_error("no tokens file: give --tokens FILE (make tokens with 'hearth token new'), or "
                          "--no-auth for a loopback-only test agent");
    if (cfg.no_auth && !cfg.tokens.empty())
        throw usage_error("--no-auth and --tokens contradict each other; drop one");
    if (cfg.no_auth && !is_loopback_host(host))
        throw usage_error("--no-auth is for loopback only; give --tokens FILE to listen on " +
                          cfg.listen);
    if (cfg.ledger.empty()) throw usage_error("no ledger path; give --ledger FILE");
    if (cfg.socket.empty()) throw usage_error("no socket path; give --socket FILE");
}

}  // namespace hearth
