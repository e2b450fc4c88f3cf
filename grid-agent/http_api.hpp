#pragma once
// The agent's HTTP API (hearth-api(7)): authentication and the role check
// before any route runs, each route's parameter checks, and the dashboard's
// static files. The figures come from the Agent; this is the web side.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "core/auth.hpp"
#include "core/clock.hpp"
#include "core/token_file.hpp"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace hearth {

class Agent;

class HttpApi {
public:
    // Reads the tokens file now (none with --no-auth), so a bad one fails
    // the start.
    HttpApi(const AgentConfig& cfg, std::shared_ptr<const Clock> clock, Agent& agent);
    ~HttpApi();
    HttpApi(const HttpApi&) = delete;
    HttpApi& operator=(const HttpApi&) = delete;

    // Binds (an Error when it cannot) and serves on a thread.
    void start();
    void stop();
    int port() const { return m_port.load(); }

    // The role a request's bearer token maps to; operator when --no-auth.
    std::optional<Role> caller(const httplib::Request& req) const;
    // GET /v1/grid: this agent's site, as `hearth dashboard` merges them.
    nlohmann::json grid_json();
    // GET /v1/history (usage_error on bad parameters).
    nlohmann::json history_json(std::optional<std::int64_t> since_ms,
                                std::optional<std::int64_t> until_ms, std::optional<int> res_s);

private:
    void add_routes();

    const AgentConfig& m_cfg;
    std::shared_ptr<const Clock> m_clock;
    Agent& m_agent;
    std::shared_ptr<TokenFile> m_tokens;  // null with --no-auth
    std::unique_ptr<httplib::Server> m_server;
    std::thread m_thread;
    std::atomic<int> m_port{0};
    std::atomic<bool> m_trying{false};  // a POST /v1/heat/try is running
};

}  // namespace hearth
