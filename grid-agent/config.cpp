#include "config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmath>
#include <set>
#include "core/toml.hpp"

#include "core/error.hpp"

namespace hearth {

void load_agent_config(const std::string& path, AgentConfig& cfg) {
    toml::table t;
    try {
        t = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw usage_error("cannot read config " + path + ": " + std::string(e.description()) +
                          " at line " + std::to_string(e.source().begin.line) +
                          "; fix the TOML syntax");
    }
    static const std::set<std::string> known = {"node",   "site",       "listen",   "socket",
                                                "ledger", "rate_hz",    "energy",   "fsroot",
                                                "idle_watts", "max_watts", "grid",
                                                "throttle", "control_s", "tokens", "no_auth",
                                                "tls_cert", "tls_key", "insecure_http",
                                                "public_metrics", "metrics_interval_s",
                                                "worker_user", "dashboard", "history_step_s"};
    for (const auto& [k, v] : t) {
        std::string key(k.str());
        if (!known.count(key))
            throw usage_error("config " + path + ": unknown key '" + key +
                              "'; valid keys: node site listen socket ledger rate_hz energy "
                              "fsroot idle_watts max_watts grid throttle control_s tokens no_auth tls_cert "
                              "tls_key insecure_http public_metrics metrics_interval_s worker_user "
                              "dashboard history_step_s");
    }
    auto str = [&](const char* key, std::string& out) {
        if (auto n = t[key]) {
            auto v = n.value<std::string>();
            if (!v) throw usage_error("config " + path + ": '" + key + "' must be a string");
            out = *v;
        }
    };
    auto num = [&](const char* key, double& out) {
        if (auto n = t[key]) {
            auto v = n.value<double>();
            if (!v) throw usage_error("config " + path + ": '" + key + "' must be a number");
            out = *v;
        }
    };
    auto flag = [&](const char* key, bool& out) {
        if (auto n = t[key]) {
            auto v = n.value<bool>();
            if (!v) throw usage_error("config " + path + ": '" + key + "' must be true or false");
            out = *v;
        }
    };
    str("tokens", cfg.tokens);
    flag("no_auth", cfg.no_auth);
    str("tls_cert", cfg.tls_cert);
    str("tls_key", cfg.tls_key);
    flag("insecure_http", cfg.insecure_http);
    flag("public_metrics", cfg.public_metrics);
    num("metrics_interval_s", cfg.metrics_interval_s);
    str("worker_user", cfg.worker_user);
    str("dashboard", cfg.dashboard);
    num("history_step_s", cfg.history_step_s);
    str("node", cfg.node);
    str("site", cfg.site);
    str("listen", cfg.listen);
    str("socket", cfg.socket);
    str("ledger", cfg.ledger);
    num("rate_hz", cfg.rate_hz);
    str("energy", cfg.energy);
    str("fsroot", cfg.fsroot);
    num("idle_watts", cfg.idle_watts);
    num("max_watts", cfg.max_watts);
    str("grid", cfg.grid);
    str("throttle", cfg.throttle);
    num("control_s", cfg.control_s);
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
