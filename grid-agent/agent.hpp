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
#include "core/auth.hpp"
#include "core/history.hpp"
#include "core/ledger.hpp"
#include "heat.hpp"
#include "plugins/energy/papi_cycles.hpp"
#include "plugins/energy/select.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
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
    nlohmann::json node_json();
    std::string metrics_text();
    int http_port() const { return m_http_port.load(); }
    // The heat API's JSON (GET /v1/heat) and its changes; usage_error when refused.
    nlohmann::json heat_json();
    nlohmann::json heat_post(const std::string& what, const std::string& body);
    // GET /v1/grid: this agent's site, as `hearth dashboard` merges them.
    nlohmann::json grid_json();
    // GET /v1/history (usage_error on bad parameters).
    nlohmann::json history_json(std::optional<std::int64_t> since_ms, std::optional<std::int64_t> until_ms,
                                std::optional<int> res_s);
    // POST /v1/node/drain: no new tasks start here while drained (kept across restarts).
    void set_drained(bool drained);
    // The role a request's bearer token maps to; operator when --no-auth.
    std::optional<Role> caller(const httplib::Request& req) const;
    // The local socket's peer, as SO_PEERCRED gives it.
    struct Peer {
        pid_t pid = 0;
        uid_t uid = 0;
        gid_t gid = 0;
    };
    nlohmann::json handle_request(const nlohmann::json& req, const Peer& peer);

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
    void serve_connection(int fd, const Peer& peer);
    void start_http();
    // Refuses (usage_error) a register/unregister from a peer other than the
    // worker's user or root, and a pid that peer does not own.
    // Returns the verified process's start time (0 for a root peer).
    std::uint64_t check_peer(const Peer& peer, pid_t pid) const;
    void metrics_tick(std::int64_t now_ms);  // m_mu held
    void history_tick(const IntervalRecord& rec);  // m_mu held

    AgentConfig m_cfg;
    std::shared_ptr<const FsRoot> m_fs;
    std::shared_ptr<const Clock> m_clock;
    SourceChoice m_choice;
    std::mutex m_mu;  // guards everything below
    std::unique_ptr<CycleMeter> m_cycles;
    std::string m_weights;  // what dynamic energy is split by, for the log and /v1/node
    std::unique_ptr<Accountant> m_acct;
    std::unique_ptr<Ledger> m_ledger;
    std::map<std::string, std::uint64_t> m_tenant_uj;  // running totals, monotonic
    std::uint64_t m_node_uj = 0;
    // What /metrics shows: the totals as of the last metrics interval's end,
    // and the mean node power over that interval (no faster figures: RAPL
    // side channels).
    std::map<std::string, std::uint64_t> m_metrics_tenant_uj;
    std::uint64_t m_metrics_node_uj = 0;
    double m_metrics_power_w = 0;
    std::int64_t m_metrics_slot = -1;  // floor(t / interval) of the last snapshot
    std::optional<TokenTable> m_tokens;  // null with --no-auth
    uid_t m_worker_uid = 0;
    std::atomic<bool> m_drained{false};
    HistoryBuckets m_history;
    std::vector<HistoryPoint> m_history_pending;  // closed points not yet in the ledger
    // The registered tasks changed since the ledger's state last saved them.
    bool m_tasks_dirty = false;
    unsigned m_liveness_tick = 0;
    std::unique_ptr<HeatControl> m_heat;  // null without a grid file
    Clock::TimePoint m_next_control{};

    std::atomic<bool> m_stop{false};
    std::mutex m_stop_mu;
    std::condition_variable m_stop_cv;
    int m_listen_fd = -1;
    std::atomic<int> m_conns{0}, m_other_conns{0};  // open socket connections
    std::thread m_socket_thread, m_http_thread;
    std::unique_ptr<httplib::Server> m_http;
    std::atomic<int> m_http_port{0};
};

}  // namespace hearth
