#include "accountant.hpp"

#include <algorithm>

#include "attribution.hpp"
#include "error.hpp"
#include "proc_cpu.hpp"
#include "proc_stat.hpp"

namespace hearth {

bool operator==(const TaskKey& a, const TaskKey& b) {
    return a.tenant == b.tenant && a.job == b.job && a.task == b.task && a.attempt == b.attempt;
}

std::optional<std::uint64_t> process_start_ticks(const FsRoot& fs, pid_t pid) {
    auto st = read_pid_stat(fs, pid);
    return st ? st->start_ticks : std::nullopt;
}

Accountant::Accountant(EnergySource& source, std::shared_ptr<const FsRoot> fs,
                       std::shared_ptr<const Clock> clock, AccountantConfig cfg,
                       CycleMeter* cycles)
    : m_source(source), m_fs(std::move(fs)), m_clock(std::move(clock)), m_cfg(std::move(cfg)),
      m_cycles(cycles) {
    if (m_cfg.cores == 0) m_cfg.cores = 1;
    EnergyReading first = m_source.read();
    for (auto& w : first.warnings) m_warnings.push_back(std::move(w));
    m_last_reading = first.total;
    m_last_parts = first.parts;
    m_last_gpus = first.gpus;
    m_first_reading = first.total;
    m_last_time = m_clock->now();
    m_last_unix_ms = m_clock->unix_ms();
    if (auto n = node_cpu_seconds(*m_fs)) m_node_busy_prev = n->busy;
}

IntervalRecord Accountant::close_interval(
    std::optional<std::pair<std::uint64_t, double>> final_cpu) {
    EnergyReading reading = m_source.read();
    for (auto& w : reading.warnings) m_warnings.push_back(std::move(w));
    Clock::TimePoint now = m_clock->now();
    std::int64_t now_ms = m_clock->unix_ms();
    double dt = std::chrono::duration<double>(now - m_last_time).count();
    if (dt < 0) dt = 0;
    // A source's total never goes down; if one did (a restart of its
    // counters), charge nothing rather than a huge unsigned difference.
    std::uint64_t de = reading.total.value >= m_last_reading.value
                           ? reading.total.value - m_last_reading.value
                           : 0;

    IntervalInput in;
    in.energy = Microjoules{de};
    if (reading.parts && m_last_parts) {
        const std::uint64_t dp = reading.parts->value >= m_last_parts->value
                                     ? reading.parts->value - m_last_parts->value
                                     : 0;
        in.explained = Microjoules{dp};
        if (split_node_meter(in.energy, *in.explained).exceeded && !m_warned_parts && de > 0) {
            m_warned_parts = true;
            m_warnings.push_back(
                "the parts (" + m_source.name() + ") read " + std::to_string(dp) +
                " uJ against the node meter's " + std::to_string(de) +
                " uJ in one interval; the node meter is trusted (no overhead charged then). "
                "Said once: a meter that averages lags the counters when the load changes");
        }
    }
    if (reading.parts) m_last_parts = reading.parts;
    // Each GPU's energy this interval, shared by the tasks holding it (the
    // house's when none does).
    std::vector<std::uint64_t> gpu_de(reading.gpus.size(), 0);
    for (std::size_t g = 0; g < reading.gpus.size(); ++g)
        if (g < m_last_gpus.size() && reading.gpus[g].value >= m_last_gpus[g].value)
            gpu_de[g] = reading.gpus[g].value - m_last_gpus[g].value;
    m_last_gpus = reading.gpus;
    in.seconds = dt;
    in.idle = m_cfg.idle;
    in.cores = m_cfg.cores;
    double task_work = 0;
    std::vector<std::uint64_t>& order = m_order;
    std::vector<std::optional<double>>& cycle_work = m_cycle_work;
    order.clear();
    cycle_work.clear();
    in.tasks.reserve(m_tasks.size());
    for (auto& [id, t] : m_tasks) {
        double held = std::chrono::duration<double>(now - std::max(t.since, m_last_time)).count();
        double cpu_now = t.cpu_prev;
        if (final_cpu && final_cpu->first == id) {
            // The task's cgroup, while it is still there, counts every process
            // it had, in the base of the readings before: a worker's pooled
            // cgroup has counted earlier tasks too, which the worker's own
            // figure (from the task's start) leaves out.
            auto c = t.cgroup ? cpu_of(t) : std::nullopt;
            cpu_now = std::max(c ? *c : final_cpu->second, t.cpu_prev);
        } else if (auto c = cpu_of(t)) {
            cpu_now = std::max(*c, t.cpu_prev);
        }
        double work = cpu_now - t.cpu_prev;
        t.cpu_prev = cpu_now;
        task_work += work;
        std::optional<double> cyc;
        if (m_cycles && t.cycles_prev) {
            if (auto c = m_cycles->cycles(id)) {
                cyc = std::max(0.0, *c - *t.cycles_prev);
                t.cycles_prev = *c;
            }
        }
        cycle_work.push_back(cyc);
        in.tasks.push_back(TaskUsage{held > 0 ? held * t.reg.cores : 0, work});
        order.push_back(id);
    }
    double house_cpu = 0;
    if (auto n = node_cpu_seconds(*m_fs, &m_proc)) {
        double busy = n->busy - m_node_busy_prev;
        m_node_busy_prev = n->busy;
        house_cpu = std::max(0.0, busy - task_work);
    }
    in.house_work = house_cpu;
    // Cycles for every task: weigh by them. The house's background work is
    // not counted in cycles; it is priced at the tasks' cycles per CPU second.
    bool all_counted = !order.empty() && std::all_of(cycle_work.begin(), cycle_work.end(),
                                                     [](const auto& c) { return c.has_value(); });
    if (all_counted) {
        double cyc_sum = 0;
        for (std::size_t i = 0; i < order.size(); ++i) {
            in.tasks[i].work = *cycle_work[i];
            cyc_sum += *cycle_work[i];
        }
        in.house_work = task_work > 0 ? house_cpu * cyc_sum / task_work : 0;
    }
    m_proc.sweep();
    std::uint64_t gpu_house = 0;
    for (std::size_t g = 0; g < gpu_de.size(); ++g) {
        if (gpu_de[g] == 0) continue;
        std::vector<double>& holders = m_holders;
        holders.assign(order.size(), 0.0);
        bool held = false;
        for (std::size_t i = 0; i < order.size(); ++i) {
            const auto& gs = m_tasks.at(order[i]).reg.gpus;
            if (std::find(gs.begin(), gs.end(), g) != gs.end()) {
                holders[i] = 1.0;
                held = true;
            }
        }
        if (!held) {
            gpu_house += gpu_de[g];
            continue;
        }
        const auto shares = split_largest_remainder(gpu_de[g], holders);
        for (std::size_t i = 0; i < order.size(); ++i) in.tasks[i].gpu += Microjoules{shares[i]};
    }
    in.gpu_house = Microjoules{gpu_house};
    IntervalSplit split = attribute_interval(in);

    IntervalRecord rec;
    rec.node = m_cfg.node;
    rec.site = m_cfg.site;
    rec.source = m_source.name();
    rec.meter = m_source.meter();
    rec.estimated = reading.estimated || m_source.estimated();
    rec.t0_ms = m_last_unix_ms;
    rec.t1_ms = now_ms;
    rec.energy = in.energy;
    rec.charges.reserve(order.size() + 1);
    // m_tasks is walked in the same (id) order as when order was filled.
    auto tracked = m_tasks.begin();
    for (std::size_t i = 0; i < order.size(); ++i, ++tracked) {
        Tracked& t = tracked->second;
        const TaskCharge& c = split.tasks[i];
        t.totals.energy += c.total();
        t.totals.estimated = t.totals.estimated || rec.estimated;
        rec.charges.push_back(ChargeRow{t.reg.key.tenant, t.reg.key.job, t.reg.key.task,
                                        t.reg.key.attempt, c.static_part, c.dynamic_part});
    }
    rec.charges.push_back(ChargeRow{"", "", -1, 0, split.house_static, split.house_dynamic});

    m_last_power = Watts{dt > 0 ? static_cast<double>(de) / 1e6 / dt : m_last_power.value};
    m_total += in.energy;
    m_last_reading = reading.total;
    m_last_time = now;
    m_last_unix_ms = now_ms;
    return rec;
}

IntervalRecord Accountant::sample() { return close_interval(std::nullopt); }

std::optional<IntervalRecord> Accountant::startup_gap(std::int64_t since_ms) const {
    if (m_first_reading.value == 0) return std::nullopt;
    IntervalRecord rec;
    rec.node = m_cfg.node;
    rec.site = m_cfg.site;
    rec.source = m_source.name();
    rec.meter = m_source.meter();
    rec.estimated = m_source.estimated();
    rec.kind = "gap";
    rec.t0_ms = std::min(since_ms, m_last_unix_ms);
    rec.t1_ms = m_last_unix_ms;
    rec.energy = m_first_reading;
    rec.charges.push_back(ChargeRow{"", "", -1, 0, m_first_reading, Microjoules{0}});
    return rec;
}

std::uint64_t Accountant::register_task(const Registration& r, IntervalRecord& closed) {
    closed = close_interval(std::nullopt);
    Tracked t;
    t.reg = r;
    if (t.reg.start_ticks == 0) t.reg.start_ticks = process_start_ticks(*m_fs, r.pid).value_or(0);
    t.stat = KeptFile("/proc/" + std::to_string(r.pid) + "/stat");
    t.since = m_last_time;
    start_cpu(t);
    std::uint64_t id = m_next_id++;
    if (m_cycles && m_cycles->attach(id, r.pid)) t.cycles_prev = m_cycles->cycles(id).value_or(0);
    m_tasks.emplace(id, std::move(t));
    return id;
}

TaskTotals Accountant::unregister_task(std::uint64_t id, std::optional<double> final_cpu_s,
                                       IntervalRecord& closed) {
    auto it = m_tasks.find(id);
    if (it == m_tasks.end())
        throw Error("no registered task with id " + std::to_string(id), ExitCode::usage);
    std::optional<std::pair<std::uint64_t, double>> fc;
    if (final_cpu_s) fc = std::make_pair(id, *final_cpu_s);
    closed = close_interval(fc);
    TaskTotals totals = m_tasks[id].totals;
    if (m_cycles) m_cycles->detach(id);
    m_tasks.erase(id);
    return totals;
}

std::optional<std::uint64_t> Accountant::find_task(const TaskKey& key,
                                                   std::optional<pid_t> pid) const {
    for (const auto& [id, t] : m_tasks)
        if (t.reg.key == key && (!pid || t.reg.pid == *pid)) return id;
    return std::nullopt;
}

bool Accountant::adopt_task(const TaskView& saved) {
    const Registration& r = saved.reg;
    if (saved.id == 0 || m_tasks.count(saved.id) || r.key.tenant.empty() || r.pid <= 0 ||
        r.cores == 0 || r.start_ticks == 0)
        return false;
    // A pid alone may name another process by now: the start time must match.
    auto ticks = process_start_ticks(*m_fs, r.pid);
    if (!ticks || *ticks != r.start_ticks) return false;
    Tracked t;
    t.reg = r;
    t.totals = saved.totals;
    t.stat = KeptFile("/proc/" + std::to_string(r.pid) + "/stat");
    t.since = m_clock->now();
    start_cpu(t);
    if (m_cycles && m_cycles->attach(saved.id, r.pid))
        t.cycles_prev = m_cycles->cycles(saved.id).value_or(0);
    m_tasks.emplace(saved.id, std::move(t));
    reserve_ids(saved.id + 1);
    return true;
}

void Accountant::start_cpu(Tracked& t) {
    std::string why;
    t.cgroup = task_cgroup_of(*m_fs, t.reg.pid, &why);
    if (!t.cgroup && !m_said_no_cgroup) {
        // Once: every task of this node is likely in the same case.
        m_said_no_cgroup = true;
        m_warnings.push_back("task CPU is read from /proc per process, not from a cgroup: " + why +
                             "; a process that leaves its task (double fork) is not counted");
    }
    if (auto c = cpu_of(t)) t.cpu_prev = *c;
}

std::optional<double> Accountant::cpu_of(const Tracked& t) {
    // A cgroup that cannot be read (removed at the task's end) counts no
    // more work; the worker's own figure closes the task.
    if (t.cgroup) return cgroup_cpu_seconds(*m_fs, *t.cgroup);
    return tree_cpu_seconds(*m_fs, t.reg.pid, &m_proc);
}

std::vector<TaskView> Accountant::tasks() const {
    std::vector<TaskView> v;
    for (const auto& [id, t] : m_tasks)
        v.push_back(TaskView{id, t.reg, t.totals, t.cgroup ? t.cgroup->dir : std::string(),
                             !t.cgroup || t.cgroup->v2});
    return v;
}

std::vector<std::uint64_t> Accountant::dead_tasks() {
    std::vector<std::uint64_t> dead;
    std::string& text = m_proc.buffer();
    for (auto& [id, t] : m_tasks) {
        if (t.reg.start_ticks == 0) continue;  // unknown at registration: cannot tell
        // Kept open: a descriptor of /proc/PID/stat names one process, and
        // reads ESRCH once it is gone even if its pid is reused.
        const int err = t.stat.read(*m_fs, text);
        const auto st = err == 0 ? parse_pid_stat(text) : std::nullopt;
        if (!st || !st->start_ticks || *st->start_ticks != t.reg.start_ticks) dead.push_back(id);
    }
    return dead;
}

std::vector<std::string> Accountant::take_warnings() {
    std::vector<std::string> w;
    w.swap(m_warnings);
    return w;
}

}  // namespace hearth
