#pragma once
// grid-agent's daemon: samples the node's energy, attributes it to the tasks
// the local worker registered, commits each interval to the ledger, and
// serves the HTTP API and the local registration socket. The accounting is
// core/'s Accountant; this is the glue around it.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "core/accountant.hpp"
#include "core/ledger.hpp"
#include "heat.hpp"
#include "plugins/energy/papi_cycles.hpp"
#include "plugins/energy/select.hpp"

namespace httplib {
class Server;
}

namespace hearth {

class Agent {
public:
    // counters: the PAPI seam for per-task cycles (null: CPU time only).
    Agent(AgentConfig cfg, std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
          SourceChoice choice, std::shared_ptr<PapiApi> counters = nullptr);
    ~Agent();

    // Serves and samples until stop() (from a signal handler's thread or a
    // test); commits the last interval before returning.
    void run();
    void stop();

    // One request of the registration protocol (a JSON object a line).
    nlohmann::json handle_request(const nlohmann::json& req);
    nlohmann::json node_json();
    std::string metrics_text();
    int http_port() const { return m_http_port.load(); }
    // The heat API's JSON (GET /v1/heat) and its changes; usage_error when refused.
    nlohmann::json heat_json();
    nlohmann::json heat_post(const std::string& what, const nlohmann::json& body);

private:
    void commit(const IntervalRecord& rec);
    void drop_dead_tasks();  // m_mu held
    // The registered tasks as saved in the ledger's state (key "tasks", with
    // the interval of each register and unregister), and their re-adoption
    // after a restart.
    std::string tasks_state() const;
    void restore_tasks();
    void heat_step(const IntervalRecord& rec);
    void serve_socket();
    void serve_connection(int fd);
    void start_http();

    AgentConfig m_cfg;
    std::shared_ptr<const FsRoot> m_fs;
    std::shared_ptr<const Clock> m_clock;
    SourceChoice m_choice;
    std::mutex m_mu;  // guards everything below
    std::unique_ptr<CycleMeter> m_cycles;
    std::string m_weights;  // what dynamic energy is split by, for the log and /v1/node
    std::unique_ptr<Accountant> m_acct;
    std::unique_ptr<Ledger> m_ledger;
    std::map<std::string, std::uint64_t> m_tenant_uj;  // for /metrics, monotonic
    std::uint64_t m_node_uj = 0;
    // The registered tasks changed since the ledger's state last saved them.
    bool m_tasks_dirty = false;
    unsigned m_liveness_tick = 0;
    std::unique_ptr<HeatControl> m_heat;  // null without a grid file
    Clock::TimePoint m_next_control{};

    std::atomic<bool> m_stop{false};
    std::mutex m_stop_mu;
    std::condition_variable m_stop_cv;
    int m_listen_fd = -1;
    std::thread m_socket_thread, m_http_thread;
    std::unique_ptr<httplib::Server> m_http;
    std::atomic<int> m_http_port{0};
};

}  // namespace hearth
