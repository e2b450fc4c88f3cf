#include "agent.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <pwd.h>

#include <httplib.h>

#include "core/api_request.hpp"
#include "core/error.hpp"
#include "core/json_server.hpp"

namespace hearth {
namespace {

void log_line(const std::string& s) { std::cerr << "grid-agent: " << s << std::endl; }

std::string prom_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '\\' || c == '"') o += '\\';
        if (c == '\n') {
            o += "\\n";
            continue;
        }
        o += c;
    }
    return o;
}

std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name) {
    if (!req.has_param(name)) return std::nullopt;
    const std::string v = req.get_param_value(name);
    // Whole digits only, and small enough that adding a day or a week to it
    // cannot overflow (2^53: any time in milliseconds people use).
    std::size_t used = 0;
    long long n = 0;
    try {
        n = std::stoll(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (v.empty() || used != v.size() || n < 0 || n > (1LL << 53))
        throw usage_error(std::string("query parameter '") + name + "' must be a whole number from 0 to 2^53");
    return n;
}

}  // namespace

Agent::Agent(AgentConfig cfg, std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
             SourceChoice choice, std::shared_ptr<PapiApi> counters)
    : m_cfg(std::move(cfg)), m_fs(std::move(fs)), m_clock(std::move(clock)),
      m_choice(std::move(choice)),
      m_history(m_cfg.history_step_s >= 60 ? std::vector<int>{60}
                                           : std::vector<int>{static_cast<int>(m_cfg.history_step_s), 60}) {
    if (!m_cfg.tokens.empty())
        m_tokens = TokenTable::parse(read_secret_file(m_cfg.tokens, 0640), m_cfg.tokens);
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
        auto acts = make_actuators(m_cfg.throttle, m_cfg.fsroot, *gn, cpus, m_clock, notes);
        m_heat = std::make_unique<HeatControl>(*site, *gn, make_heat_source(*site, m_clock),
                                               std::move(acts), notes, m_clock);
    }
    std::filesystem::path lp(m_cfg.ledger);
    if (lp.has_parent_path()) std::filesystem::create_directories(lp.parent_path());
    m_ledger = std::make_unique<Ledger>(m_cfg.ledger);
    unsigned cores = 0;
    if (auto st = m_fs->read("/proc/stat"); st.text) {
        std::istringstream in(*st.text);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("cpu", 0) == 0 && line.size() > 3 && std::isdigit(static_cast<unsigned char>(line[3]))) ++cores;
    }
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
    // Before any interval closes: the tasks' CPU and the node's are counted
    // from the same moment.
    restore_tasks();
    if (gap_since) {
        if (auto gap = m_acct->startup_gap(*gap_since)) {
            m_ledger->commit(*gap, {{"last_t1_ms", std::to_string(gap->t1_ms)},
                                    {"source", gap->source},
                                    {"checkpoint", m_choice.source->checkpoint()},
                                    {"tasks", tasks_state()}});
            m_tasks_dirty = false;
            log_line("resumed the counters: " + std::to_string(gap->energy.value) +
                     " uJ used while no agent ran, charged to the house as a gap");
        }
    }
    // Counters exported to Prometheus must not go back after a restart.
    EnergyQuery q;
    q.by = "tenant";
    q.node = m_cfg.node;
    for (const auto& row : m_ledger->query(q)) m_tenant_uj[row.key] = row.energy.value;
    m_node_uj = m_ledger->total_energy().value;
    m_metrics_tenant_uj = m_tenant_uj;
    m_metrics_node_uj = m_node_uj;
}

Agent::~Agent() {
    stop();
    if (m_socket_thread.joinable()) m_socket_thread.join();
    if (m_http_thread.joinable()) m_http_thread.join();
    if (m_listen_fd >= 0) ::close(m_listen_fd);
}

std::string Agent::tasks_state() const {
    // No running totals: what the ledger charged an attempt is its total, so
    // this changes only when a task comes or goes, not with every interval.
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : m_acct->tasks())
        tasks.push_back({{"id", t.id},
                         {"tenant", t.reg.key.tenant},
                         {"job", t.reg.key.job},
                         {"task", t.reg.key.task},
                         {"attempt", t.reg.key.attempt},
                         {"pid", t.reg.pid},
                         {"cores", t.reg.cores},
                         {"start_ticks", t.reg.start_ticks}});
    return nlohmann::json{{"next_id", m_acct->next_id()}, {"tasks", tasks}}.dump();
}

void Agent::restore_tasks() {
    // Each task's total so far is what the ledger charged its attempt: the
    // last committed interval, no more (what it used since is in the startup
    // gap, which the house pays).
    auto saved = m_ledger->state("tasks");
    if (!saved) return;
    m_tasks_dirty = true;  // saved again with the next interval, without the dropped ones
    std::string adopted, dropped;
    try {
        auto j = nlohmann::json::parse(*saved);
        m_acct->reserve_ids(j.at("next_id").get<std::uint64_t>());
        for (const auto& t : j.at("tasks")) {
            TaskView v;
            v.id = t.at("id").get<std::uint64_t>();
            v.reg.key.tenant = t.at("tenant").get<std::string>();
            v.reg.key.job = t.at("job").get<std::string>();
            v.reg.key.task = t.at("task").get<std::int64_t>();
            v.reg.key.attempt = t.at("attempt").get<std::uint32_t>();
            v.reg.pid = t.at("pid").get<pid_t>();
            v.reg.cores = t.at("cores").get<unsigned>();
            v.reg.start_ticks = t.at("start_ticks").get<std::uint64_t>();
            v.totals.energy =
                m_ledger->task_energy(v.reg.key.job, v.reg.key.task, v.reg.key.attempt);
            v.totals.estimated = m_choice.source->estimated();
            std::string& list = m_acct->adopt_task(v) ? adopted : dropped;
            list += (list.empty() ? "" : " ") + std::to_string(v.id);
        }
    } catch (const nlohmann::json::exception& e) {
        log_line(std::string("warning: the saved task registrations are unreadable (") + e.what() +
                 "); their tasks' energy from now on goes to the house");
        return;
    }
    if (!adopted.empty())
        log_line("re-adopted tasks registered before the restart, ids " + adopted);
    if (!dropped.empty())
        log_line("dropped tasks whose processes ended while no agent ran, ids " + dropped +
                 "; their workers get what the ledger charged them");
}

void Agent::commit(const IntervalRecord& rec) {
    if (m_heat) m_heat->on_interval(rec.energy.value, static_cast<double>(rec.t1_ms - rec.t0_ms) / 1000.0);
    std::map<std::string, std::string> state{
        {"last_t1_ms", std::to_string(rec.t1_ms)},
        {"source", rec.source},
        {"checkpoint", m_choice.source->checkpoint()}};
    if (m_heat) state["heat"] = m_heat->checkpoint();
    if (m_tasks_dirty) state["tasks"] = tasks_state();
    state["drained"] = m_drained ? "1" : "0";
    m_ledger->commit(rec, state);
    m_tasks_dirty = false;
    m_node_uj += rec.energy.value;
    for (const auto& c : rec.charges) {
        std::string key = c.tenant.empty() ? "house" : c.tenant;
        m_tenant_uj[key] += c.static_part.value + c.dynamic_part.value;
    }
    for (const auto& w : m_acct->take_warnings()) log_line("warning: " + w);
    metrics_tick(rec.t1_ms);
    if (rec.kind == "sample") history_tick(rec);
}

void Agent::metrics_tick(std::int64_t now_ms) {
    const auto interval_ms = static_cast<std::int64_t>(m_cfg.metrics_interval_s * 1000);
    const std::int64_t slot = now_ms / interval_ms;
    if (slot == m_metrics_slot) return;
    // The mean over the interval that just ended; the first snapshot has no
    // interval before it.
    if (m_metrics_slot >= 0)
        m_metrics_power_w = static_cast<double>(m_node_uj - m_metrics_node_uj) / 1e6 /
                            (static_cast<double>(interval_ms) / 1000.0);
    m_metrics_slot = slot;
    m_metrics_tenant_uj = m_tenant_uj;
    m_metrics_node_uj = m_node_uj;
}

void Agent::history_tick(const IntervalRecord& rec) {
    const double dt = static_cast<double>(rec.t1_ms - rec.t0_ms) / 1000.0;
    if (dt <= 0) return;
    HistorySample s;
    s.t_ms = rec.t1_ms;
    s.power_w = static_cast<double>(rec.energy.value) / 1e6 / dt;
    s.slots = static_cast<int>(m_acct->tasks().size());
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

std::uint64_t Agent::check_peer(const Peer& peer, pid_t pid) const {
    if (peer.uid != 0 && peer.uid != m_worker_uid)
        throw usage_error("uid " + std::to_string(peer.uid) +
                          " may not register tasks here: only the workers' user (uid " +
                          std::to_string(m_worker_uid) + ", --worker-user) or root may");
    if (peer.uid == 0 || pid <= 0) return 0;
    // A task charged to a tenant must be the peer's own process: otherwise a
    // local user could have someone else's work billed to a tenant of theirs.
    // The start time read before and after the owner ties the owner to this
    // very process, not to a later one that reused the pid; it is kept with
    // the registration, so a reuse afterwards drops the task.
    const auto before = process_start_ticks(*m_fs, pid);
    auto st = m_fs->read("/proc/" + std::to_string(pid) + "/status");
    const auto after = process_start_ticks(*m_fs, pid);
    if (!st.text || !before || !after || *before != *after || *before == 0)
        throw usage_error("pid " + std::to_string(pid) + " is not running; register a live task");
    std::istringstream in(*st.text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Uid:", 0) != 0) continue;
        std::istringstream words(line.substr(4));
        long real = -1;
        words >> real;
        if (real != static_cast<long>(peer.uid))
            throw usage_error("pid " + std::to_string(pid) + " belongs to uid " + std::to_string(real) +
                              ", not to the registering uid " + std::to_string(peer.uid) +
                              "; register only your own tasks");
        return *before;
    }
    throw usage_error("cannot tell who owns pid " + std::to_string(pid) + "; register a live task");
}

nlohmann::json Agent::handle_request(const nlohmann::json& req, const Peer& peer) {
    try {
        SocketOp op = parse_socket_op(req.dump());
        if (auto* reg = std::get_if<RegisterOp>(&op)) {
            const std::uint64_t verified_start = check_peer(peer, reg->pid);
            std::lock_guard<std::mutex> lock(m_mu);
            Registration r;
            r.start_ticks = verified_start;  // 0 (root peer): the accountant reads it
            r.key.tenant = reg->tenant;
            r.key.job = reg->job;
            r.key.task = reg->task;
            r.key.attempt = reg->attempt;
            r.pid = reg->pid;
            r.cores = reg->cores;
            // A worker sends again when it lost the reply (the agent was
            // killed after committing): the same attempt keeps its id.
            if (auto id = m_acct->find_task(r.key, r.pid)) return {{"ok", true}, {"id", *id}};
            IntervalRecord closed;
            std::uint64_t id = m_acct->register_task(r, closed);
            m_tasks_dirty = true;
            commit(closed);
            return {{"ok", true}, {"id", id}};
        }
        if (auto* un = std::get_if<UnregisterOp>(&op)) {
            check_peer(peer, 0);
            std::lock_guard<std::mutex> lock(m_mu);
            std::uint64_t id = un->id;
            if (un->attempt) {
                // The worker names the attempt: ids do not outlive a lost
                // ledger, and an attempt that is no longer registered (its
                // unregister was committed but the reply lost, or it ended
                // while no agent ran) gets what the ledger charged it, which
                // is final.
                TaskKey key;
                key.tenant = un->attempt->tenant;
                key.job = un->attempt->job;
                key.task = un->attempt->task;
                key.attempt = un->attempt->attempt;
                auto found = m_acct->find_task(key);
                if (!found) {
                    Microjoules e = m_ledger->task_energy(key.job, key.task, key.attempt);
                    return {{"ok", true},
                            {"energy_uj", e.value},
                            {"estimated", m_choice.source->estimated()},
                            {"from_ledger", true}};
                }
                id = *found;
            }
            IntervalRecord closed;
            TaskTotals t = m_acct->unregister_task(id, un->cpu_s, closed);
            m_tasks_dirty = true;
            commit(closed);
            return {{"ok", true}, {"energy_uj", t.energy.value}, {"estimated", t.estimated}};
        }
        if (std::holds_alternative<PingOp>(op)) return {{"ok", true}, {"node", m_cfg.node}};
        // budget: what the worker may run. Without heat control, everything
        // (unless an operator drained the node).
        std::lock_guard<std::mutex> lock(m_mu);
        if (m_drained)
            return {{"ok", true}, {"heat", true}, {"slots", 0}, {"slots_total", 0},
                    {"mode", "drain"}, {"fraction", 0.0}, {"waste", 0.0}};
        if (!m_heat) return {{"ok", true}, {"heat", false}};
        HeatBudget b = m_heat->budget();
        return {{"ok", true},   {"heat", true},        {"slots", b.slots},
                {"slots_total", b.slots_total}, {"mode", to_string(b.mode)},
                {"fraction", b.fraction}, {"waste", b.waste}};
    } catch (const std::exception& e) {
        return {{"ok", false}, {"error", e.what()}};
    }
}

nlohmann::json Agent::node_json() {
    std::lock_guard<std::mutex> lock(m_mu);
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : m_acct->tasks())
        tasks.push_back({{"id", t.id},
                         {"tenant", t.reg.key.tenant},
                         {"job", t.reg.key.job},
                         {"task", t.reg.key.task},
                         {"attempt", t.reg.key.attempt},
                         {"pid", t.reg.pid},
                         {"cores", t.reg.cores},
                         {"energy_uj", t.totals.energy.value}});
    return {{"node", m_cfg.node},
            {"site", m_cfg.site},
            {"source", m_choice.source->name()},
            {"estimated", m_choice.source->estimated()},
            {"power_w", m_acct->last_power().value},
            {"energy_uj", m_node_uj},
            {"cores", m_acct->config().cores},
            {"idle_w", m_acct->config().idle.value},
            {"weights", m_weights},
            {"drained", m_drained.load()},
            {"tasks", tasks}};
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

nlohmann::json Agent::grid_json() {
    nlohmann::json heat = heat_json();
    nlohmann::json node = node_json();
    const double power = node.value("power_w", 0.0);
    nlohmann::json site{{"site", m_cfg.site},
                        {"heat", heat.value("heat", false) ? heat : nlohmann::json()},
                        {"power_w", power},
                        {"today_kwh", heat.value("today_kwh", 0.0)},
                        {"today_useful_kwh", heat.value("today_useful_kwh", 0.0)},
                        {"alarms", nlohmann::json::array()}};
    if (auto a = heat.find("alarm"); a != heat.end() && a->is_string() && !a->get<std::string>().empty())
        site["alarms"].push_back(*a);
    site["nodes"] = nlohmann::json::array(
        {{{"node", m_cfg.node},
          {"agent", ""},
          {"state", m_drained ? "drained" : "up"},
          {"power_w", power},
          {"slots", heat.value("slots", 0)},
          {"slots_allowed", heat.value("slots_allowed", 0)},
          {"tasks", node["tasks"].size()}}});
    return {{"sites", nlohmann::json::array({site})}};
}

nlohmann::json Agent::history_json(std::optional<std::int64_t> since_ms, std::optional<std::int64_t> until_ms,
                                   std::optional<int> res_s) {
    const std::int64_t now = m_clock->unix_ms();
    const std::int64_t until = until_ms.value_or(now + 1);
    const std::int64_t since = since_ms.value_or(until - std::int64_t{24} * 3600 * 1000);
    if (since >= until) throw usage_error("since_ms must be before until_ms");
    const int step = static_cast<int>(m_cfg.history_step_s);
    int res = res_s.value_or(pick_resolution(since, until) == 10 ? step : 60);
    if (res != step && res != 60)
        throw usage_error("res_s must be " + std::to_string(step) + " or 60 (the resolutions kept)");
    std::vector<HistoryPoint> points;
    {
        Ledger ro(m_cfg.ledger, true);
        points = ro.history(res, since, until, 12000);  // 8 days of minutes: 11,520
    }
    nlohmann::json arr = nlohmann::json::array();
    auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
    for (const auto& p : points)
        arr.push_back({{"t_ms", p.t_ms},
                       {"power_w", p.power_w},
                       {"temp_c", opt(p.temp_c)},
                       {"target_c", opt(p.target_c)},
                       {"slots_allowed", p.slots_allowed},
                       {"slots", p.slots}});
    return {{"node", m_cfg.node}, {"site", m_cfg.site}, {"res_s", res}, {"points", arr}};
}

void Agent::set_drained(bool drained) {
    std::lock_guard<std::mutex> lock(m_mu);
    m_drained = drained;
    log_line(drained ? "drained: no new tasks start here" : "undrained: tasks start here again");
}

std::optional<Role> Agent::caller(const httplib::Request& req) const {
    if (!m_tokens) return Role{RoleKind::operator_, "", "no-auth"};
    if (!req.has_header("Authorization")) return std::nullopt;
    auto tok = bearer_token(req.get_header_value("Authorization"));
    if (!tok) return std::nullopt;
    return m_tokens->find(*tok);
}

std::string Agent::metrics_text() {
    std::lock_guard<std::mutex> lock(m_mu);
    std::ostringstream o;
    std::string labels = "site=\"" + prom_escape(m_cfg.site) + "\",node=\"" +
                         prom_escape(m_cfg.node) + "\"";
    o << "# HELP hearth_tenant_energy_joules_total Energy charged to each tenant on this node "
         "(house: unreserved and background), updated once a metrics interval.\n"
      << "# TYPE hearth_tenant_energy_joules_total counter\n";
    for (const auto& [tenant, uj] : m_metrics_tenant_uj)
        o << "hearth_tenant_energy_joules_total{tenant=\"" << prom_escape(tenant) << "\","
          << labels << "} " << static_cast<double>(uj) / 1e6 << "\n";
    o << "# HELP hearth_node_energy_joules_total Energy this node used, as measured.\n"
      << "# TYPE hearth_node_energy_joules_total counter\n"
      << "hearth_node_energy_joules_total{" << labels << "} " << static_cast<double>(m_metrics_node_uj) / 1e6
      << "\n"
      << "# HELP hearth_node_power_watts Mean power over the last metrics interval.\n"
      << "# TYPE hearth_node_power_watts gauge\n"
      << "hearth_node_power_watts{" << labels << "} " << m_metrics_power_w << "\n"
      << "# HELP hearth_node_energy_estimated 1 when the figures come from a model, not a meter.\n"
      << "# TYPE hearth_node_energy_estimated gauge\n"
      << "hearth_node_energy_estimated{" << labels << ",source=\""
      << prom_escape(m_choice.source->name()) << "\"} " << (m_choice.source->estimated() ? 1 : 0)
      << "\n"
      << "# HELP hearth_node_tasks Tasks registered on this node now.\n"
      << "# TYPE hearth_node_tasks gauge\n"
      << "hearth_node_tasks{" << labels << "} " << m_acct->tasks().size() << "\n";
    return o.str();
}

void Agent::serve_connection(int fd, const Peer& peer) {
    std::string buf;
    char chunk[4096];
    // A worker keeps its connection open between tasks; half a line left
    // hanging for 30 s is not a worker.
    auto last = std::chrono::steady_clock::now();
    while (!m_stop) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) {
            if (!buf.empty() && std::chrono::steady_clock::now() - last > std::chrono::seconds(30)) break;
            continue;
        }
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) break;
        last = std::chrono::steady_clock::now();
        buf.append(chunk, static_cast<std::size_t>(n));
        if (buf.size() > (1 << 16)) break;  // no request is this long
        std::size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            nlohmann::json reply;
            try {
                reply = handle_request(nlohmann::json::parse(line), peer);
            } catch (const std::exception& e) {
                reply = {{"ok", false}, {"error", std::string("not JSON: ") + e.what()}};
            }
            std::string out = reply.dump() + "\n";
            if (::write(fd, out.data(), out.size()) < 0) break;
        }
    }
    ::close(fd);
}

void Agent::serve_socket() {
    // Threads are detached and counted: a connection that ends frees its
    // thread at once. Peers other than root and the workers' user share a
    // small cap, so no local user can exhaust threads or crowd out workers.
    constexpr int k_max_other_conns = 16;
    while (!m_stop) {
        pollfd p{m_listen_fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
            ::close(fd);  // no credentials, no service
            continue;
        }
        const bool trusted = cred.uid == 0 || cred.uid == m_worker_uid;
        if (!trusted && m_other_conns.load() >= k_max_other_conns) {
            ::close(fd);
            continue;
        }
        Peer peer{cred.pid, cred.uid, cred.gid};
        ++m_conns;
        if (!trusted) ++m_other_conns;
        try {
            std::thread([this, fd, peer, trusted] {
                serve_connection(fd, peer);
                if (!trusted) --m_other_conns;
                --m_conns;
            }).detach();
        } catch (const std::system_error&) {
            ::close(fd);
            if (!trusted) --m_other_conns;
            --m_conns;
        }
    }
    while (m_conns.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

namespace {

// Which policy route a request is (core/auth); nullopt: no such API route.
std::optional<Route> route_of(const httplib::Request& req) {
    const std::string& p = req.path;
    const bool get = req.method == "GET" || req.method == "HEAD";
    const bool post = req.method == "POST";
    // Open routes answer GET only: anything else is refused before httplib
    // reads a body for it.
    if (p == "/v1/health") return get ? std::optional<Route>(Route::health) : std::nullopt;
    if (p == "/metrics") return get ? std::optional<Route>(Route::metrics) : std::nullopt;
    if (p.rfind("/v1/", 0) != 0) return get ? std::optional<Route>(Route::dashboard) : std::nullopt;
    if (get && p == "/v1/whoami") return Route::whoami;
    if (get && p == "/v1/node") return Route::node;
    if (get && p == "/v1/energy") return Route::energy;
    if (get && (p == "/v1/heat" || p == "/v1/grid" || p == "/v1/history")) return Route::heat_read;
    if (post && p.rfind("/v1/heat/", 0) == 0) return Route::heat_write;
    if (post && p == "/v1/node/drain") return Route::drain;
    return std::nullopt;
}

void json_reply(httplib::Response& res, const nlohmann::json& j, int status = 200) {
    res.status = status;
    res.set_content(j.dump(), "application/json");
}

void error_reply(httplib::Response& res, const Error& e) {
    json_reply(res, {{"error", e.what()}}, e.code() == ExitCode::usage ? 400 : 500);
}

// The dashboard's files: the --dashboard directory, else next to the
// executable when they are there ("" = serve the API alone).
std::string dashboard_dir(const std::string& configured) {
    if (!configured.empty()) return configured;
    std::error_code ec;
    auto dir = installed_dashboard_dir();
    return !dir.empty() && std::filesystem::is_directory(dir, ec) ? dir.string() : "";
}

}  // namespace

void Agent::start_http() {
    const bool tls = !m_cfg.tls_cert.empty();
    if (tls) {
        // Both files are read now, so a bad path fails the start, not the first request.
        for (const auto& f : {m_cfg.tls_cert, m_cfg.tls_key})
            if (::access(f.c_str(), R_OK) != 0)
                throw usage_error("cannot read TLS file " + f + ": " + std::strerror(errno) +
                                  "; check --tls-cert and --tls-key");
        auto ssl = std::make_unique<httplib::SSLServer>(m_cfg.tls_cert.c_str(), m_cfg.tls_key.c_str());
        if (!ssl->is_valid())
            throw usage_error("TLS certificate " + m_cfg.tls_cert + " or key " + m_cfg.tls_key +
                              " is not valid PEM, or they do not match; make them with openssl req -x509");
        m_http = std::move(ssl);
    } else {
        m_http = std::make_unique<httplib::Server>();
    }
    auto& s = *m_http;
    bound_json_server(s);
    // Authentication and the role check happen before any route runs.
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        auto route = route_of(req);
        if (!route) {
            json_reply(res, {{"error", "no such route: " + req.method + " " + req.path.substr(0, 100) +
                                           "; see hearth-api(7)"}},
                       404);
            return httplib::Server::HandlerResponse::Handled;
        }
        // Debian's httplib 0.11 does not apply the payload limit to chunked
        // bodies; no client of this API sends one. And a POST must say it is
        // JSON, which a cross-site form cannot without a CORS preflight.
        if (req.has_header("Transfer-Encoding")) {
            json_reply(res, {{"error", "chunked bodies are not accepted; send Content-Length"}}, 411);
            return httplib::Server::HandlerResponse::Handled;
        }
        if (req.method == "POST") {
            const std::string ct = req.get_header_value("Content-Type");
            if (ct.rfind("application/json", 0) != 0) {
                json_reply(res, {{"error", "send the body as Content-Type: application/json"}}, 415);
                return httplib::Server::HandlerResponse::Handled;
            }
        }
        const bool given = req.has_header("Authorization");
        Decision d = authorize(given || !m_tokens, caller(req), *route, m_cfg.site, m_cfg.public_metrics);
        if (!d.allowed()) {
            if (d.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"hearth\"");
            json_reply(res, {{"error", d.error}}, d.status);
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    s.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
        json_reply(res, {{"ok", true}, {"node", m_cfg.node}, {"site", m_cfg.site}});
    });
    s.Get("/v1/whoami", [this](const httplib::Request& req, httplib::Response& res) {
        Role r = *caller(req);
        nlohmann::json j{{"role", to_string(r)}, {"auth", m_tokens.has_value()}, {"node", m_cfg.node},
                         {"site", m_cfg.site}};
        j["kind"] = to_string(r.kind);
        if (r.kind == RoleKind::tenant) j["tenant"] = r.scope;
        if (r.kind == RoleKind::facility) j["scope"] = r.scope.empty() ? nlohmann::json() : nlohmann::json(r.scope);
        json_reply(res, j);
    });
    s.Get("/v1/node", [this](const httplib::Request&, httplib::Response& res) { json_reply(res, node_json()); });
    s.Get("/v1/energy", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            Role who = *caller(req);
            EnergyQuery q;
            if (who.kind == RoleKind::tenant) {
                // A tenant sees itself only, however the query is written.
                std::vector<std::pair<std::string, std::string>> params(req.params.begin(), req.params.end());
                Decision d = check_tenant_query(who, params);
                if (!d.allowed()) return json_reply(res, {{"error", d.error}}, d.status);
            }
            for (const auto& [name, value] : req.params)
                if (name != "tenant" && name != "job" && name != "site" && name != "node" && name != "since_ms" &&
                    name != "until_ms" && name != "by")
                    throw usage_error("unknown query parameter '" + name.substr(0, 64) +
                                      "'; use tenant, job, site, node, since_ms, until_ms or by");
            if (req.has_param("tenant")) q.tenant = req.get_param_value("tenant");
            if (req.has_param("job")) q.job = req.get_param_value("job");
            if (req.has_param("site")) q.site = req.get_param_value("site");
            if (req.has_param("node")) q.node = req.get_param_value("node");
            if (who.kind == RoleKind::tenant) q.tenant = who.scope;
            q.since_ms = int_param(req, "since_ms");
            q.until_ms = int_param(req, "until_ms");
            if (req.has_param("by")) q.by = req.get_param_value("by");
            Ledger ro(m_cfg.ledger, true);
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& r : ro.query(q))
                rows.push_back({{"key", r.key},
                                {"energy_uj", r.energy.value},
                                {"static_uj", r.static_part.value},
                                {"seconds", r.seconds},
                                {"estimated", r.estimated}});
            json_reply(res, {{"node", m_cfg.node}, {"by", q.by}, {"rows", rows}});
        } catch (const Error& e) {
            error_reply(res, e);
        }
    });
    s.Get("/v1/heat", [this](const httplib::Request&, httplib::Response& res) { json_reply(res, heat_json()); });
    s.Get("/v1/grid", [this](const httplib::Request&, httplib::Response& res) { json_reply(res, grid_json()); });
    s.Get("/v1/history", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            std::optional<int> res_s;
            if (auto r = int_param(req, "res_s")) {
                if (*r < 1 || *r > 3600) throw usage_error("res_s must be between 1 and 3600");
                res_s = static_cast<int>(*r);
            }
            if (req.has_param("site") && req.get_param_value("site") != m_cfg.site)
                throw usage_error("this agent keeps the history of site '" + m_cfg.site + "' only");
            json_reply(res, history_json(int_param(req, "since_ms"), int_param(req, "until_ms"), res_s));
        } catch (const Error& e) {
            error_reply(res, e);
        }
    });
    s.Post(R"(/v1/heat/(target|schedule|measured))", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            json_reply(res, heat_post(req.matches[1], req.body));
        } catch (const Error& e) {
            error_reply(res, e);
        }
    });
    s.Post("/v1/node/drain", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            nlohmann::json body;
            try {
                body = nlohmann::json::parse(req.body);
            } catch (const std::exception&) {
                throw usage_error("the body is not JSON; send {\"drain\": true} or {\"drain\": false}");
            }
            if (!body.is_object() || body.size() != 1 || !body.contains("drain") || !body["drain"].is_boolean())
                throw usage_error("send {\"drain\": true} or {\"drain\": false}");
            set_drained(body["drain"].get<bool>());
            json_reply(res, node_json());
        } catch (const Error& e) {
            error_reply(res, e);
        }
    });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_text(), "text/plain; version=0.0.4");
    });
    if (std::string dir = dashboard_dir(m_cfg.dashboard); !dir.empty()) {
        if (!s.set_mount_point("/", dir))
            throw usage_error("dashboard directory " + dir + " does not exist; give --dashboard DIR");
    }
    auto [host, port] = split_listen(m_cfg.listen);
    if (!is_loopback_host(host) && !tls)
        log_line("warning: serving plain HTTP on " + m_cfg.listen +
                 " (--insecure-http): tokens and figures cross the network unencrypted");
    int bound = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
    if (bound < 0)
        throw Error("cannot listen on " + m_cfg.listen + ": " + std::strerror(errno) +
                    "; is another grid-agent running? choose another --listen");
    m_http_port = bound;
    m_http_thread = std::thread([this] { m_http->listen_after_bind(); });
}

void Agent::drop_dead_tasks() {
    // A task whose process is gone without an unregister (its worker was
    // killed: a relaunch after a lost host takes every rank down) would be
    // charged a share of the node for ever. Once a second, drop those whose
    // pid is no longer the process registered (gone, or reused); a late
    // unregister still gets the attempt's figure from the ledger.
    if (++m_liveness_tick % std::max(1, static_cast<int>(m_cfg.rate_hz)) != 0) return;
    std::vector<std::uint64_t> dead;
    for (const auto& t : m_acct->tasks()) {
        if (t.reg.start_ticks == 0) continue;  // unknown at registration: cannot tell
        auto now = process_start_ticks(*m_fs, t.reg.pid);
        if (!now || *now != t.reg.start_ticks) dead.push_back(t.id);
    }
    for (auto id : dead) {
        IntervalRecord closed;
        m_acct->unregister_task(id, std::nullopt, closed);
        m_tasks_dirty = true;
        commit(closed);
        log_line("task " + std::to_string(id) + " ended without being unregistered; dropped");
    }
}

void Agent::run() {
    // The registration socket: local only, for this node's worker.
    std::filesystem::path sp(m_cfg.socket);
    if (sp.has_parent_path()) std::filesystem::create_directories(sp.parent_path());
    ::unlink(m_cfg.socket.c_str());
    m_listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (m_cfg.socket.size() >= sizeof addr.sun_path)
        throw usage_error("socket path " + m_cfg.socket + " is too long; use a shorter --socket");
    std::strcpy(addr.sun_path, m_cfg.socket.c_str());
    if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(m_listen_fd, 16) != 0)
        throw Error("cannot listen on socket " + m_cfg.socket + ": " + std::strerror(errno));
    // Any local user may connect (a budget or ping is harmless); who may
    // register tasks is decided per request from the peer's credentials.
    ::chmod(m_cfg.socket.c_str(), 0666);
    m_socket_thread = std::thread([this] { serve_socket(); });
    start_http();
    log_line(m_choice.summary);
    log_line("dynamic energy split by " + m_weights);
    log_line("node " + m_cfg.node + " of site " + m_cfg.site + ", http " +
             split_listen(m_cfg.listen).first + ":" + std::to_string(m_http_port.load()) +
             ", socket " + m_cfg.socket + ", ledger " + m_cfg.ledger);

    auto period = std::chrono::duration<double>(1.0 / m_cfg.rate_hz);
    auto cap = m_choice.source->max_interval();
    if (period > cap) period = cap;
    auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
    auto next = std::chrono::steady_clock::now() + step;
    while (!m_stop) {
        {
            std::unique_lock<std::mutex> lk(m_stop_mu);
            m_stop_cv.wait_until(lk, next, [this] { return m_stop.load(); });
        }
        // The task list is only needed on control steps, not every sample.
        const bool control_due = m_heat && !m_stop && m_clock->now() >= m_next_control;
        std::vector<ThrottleTask> tasks;
        {
            std::lock_guard<std::mutex> lock(m_mu);
            commit(m_acct->sample());  // also the last interval, on stop
            drop_dead_tasks();
            if (control_due)
                for (const auto& t : m_acct->tasks()) tasks.push_back(ThrottleTask{t.reg.pid, -1});
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
        next += step;
        auto now = std::chrono::steady_clock::now();
        if (next < now) next = now + step;  // fell behind: do not burst
    }
    if (m_http) m_http->stop();
    log_line("stopped after committing the last interval");
}

void Agent::stop() {
    m_stop = true;
    m_stop_cv.notify_all();
}

}  // namespace hearth
