#include "config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
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
        {"rate_hz", "--rate", "samples per second (default 10)", &AgentConfig::rate_hz},
        {"energy", "--energy", "energy source: " + joined_names(energy_source_names()),
         &AgentConfig::energy},
        {"fsroot", "--fsroot", "read /sys and /proc under this directory", &AgentConfig::fsroot},
        {"idle_watts", "--idle-watts", "the node's idle power (model and static share)",
         &AgentConfig::idle_watts},
        {"max_watts", "--max-watts", "the node's maximum power (model)", &AgentConfig::max_watts},
        {"redfish_url", "--redfish-url",
         "the BMC's Redfish Chassis, https://BMC/redfish/v1/Chassis/1 (energy source redfish)",
         &AgentConfig::redfish_url},
        {"redfish_credentials", "--redfish-credentials",
         "file holding the BMC's user:password (mode 0600)", &AgentConfig::redfish_credentials},
        {"redfish_ca", "--redfish-ca", "PEM CA file the BMC's certificate is checked with",
         &AgentConfig::redfish_ca},
        {"redfish_timeout_s", "--redfish-timeout",
         "seconds a BMC request may take (0.1-30, default 2)", &AgentConfig::redfish_timeout_s},
        {"redfish_max_kib", "--redfish-max-kib",
         "largest BMC answer read, KiB (1-65536, default 1024)", &AgentConfig::redfish_max_kib},
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
         "seconds one IPMI reading may take (0.5-30, default 5)", &AgentConfig::ipmi_timeout_s},
        {"ipmi_cipher", "--ipmi-cipher",
         "lanplus cipher suite, 0-17 (default: ipmitool asks the BMC for its list)",
         &AgentConfig::ipmi_cipher},
        {"grid", "--grid", "grid file: take this node's site, slots and heat target from it",
         &AgentConfig::grid},
        {"throttle", "--throttle", "how to hold power down: " + joined_names(throttle_names()),
         &AgentConfig::throttle},
        {"control_s", "--control", "seconds between heat control steps (default 10)",
         &AgentConfig::control_s},
        {"commit_s", "--commit",
         "longest wait, in seconds, before closed intervals are written to the ledger, 0 to 1 "
         "(default 1)",
         &AgentConfig::commit_s},
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
         &AgentConfig::metrics_interval_s},
        {"worker_user", "--worker-user",
         "the user whose workers may register tasks (default: the agent's own)",
         &AgentConfig::worker_user},
        {"dashboard", "--dashboard", "directory of the dashboard's static files",
         &AgentConfig::dashboard},
        {"history_step_s", "--history-step",
         "seconds between the finest history points (1-60, default 10)",
         &AgentConfig::history_step_s},
    };
    return table;
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
    if (!std::isfinite(cfg.rate_hz) || cfg.rate_hz < 0.1 || cfg.rate_hz > 100)
        throw usage_error("sampling rate " + std::to_string(cfg.rate_hz) +
                          " Hz is out of range; use 0.1 to 100 (default 10)");
    if (!std::isfinite(cfg.idle_watts) || cfg.idle_watts < 0 || cfg.idle_watts > 10000 ||
        !std::isfinite(cfg.max_watts) || cfg.max_watts < 0 || cfg.max_watts > 10000)
        throw usage_error("idle/max watts must be between 0 and 10000");
    if (cfg.max_watts > 0 && cfg.idle_watts > cfg.max_watts)
        throw usage_error("idle_watts is above max_watts; a node idles below its maximum");
    if (!std::isfinite(cfg.control_s) || cfg.control_s < 0.1 || cfg.control_s > 3600)
        throw usage_error("control step " + std::to_string(cfg.control_s) +
                          " s is out of range; use 0.1 to 3600 (default 10)");
    if (!std::isfinite(cfg.commit_s) || cfg.commit_s < 0 || cfg.commit_s > 1)
        throw usage_error("commit interval " + std::to_string(cfg.commit_s) +
                          " s is out of range; use 0 (every interval) to 1 (default 1)");
    if (!std::isfinite(cfg.redfish_timeout_s) || cfg.redfish_timeout_s < 0.1 ||
        cfg.redfish_timeout_s > 30)
        throw usage_error("redfish timeout " + std::to_string(cfg.redfish_timeout_s) +
                          " s is out of range; use 0.1 to 30 (default 2)");
    if (!std::isfinite(cfg.redfish_max_kib) || cfg.redfish_max_kib < 1 ||
        cfg.redfish_max_kib > 65536)
        throw usage_error("redfish answer limit " + std::to_string(cfg.redfish_max_kib) +
                          " KiB is out of range; use 1 to 65536 (default 1024)");
    if (!std::isfinite(cfg.ipmi_timeout_s) || cfg.ipmi_timeout_s < 0.5 || cfg.ipmi_timeout_s > 30)
        throw usage_error("ipmi timeout " + std::to_string(cfg.ipmi_timeout_s) +
                          " s is out of range; use 0.5 to 30 (default 5)");
    if (cfg.ipmi_cipher != -1 &&
        (!std::isfinite(cfg.ipmi_cipher) || cfg.ipmi_cipher < 0 || cfg.ipmi_cipher > 17 ||
         cfg.ipmi_cipher != std::floor(cfg.ipmi_cipher)))
        throw usage_error("ipmi cipher suite " + std::to_string(cfg.ipmi_cipher) +
                          " is out of range; use a whole number from 0 to 17 (3 and 17 are the "
                          "usual ones)");
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
        throw usage_error("--no-auth is for loopback only; give --tokens FILE to listen on " + cfg.listen);
    if (!std::isfinite(cfg.metrics_interval_s) || cfg.metrics_interval_s < 1 || cfg.metrics_interval_s > 3600)
        throw usage_error("metrics interval " + std::to_string(cfg.metrics_interval_s) +
                          " s is out of range; use 1 to 3600 (default 60; per-tenant figures much faster "
                          "than a minute tell co-tenants what each other runs)");
    if (!std::isfinite(cfg.history_step_s) || cfg.history_step_s < 1 || cfg.history_step_s > 60)
        throw usage_error("history step " + std::to_string(cfg.history_step_s) +
                          " s is out of range; use 1 to 60 (default 10)");
    if (cfg.ledger.empty()) throw usage_error("no ledger path; give --ledger FILE");
    if (cfg.socket.empty()) throw usage_error("no socket path; give --socket FILE");
}

}  // namespace hearth
