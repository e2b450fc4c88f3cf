#include "agent.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>

#include <pwd.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/proc_stat.hpp"
#include "log.hpp"
#include "plugins/heat/source.hpp"
#include "plugins/throttle/select.hpp"

namespace hearth {

Agent::Agent(AgentConfig cfg, std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
             SourceChoice choice, std::shared_ptr<PapiApi> counters)
    : m_cfg(std::move(cfg)),
      m_fs(std::move(fs)),
      m_clock(std::move(clock)),
      m_choice(std::move(choice)),
      m_metrics(m_cfg.metrics_interval_s),
      m_history(m_cfg.history_step_s >= 60
                    ? std::vector<int>{60}
                    : std::vector<int>{static_cast<int>(m_cfg.history_step_s), 60}) {
    m_http = std::make_unique<HttpApi>(m_cfg, m_clock, *this);
    m_worker_uid = ::geteuid();
    if (!m_cfg.worker_user.empty()) {
        const passwd* pw = ::getpwnam(m_cfg.worker_user.c_str());
        if (!pw)
            throw usage_error("no user '" + m_cfg.worker_user + "' on this machine; give --worker-user the user the workers run as");
        m_worker_uid = pw->pw_uid;
    }
    m_weights = "CPU time";
    if (counters) {
        std::string why = probe_papi_cycles(*counters);
        if (why.empty()) {
            m_cycles = std::make_unique<PapiCycleMeter>(counters);
            m_weights = "PAPI_TOT_CYC cycles";
        } else {
            m_weights = "CPU time (per-task cycles unavailable: " + why + ")";
        }
    }
    if (!m_cfg.grid.empty()) {
        // The grid file says which site this node heats and how many slots it has.
        Grid grid = load_grid(m_cfg.grid);
        const GridNode* gn = grid.find_node(m_cfg.node);
        if (!gn)
            throw usage_error("node '" + m_cfg.node + "' is not in the grid file " + m_cfg.grid +
                              "; add a [[node]] for it or give --node NAME");
        const Site* site = grid.find_site(gn->site);
        m_cfg.site = site->name;
        unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
        std::vector<std::string> notes;
        auto acts = make_actuators(m_cfg.throttle, {m_cfg.fsroot, *gn, cpus, m_clock}, notes);
        m_heat = std::make_unique<HeatControl>(*site, *gn, make_heat_source(*site, m_clock),
                                               std::move(acts), notes, m_clock);
        m_grid = std::move(grid);
    }
    std::filesystem::path lp(m_cfg.ledger);
    if (lp.has_parent_path()) std::filesystem::create_directories(lp.parent_path());
    m_ledger = std::make_unique<Ledger>(m_cfg.ledger);
    const auto stat = read_proc_stat(*m_fs);
    const unsigned cores = stat ? stat->cores : 0;
    AccountantConfig ac;
    ac.node = m_cfg.node;
    ac.site = m_cfg.site;
    ac.cores = cores ? cores : 1;
    ModelParams mp = derive_model_params(ac.cores, {Watts{m_cfg.idle_watts}, Watts{m_cfg.max_watts}});
    ac.idle = mp.idle;
    // After a restart (or a SIGKILL), continue the counters from the last
    // committed interval: the energy used while no agent ran is charged to
    // the house as a 'gap' interval, neither lost nor charged to a tenant.
    auto last_t1 = m_ledger->state("last_t1_ms");
    auto checkpoint = m_ledger->state("checkpoint");
    auto last_source = m_ledger->state("source");
    if (m_heat)
        if (auto h = m_ledger->state("heat")) m_heat->restore(*h);
    if (auto d = m_ledger->state("drained")) m_drained = *d == "1";
    std::optional<std::int64_t> gap_since;
    if (last_t1 && checkpoint && last_source && *last_source == m_choice.source->name()) {
        gap_since = std::stoll(*last_t1);
        double elapsed = static_cast<double>(m_clock->unix_ms() - *gap_since) / 1000.0;
        m_choice.source->resume(*checkpoint, elapsed < 0 ? 0 : elapsed);
    }
    m_acct = std::make_unique<Accountant>(*m_choice.source, m_fs, m_clock, ac, m_cycles.get());
    m_tasks = std::make_unique<TaskRegistry>(*m_acct, *m_ledger, m_fs, m_choice.source->estimated(),
                                             [this](const IntervalRecord& rec) { commit(rec); });
    // Before any interval closes: the tasks' CPU and the node's are counted
    // from the same moment.
    m_tasks->restore();
    if (gap_since) {
        if (auto gap = m_acct->startup_gap(*gap_since)) {
            m_ledger->commit(*gap, {{"last_t1_ms", std::to_string(gap->t1_ms)},
                                    {"source", gap->source},
                                    {"checkpoint", m_choice.source->checkpoint()},
                                    {"tasks", m_tasks->state()}});
            m_tasks->saved();
            log_line("resumed the counters: " + std::to_string(gap->energy.value) +
                     " uJ used while no agent ran, charged to the house as a gap");
        }
    }
    // Counters exported to Prometheus must not go back after a restart.
    m_metrics.load(*m_ledger, m_cfg.node);
    // No task has more cores than the node. (Not the grid file's slots: a
    // slot of a node with fewer slots than cores holds several cores.)
    RegistrationPolicy policy;
    policy.worker_uid = m_worker_uid;
    policy.max_cores = ac.cores;
    policy.gpus = m_choice.source->gpu_count();
    m_socket = std::make_unique<SocketServer>(m_cfg.socket, m_cfg.node, policy, m_fs,
                                              static_cast<SocketOps&>(*this));
}

Agent::~Agent() {
    stop();
    {
        // A clean end writes what was collected; run() has done so already.
        std::lock_guard<std::mutex> lock(m_mu);
        try {
            flush();
        } catch (const std::exception& e) {
            log_line(std::string("warning: last intervals not written: ") + e.what());
        }
    }
    m_socket.reset();
    m_http.reset();
}

void Agent::commit(const IntervalRecord& rec) {
    if (m_heat) m_heat->on_interval(rec.energy.value, static_cast<double>(rec.t1_ms - rec.t0_ms) / 1000.0);
    m_pending.push_back(rec);
    m_metrics.on_interval(rec);
    if (rec.kind == "sample") history_tick(rec);
    // One fsynced transaction a second instead of one an interval: most of
    // the agent's cost. A crash loses the group's attribution only: the
    // counters, resumed from the last commit's checkpoint, give its energy
    // back as the restart's gap interval. A task coming or going is written
    // before the worker hears of it, as are gaps and the last interval.
    const bool due =
        m_tasks->dirty() || rec.kind != "sample" || m_stop ||
        m_clock->now() - m_last_flush >= std::chrono::duration_cast<Clock::Duration>(
                                             std::chrono::duration<double>(m_cfg.commit_s));
    if (due) flush();
}

void Agent::flush() {
    if (m_pending.empty()) return;
    const IntervalRecord& last = m_pending.back();
    std::map<std::string, std::string> state{{"last_t1_ms", std::to_string(last.t1_ms)},
                                             {"source", last.source},
                                             {"checkpoint", m_choice.source->checkpoint()}};
    if (m_heat) state["heat"] = m_heat->checkpoint();
    if (m_tasks->dirty()) state["tasks"] = m_tasks->state();
    state["drained"] = m_drained ? "1" : "0";
    // On failure (disk full) the group is kept and written with the next.
    m_ledger->commit(m_pending, state);
    m_pending.clear();
    m_last_flush = m_clock->now();
    m_tasks->saved();
    for (const auto& w : m_acct->take_warnings()) log_line("warning: " + w);
}

void Agent::history_tick(const IntervalRecord& rec) {
    const double dt = static_cast<double>(rec.t1_ms - rec.t0_ms) / 1000.0;
    if (dt <= 0) return;
    HistorySample s;
    s.t_ms = rec.t1_ms;
    s.power_w = static_cast<double>(rec.energy.value) / 1e6 / dt;
    s.slots = static_cast<int>(m_acct->task_count());
    if (m_heat) {
        s.temp_c = m_heat->measured();
        s.target_c = m_heat->target();
        s.slots_allowed = static_cast<int>(m_heat->budget().slots);
    }
    if (m_drained) s.slots_allowed = 0;
    auto closed = m_history.add(s);
    if (closed.empty()) return;
    // Its own small transaction, a few times a minute: a failed history write
    // is logged and retried with the next point, and never holds up the
    // energy ledger's commits.
    m_history_pending.insert(m_history_pending.end(), closed.begin(), closed.end());
    try {
        const auto step_keep = std::int64_t{26} * 3600 * 1000;
        std::vector<HistoryRetention> keep{{static_cast<int>(m_cfg.history_step_s), step_keep},
                                           {60, std::int64_t{8} * 24 * 3600 * 1000}};
        if (m_cfg.history_step_s >= 60) keep.erase(keep.begin());
        m_ledger->add_history(m_history_pending, rec.t1_ms, keep);
        m_history_pending.clear();
    } catch (const std::exception& e) {
        log_line(std::string("warning: history not saved (kept for the next try): ") + e.what());
        if (m_history_pending.size() > 10000) m_history_pending.clear();
    }
}

std::string Agent::handle_request(const std::string& line, const Peer& peer) {
    return m_socket->handle(line, peer);
}

std::uint64_t Agent::register_task(const Registration& r) {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_tasks->register_task(r);
}

TaskRegistry::Charged Agent::unregister_task(const UnregisterOp& op) {
    std::lock_guard<std::mutex> lock(m_mu);
    std::optional<TaskKey> key;
    if (op.attempt) {
        key.emplace();
        key->tenant = op.attempt->tenant;
        key->job = op.attempt->job;
        key->task = op.attempt->task;
        key->attempt = op.attempt->attempt;
    }
    return m_tasks->unregister_task(op.id, key, op.cpu_s);
}

BudgetReply Agent::budget() {
    // What the worker may run. Without heat control, everything (unless an
    // operator drained the node).
    std::lock_guard<std::mutex> lock(m_mu);
    if (m_drained) return BudgetReply{true, 0, 0, "drain", 0.0, 0.0};
    if (!m_heat) return BudgetReply{};
    const HeatBudget b = m_heat->budget();
    return BudgetReply{true, b.slots, b.slots_total, to_string(b.mode), b.fraction, b.waste};
}

nlohmann::json Agent::node_json() {
    std::lock_guard<std::mutex> lock(m_mu);
    return {{"node", m_cfg.node},
            {"site", m_cfg.site},
            {"source", m_choice.source->name()},
            {"estimated", m_choice.source->estimated()},
            {"power_w", m_acct->last_power().value},
            {"energy_uj", m_metrics.node_uj()},
            {"cores", m_acct->config().cores},
            {"idle_w", m_acct->config().idle.value},
            {"weights", m_weights},
            {"drained", m_drained.load()},
            {"tasks", m_tasks->to_json()}};
}

nlohmann::json Agent::heat_json() {
    double power = 0;
    {
        std::lock_guard<std::mutex> lock(m_mu);
        power = m_acct->last_power().value;
    }
    nlohmann::json j = m_heat ? m_heat->to_json(power) : nlohmann::json{{"heat", false}};
    j["node"] = m_cfg.node;
    j["site"] = m_cfg.site;
    return j;
}

nlohmann::json Agent::heat_post(const std::string& what, const std::string& body) {
    if (!m_heat)
        throw usage_error("this agent has no heat control; start it with --grid FILE naming its site");
    HeatChange change = parse_heat_change(what, body, m_heat->site(), m_clock->unix_ms() / 1000);
    if (auto* t = std::get_if<TargetChange>(&change)) {
        m_heat->set_target(t->target, t->until_unix);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f C", t->target);
        log_line(std::string("heat target set to ") + buf);
    } else if (auto* sc = std::get_if<ScheduleChange>(&change)) {
        m_heat->set_schedule(sc->schedule);
        log_line("heat schedule set to '" + (sc->schedule.empty() ? "none" : sc->schedule) + "'");
    } else {
        m_heat->set_measured(std::get<MeasuredChange>(change).measured);
    }
    return heat_json();
}

nlohmann::json Agent::heat_try(const std::string& body) {
    if (!m_heat)
        throw usage_error(
            "this agent has no heat control; start it with --grid FILE naming its site");
    const TryRequest req = parse_try_request(body, m_heat->site());
    TryState st;
    const std::int64_t now_ms = m_clock->unix_ms();
    st.now_unix = now_ms / 1000;
    // Schedules run in the site's local time, as HeatControl evaluates them.
    std::time_t t = static_cast<std::time_t>(st.now_unix);
    std::tm tm{};
    localtime_r(&t, &tm);
    st.utc_offset_s = tm.tm_gmtoff;
    st.measured = m_heat->measured();
    st.plan = m_heat->plan();
    {
        // The last day, in minutes (its finer steps while the agent is younger).
        Ledger ro(m_cfg.ledger, true);
        const std::int64_t since = now_ms - std::int64_t{24} * 3600 * 1000;
        st.recent = ro.history(60, since, now_ms + 1, 1500);
        if (st.recent.empty() && m_cfg.history_step_s < 60)
            st.recent = ro.history(static_cast<int>(m_cfg.history_step_s), since, now_ms + 1, 9000);
    }
    const GridNode* node = m_grid.find_node(m_cfg.node);
    if (!node)
        throw Error("node '" + m_cfg.node + "' is not in the grid file any more; this is a bug");
    nlohmann::json j = try_json(run_try(m_grid, m_cfg.site, *node, st, req));
    j["node"] = m_cfg.node;
    return j;
}

void Agent::set_drained(bool drained) {
    std::lock_guard<std::mutex> lock(m_mu);
    m_drained = drained;
    log_line(drained ? "drained: no new tasks start here" : "undrained: tasks start here again");
}

std::string Agent::metrics_text() {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_metrics.text({m_cfg.site, m_cfg.node, m_choice.source->name(),
                           m_choice.source->estimated(), m_tasks->size()});
}

void Agent::step() {
    // The task list is only needed on control steps, not every sample.
    const bool control_due = m_heat && !m_stop && m_clock->now() >= m_next_control;
    std::vector<ThrottleTask> tasks;
    {
        std::lock_guard<std::mutex> lock(m_mu);
        commit(m_acct->sample());  // also the last interval, on stop
        // Once a second: a dead task costs a share of the node until then.
        if (++m_liveness_tick % std::max(1, static_cast<int>(m_cfg.rate_hz)) == 0)
            m_tasks->drop_dead_tasks();
        if (control_due)
            for (const auto& t : m_acct->tasks())
                tasks.push_back(ThrottleTask{
                    t.reg.pid, -1, t.cgroup.empty() ? "" : m_fs->path(t.cgroup), t.cgroup_v2});
    }
    if (m_heat && !m_stop) {
        // Outside m_mu: an http heat feed may take its timeout to answer.
        auto now_tp = m_clock->now();
        if (control_due) {
            m_heat->control(m_cfg.control_s, tasks);
            m_next_control = now_tp + std::chrono::duration_cast<Clock::Duration>(
                                          std::chrono::duration<double>(m_cfg.control_s));
        }
        m_heat->tick();
    }
}

void Agent::run() {
    m_socket->start();
    m_http->start();
    log_line(m_choice.summary);
    log_line("dynamic energy split by " + m_weights);
    log_line("node " + m_cfg.node + " of site " + m_cfg.site + ", http " +
             split_listen(m_cfg.listen).first + ":" + std::to_string(m_http->port()) + ", socket " +
             m_cfg.socket + ", ledger " + m_cfg.ledger);

    auto period = std::chrono::duration<double>(1.0 / m_cfg.rate_hz);
    auto cap = m_choice.source->max_interval();
    if (period > cap) period = cap;
    const auto every = std::chrono::duration_cast<Clock::Duration>(period);
    // Deadlines on the injected clock; the wait itself is a condition
    // variable's, so stop() ends it at once.
    auto next = m_clock->now() + every;
    while (!m_stop) {
        {
            std::unique_lock<std::mutex> lk(m_stop_mu);
            m_stop_cv.wait_for(lk, next - m_clock->now(), [this] { return m_stop.load(); });
        }
        step();
        next += every;
        auto now = m_clock->now();
        if (next < now) next = now + every;  // fell behind: do not burst
    }
    m_http->stop();
    log_line("stopped after committing the last interval");
}

void Agent::stop() {
    m_stop = true;
    if (m_socket) m_socket->stop();
    m_stop_cv.notify_all();
}

}  // namespace hearth
