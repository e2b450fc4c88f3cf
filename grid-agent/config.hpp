#pragma once
// grid-agent's settings: a TOML file (--config) overridden by flags.
#include <string>

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
    std::string grid;       // grid file: this node's site, slots and heat target ("" = no heat control)
    std::string throttle = "auto";  // auto | slots | cgroup | sigstop | powercap
    double control_s = 10;  // seconds between heat control steps
};

// Reads a TOML file into cfg (keys as in AgentConfig). Throws usage_error
// naming the file, the key and the fix for unknown keys and bad values.
void load_agent_config(const std::string& path, AgentConfig& cfg);
// Checks ranges and formats after flags are applied; fills the defaults that
// depend on the machine (node name).
void finish_agent_config(AgentConfig& cfg);
// "127.0.0.1:9750" -> host, port. Throws usage_error.
std::pair<std::string, int> split_listen(const std::string& listen);

}  // namespace hearth
