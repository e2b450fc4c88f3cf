#pragma once
// grid-agent's settings: a TOML file (--config) overridden by flags. One
// table (agent_settings) names each setting's TOML key, flag and help, so the
// flags, the known keys and the merge cannot disagree; the defaults are the
// initialisers of AgentConfig.
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/listen.hpp"

namespace CLI {
class App;
}

namespace hearth {

struct AgentConfig {
    std::string node;  // default: the host name
    std::string site = "default";
    std::string listen = "127.0.0.1:9750";
    std::string socket = "/run/hearth/agent.sock";
    std::string ledger = "/var/lib/hearth/ledger.db";
    double rate_hz = 10;
    std::string energy = "auto";
    std::string fsroot;  // "" = the real /
    double idle_watts = 0;  // 0: derived
    double max_watts = 0;   // 0: derived
    // The BMC's Redfish API (energy source redfish; "" = no BMC).
    std::string redfish_url, redfish_credentials, redfish_ca;
    double redfish_timeout_s = 2;
    double redfish_max_kib = 1024;
    // The BMC's DCMI power reading (energy source ipmi; host "" = in-band).
    std::string ipmi_tool = "auto", ipmi_host, ipmi_credentials;
    double ipmi_timeout_s = 5;
    double ipmi_cipher = -1;  // lanplus cipher suite, -1: ipmitool's choice
    std::string ipmi_workarounds;  // FreeIPMI's workaround flags (-W)
    std::string grid;       // grid file: this node's site, slots and heat target ("" = no heat control)
    std::string throttle = "auto";  // auto | slots | cgroup | sigstop | powercap
    double control_s = 10;  // seconds between heat control steps
    // Longest time closed intervals wait to be written, seconds (0: each at once).
    double commit_s = 1.0;
    // Security (hearth-api(7) SECURITY, grid-agent(8)).
    std::string tokens;          // tokens file (hashes and roles); required unless no_auth
    bool no_auth = false;        // loopback only: every caller is an operator
    std::string tls_cert, tls_key;  // PEM files: serve HTTPS
    bool insecure_http = false;  // allow plain HTTP off loopback (warned)
    bool public_metrics = false; // /metrics without a token
    double metrics_interval_s = 60;  // per-tenant figures in /metrics change this often, no faster
    std::string worker_user;     // who may register tasks on the socket ("" = the agent's own user)
    std::string dashboard;       // the dashboard's static files ("" = next to the executable)
    double history_step_s = 10;  // finest history resolution
};

// The values a numeric setting may take, inclusive.
struct SettingRange {
    double lo = 0, hi = 0;
};

// One setting: its TOML key, its flag, its --help text, the field it sets
// (the field's type decides how the key and the flag are parsed) and, for a
// number, its range (checked by check_setting_range for the file and the
// flags alike).
struct AgentSetting {
    using Field =
        std::variant<std::string AgentConfig::*, double AgentConfig::*, bool AgentConfig::*>;
    std::string key;   // TOML key, "rate_hz"
    std::string flag;  // command-line flag, "--rate"
    std::string help;
    Field field;
    std::optional<SettingRange> range;  // every number has one

    AgentSetting(std::string key_, std::string flag_, std::string help_, Field field_,
                 std::optional<SettingRange> range_ = std::nullopt)
        : key(std::move(key_)),
          flag(std::move(flag_)),
          help(std::move(help_)),
          field(field_),
          range(range_) {}
};

// Every setting, in the order --help and the unknown-key error list them.
const std::vector<AgentSetting>& agent_settings();

// The one range check: a usage_error "WHERE: 'key' V is out of range; use
// LO to HI (default D)" when v is outside s's range (NaN included). where:
// "config FILE:LINE" for the file, the flag for a command line.
void check_setting_range(const AgentSetting& s, double v, const std::string& where);

// Binds every setting's flag to its field of cfg (bool fields are flags
// without a value).
void add_agent_flags(CLI::App& app, AgentConfig& cfg);
// The file gives defaults, flags given on the command line win: every setting
// whose flag app did not see takes from_file's value.
void merge_agent_config(const CLI::App& app, const AgentConfig& from_file, AgentConfig& cfg);

// Reads a TOML file into cfg (keys as in AgentConfig). Throws usage_error
// naming the file, the key and the fix for unknown keys and bad values.
void load_agent_config(const std::string& path, AgentConfig& cfg);
// Checks ranges and formats after flags are applied; fills the defaults that
// depend on the machine (node name). serving: the agent will listen (the
// security settings are checked); false for --probe.
void finish_agent_config(AgentConfig& cfg, bool serving = true);

}  // namespace hearth
