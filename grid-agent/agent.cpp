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

#include <httplib.h>

#include "core/error.hpp"

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
    try {
        return std::stoll(req.get_param_value(name));
    } catch (const std::exception&) {
        throw usage_error(std::string("query parameter '") + name + "' must be a whole number");
    }
}

}  // namespace

Agent::Agent(AgentConfig cfg, std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
             SourceChoice choice, std::shared_ptr<PapiApi> counters)
    : m_cfg(std::move(cfg)), m_fs(std::move(fs)), m_clock(std::move(clock)),
      m_choice(std::move(choice)) {
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
    m_ledger->commit(rec, state);
    m_tasks_dirty = false;
    m_node_uj += rec.energy.value;
    for (const auto& c : rec.charges) {
        std::string key = c.tenant.empty() ? "house" : c.tenant;
        m_tenant_uj[key] += c.static_part.value + c.dynamic_part.value;
    }
    for (const auto& w : m_acct->take_warnings()) log_line("warning: " + w);
}

nlohmann::json Agent::handle_request(const nlohmann::json& req) {
    try {
        std::string op = req.at("op").get<std::string>();
        std::lock_guard<std::mutex> lock(m_mu);
        if (op == "register") {
            Registration r;
            r.key.tenant = req.at("tenant").get<std::string>();
            r.key.job = req.at("job").get<std::string>();
            r.key.task = req.at("task").get<std::int64_t>();
            r.key.attempt = req.at("attempt").get<std::uint32_t>();
            r.pid = req.at("pid").get<pid_t>();
            r.cores = req.value("cores", 1u);
            if (r.key.tenant.empty() || r.pid <= 0 || r.cores == 0)
                throw usage_error("register needs a tenant, a pid > 0 and cores > 0");
            // A worker sends again when it lost the reply (the agent was
            // killed after committing): the same attempt keeps its id.
            if (auto id = m_acct->find_task(r.key, r.pid)) return {{"ok", true}, {"id", *id}};
            IntervalRecord closed;
            std::uint64_t id = m_acct->register_task(r, closed);
            m_tasks_dirty = true;
            commit(closed);
            return {{"ok", true}, {"id", id}};
        }
        if (op == "unregister") {
            std::uint64_t id = req.at("id").get<std::uint64_t>();
            std::optional<double> cpu;
            if (req.contains("cpu_s")) cpu = req.at("cpu_s").get<double>();
            if (req.contains("job")) {
                // The worker names the attempt: ids do not outlive a lost
                // ledger, and an attempt that is no longer registered (its
                // unregister was committed but the reply lost, or it ended
                // while no agent ran) gets what the ledger charged it, which
                // is final.
                TaskKey key;
                key.tenant = req.at("tenant").get<std::string>();
                key.job = req.at("job").get<std::string>();
                key.task = req.at("task").get<std::int64_t>();
                key.attempt = req.at("attempt").get<std::uint32_t>();
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
            TaskTotals t = m_acct->unregister_task(id, cpu, closed);
            m_tasks_dirty = true;
            commit(closed);
            return {{"ok", true}, {"energy_uj", t.energy.value}, {"estimated", t.estimated}};
        }
        if (op == "ping") return {{"ok", true}, {"node", m_cfg.node}};
        if (op == "budget") {
            // The worker asks what it may run: without heat control, everything.
            if (!m_heat) return {{"ok", true}, {"heat", false}};
            HeatBudget b = m_heat->budget();
            return {{"ok", true},   {"heat", true},        {"slots", b.slots},
                    {"slots_total", b.slots_total}, {"mode", to_string(b.mode)},
                    {"fraction", b.fraction}, {"waste", b.waste}};
        }
        throw usage_error("unknown op '" + op + "'; use register, unregister, budget or ping");
    } catch (const nlohmann::json::exception& e) {
        return {{"ok", false}, {"error", std::string("malformed request: ") + e.what()}};
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

nlohmann::json Agent::heat_post(const std::string& what, const nlohmann::json& body) {
    if (!m_heat)
        throw usage_error("this agent has no heat control; start it with --grid FILE naming its site");
    auto number = [&](const char* key) {
        if (!body.contains(key) || !body[key].is_number())
            throw usage_error(std::string("'") + key + "' must be a number (degrees C)");
        return body[key].get<double>();
    };
    if (what == "target") {
        std::optional<std::int64_t> until;
        if (body.contains("until_unix") && !body["until_unix"].is_null()) {
            if (!body["until_unix"].is_number_integer())
                throw usage_error("'until_unix' must be whole seconds since 1970");
            until = body["until_unix"].get<std::int64_t>();
        }
        m_heat->set_target(number("target"), until);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f C", body["target"].get<double>());
        log_line(std::string("heat target set to ") + buf);
    } else if (what == "schedule") {
        if (!body.contains("schedule") || !body["schedule"].is_string())
            throw usage_error("'schedule' must be a string such as \"weekdays 06:00-22:00 at 60; otherwise 55\"");
        m_heat->set_schedule(body["schedule"].get<std::string>());
        log_line("heat schedule set to '" + body["schedule"].get<std::string>() + "'");
    } else {
        m_heat->set_measured(number("measured"));
    }
    return heat_json();
}

std::string Agent::metrics_text() {
    std::lock_guard<std::mutex> lock(m_mu);
    std::ostringstream o;
    std::string labels = "site=\"" + prom_escape(m_cfg.site) + "\",node=\"" +
                         prom_escape(m_cfg.node) + "\"";
    o << "# HELP hearth_tenant_energy_joules_total Energy charged to each tenant on this node "
         "(house: unreserved and background).\n"
      << "# TYPE hearth_tenant_energy_joules_total counter\n";
    for (const auto& [tenant, uj] : m_tenant_uj)
        o << "hearth_tenant_energy_joules_total{tenant=\"" << prom_escape(tenant) << "\","
          << labels << "} " << static_cast<double>(uj) / 1e6 << "\n";
    o << "# HELP hearth_node_energy_joules_total Energy this node used, as measured.\n"
      << "# TYPE hearth_node_energy_joules_total counter\n"
      << "hearth_node_energy_joules_total{" << labels << "} " << static_cast<double>(m_node_uj) / 1e6
      << "\n"
      << "# HELP hearth_node_power_watts Mean power over the last interval.\n"
      << "# TYPE hearth_node_power_watts gauge\n"
      << "hearth_node_power_watts{" << labels << "} " << m_acct->last_power().value << "\n"
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

void Agent::serve_connection(int fd) {
    std::string buf;
    char chunk[4096];
    while (!m_stop) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) break;
        buf.append(chunk, static_cast<std::size_t>(n));
        if (buf.size() > (1 << 16)) break;  // no request is this long
        std::size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            nlohmann::json reply;
            try {
                reply = handle_request(nlohmann::json::parse(line));
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
    std::vector<std::thread> conns;
    while (!m_stop) {
        pollfd p{m_listen_fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        conns.emplace_back([this, fd] { serve_connection(fd); });
    }
    for (auto& t : conns) t.join();
}

void Agent::start_http() {
    m_http = std::make_unique<httplib::Server>();
    auto& s = *m_http;
    auto json_reply = [](httplib::Response& res, const nlohmann::json& j, int status = 200) {
        res.status = status;
        res.set_content(j.dump(), "application/json");
    };
    s.Get("/v1/health", [this, json_reply](const httplib::Request&, httplib::Response& res) {
        json_reply(res, {{"ok", true}, {"node", m_cfg.node}, {"site", m_cfg.site}});
    });
    s.Get("/v1/node", [this, json_reply](const httplib::Request&, httplib::Response& res) {
        json_reply(res, node_json());
    });
    s.Get("/v1/energy", [this, json_reply](const httplib::Request& req, httplib::Response& res) {
        try {
            EnergyQuery q;
            if (req.has_param("tenant")) q.tenant = req.get_param_value("tenant");
            if (req.has_param("job")) q.job = req.get_param_value("job");
            if (req.has_param("site")) q.site = req.get_param_value("site");
            if (req.has_param("node")) q.node = req.get_param_value("node");
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
            json_reply(res, {{"error", e.what()}}, e.code() == ExitCode::usage ? 400 : 500);
        }
    });
    s.Get("/v1/heat", [this, json_reply](const httplib::Request&, httplib::Response& res) {
        json_reply(res, heat_json());
    });
    s.Post(R"(/v1/heat/(target|schedule|measured))",
           [this, json_reply](const httplib::Request& req, httplib::Response& res) {
               try {
                   if (req.body.size() > 64 * 1024)
                       throw usage_error("request body over 64 KiB; send one small JSON object");
                   nlohmann::json body;
                   try {
                       body = nlohmann::json::parse(req.body);
                   } catch (const std::exception&) {
                       throw usage_error("the body is not JSON; send an object like {\"target\": 58}");
                   }
                   if (!body.is_object()) throw usage_error("the body must be a JSON object");
                   json_reply(res, heat_post(req.matches[1], body));
               } catch (const Error& e) {
                   json_reply(res, {{"error", e.what()}}, e.code() == ExitCode::usage ? 400 : 500);
               }
           });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_text(), "text/plain; version=0.0.4");
    });
    auto [host, port] = split_listen(m_cfg.listen);
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
