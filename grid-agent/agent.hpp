#pragma once
// grid-agent's daemon: samples the node's energy, attributes it to the tasks
// the local worker registered, commits each interval to the ledger, and
// serves the HTTP API and the local registration socket. The accounting is
// core/'s Accountant; this is the wiring around it and the sampling loop, on
// the injected Clock. Its rooms: the task registry (task_registry), the
// socket (socket_server), the HTTP API (http_api), /metrics (metrics) and
// the heat control (heat).
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "core/accountant.hpp"
#include "core/history.hpp"
#include "core/ledger.hpp"
#include "heat.hpp"
#include "http_api.hpp"
#include "metrics.hpp"
#include "plugins/energy/papi_cycles.hpp"
#include "plugins/energy/select.hpp"
#include "socket_server.hpp"
#include "task_registry.hpp"

namespace hearth {

class Agent final : private SocketOps {
public:
    // counters: the PAPI seam for per-task cycles (null: CPU time only).
    Agent(AgentConfig cfg, std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
          SourceChoice choice, std::shared_ptr<PapiApi> counters = nullptr);
    ~Agent() override;

    // Serves and samples until stop() (from a signal handler's thread or a
    // test); commits the last interval before returning.
    void run();
    void stop();
    // One sampling step: commits the interval since the last one, drops the
    // tasks whose process ended, and on control steps runs the heat control.
    // run() calls it once a sampling period; a test calls it after advancing
    // a ManualClock, without sockets or threads.
    void step();

    // One request line of the registration protocol (core/agent_socket)
    // and the reply line, as the socket answers it.
    using Peer = SocketPeer;
    std::string handle_request(const std::string& line, const Peer& peer);

    nlohmann::json node_json();
    std::string metrics_text();
    int http_port() const { return m_http ? m_http->port() : 0; }
    // The heat API's JSON (GET /v1/heat) and its changes; usage_error when refused.
    nlohmann::json heat_json();
    nlohmann::json heat_post(const std::string& what, const std::string& body);
    // POST /v1/heat/try: the site's next day or week simulated under a
    // proposed target or schedule (core/sim_try); changes nothing.
    nlohmann::json heat_try(const std::string& body);
    // POST /v1/node/drain: no new tasks start here while drained (kept across restarts).
    void set_drained(bool drained);
    bool drained() const { return m_drained.load(); }

private:
    // SocketOps: what the socket's operations do, each under m_mu.
    std::uint64_t register_task(const Registration& r) override;
    TaskRegistry::Charged unregister_task(const UnregisterOp& op) override;
    BudgetReply budget() override;

    // Takes an interval into the group being collected and writes the group
    // when it is due (see flush_due). m_mu held.
    void commit(const IntervalRecord& rec);
    // Writes the collected intervals in one transaction with the state after
    // the last (the source's checkpoint then matches it). m_mu held.
    void flush();
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
    std::vector<IntervalRecord> m_pending;  // closed, not yet in the ledger
    Clock::TimePoint m_last_flush{};
    std::unique_ptr<TaskRegistry> m_tasks;
    AgentMetrics m_metrics;
    uid_t m_worker_uid = 0;
    std::atomic<bool> m_drained{false};
    HistoryBuckets m_history;
    std::vector<HistoryPoint> m_history_pending;  // closed points not yet in the ledger
    unsigned m_liveness_tick = 0;
    std::unique_ptr<HeatControl> m_heat;  // null without a grid file
    Grid m_grid;                          // the grid file's (for heat_try); empty without one
    Clock::TimePoint m_next_control{};

    std::atomic<bool> m_stop{false};
    std::mutex m_stop_mu;
    std::condition_variable m_stop_cv;
    // Their threads use the state above: the destructor ends them first.
    std::unique_ptr<HttpApi> m_http;
    std::unique_ptr<SocketServer> m_socket;
};

}  // namespace hearth
