#include "task_registry.hpp"

#include "log.hpp"

namespace hearth {

TaskRegistry::TaskRegistry(Accountant& acct, const Ledger& ledger, std::shared_ptr<const FsRoot> fs,
                           bool estimated, Commit commit)
    : m_acct(acct),
      m_ledger(ledger),
      m_fs(std::move(fs)),
      m_estimated(estimated),
      m_commit(std::move(commit)) {}

std::uint64_t TaskRegistry::register_task(const Registration& r) {
    // A worker sends again when it lost the reply (the agent was killed
    // after committing): the same attempt keeps its id.
    if (auto id = m_acct.find_task(r.key, r.pid)) return *id;
    IntervalRecord closed;
    std::uint64_t id = m_acct.register_task(r, closed);
    m_dirty = true;
    m_commit(closed);
    return id;
}

TaskRegistry::Charged TaskRegistry::unregister_task(std::uint64_t id,
                                                    const std::optional<TaskKey>& attempt,
                                                    std::optional<double> cpu_s) {
    if (attempt) {
        // The worker names the attempt: ids do not outlive a lost ledger,
        // and an attempt that is no longer registered (its unregister was
        // committed but the reply lost, or it ended while no agent ran) gets
        // what the ledger charged it, which is final.
        auto found = m_acct.find_task(*attempt);
        if (!found)
            return {m_ledger.task_energy(attempt->job, attempt->task, attempt->attempt),
                    m_estimated, true};
        id = *found;
    }
    IntervalRecord closed;
    TaskTotals t = m_acct.unregister_task(id, cpu_s, closed);
    m_dirty = true;
    m_commit(closed);
    return {t.energy, t.estimated, false};
}

void TaskRegistry::drop_dead_tasks() {
    // A task whose process is gone without an unregister (its worker was
    // killed: a relaunch after a lost host takes every rank down) would be
    // charged a share of the node for ever; a late unregister still gets the
    // attempt's figure from the ledger.
    for (auto id : m_acct.dead_tasks()) {
        IntervalRecord closed;
        m_acct.unregister_task(id, std::nullopt, closed);
        m_dirty = true;
        m_commit(closed);
        log_line("task " + std::to_string(id) + " ended without being unregistered; dropped");
    }
}

std::string TaskRegistry::state() const {
    // No running totals: what the ledger charged an attempt is its total, so
    // this changes only when a task comes or goes, not with every interval.
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : m_acct.tasks())
        tasks.push_back({{"id", t.id},
                         {"tenant", t.reg.key.tenant},
                         {"job", t.reg.key.job},
                         {"task", t.reg.key.task},
                         {"attempt", t.reg.key.attempt},
                         {"pid", t.reg.pid},
                         {"cores", t.reg.cores},
                         {"gpus", t.reg.gpus},
                         {"start_ticks", t.reg.start_ticks}});
    return nlohmann::json{{"next_id", m_acct.next_id()}, {"tasks", tasks}}.dump();
}

void TaskRegistry::restore() {
    // Each task's total so far is what the ledger charged its attempt: the
    // last committed interval, no more (what it used since is in the startup
    // gap, which the house pays).
    auto saved = m_ledger.state("tasks");
    if (!saved) return;
    m_dirty = true;  // saved again with the next interval, without the dropped ones
    std::string adopted, dropped;
    try {
        auto j = nlohmann::json::parse(*saved);
        m_acct.reserve_ids(j.at("next_id").get<std::uint64_t>());
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
            if (t.contains("gpus")) v.reg.gpus = t.at("gpus").get<std::vector<unsigned>>();
            v.totals.energy =
                m_ledger.task_energy(v.reg.key.job, v.reg.key.task, v.reg.key.attempt);
            v.totals.estimated = m_estimated;
            std::string& list = m_acct.adopt_task(v) ? adopted : dropped;
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

nlohmann::json TaskRegistry::to_json() const {
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : m_acct.tasks())
        tasks.push_back({{"id", t.id},
                         {"tenant", t.reg.key.tenant},
                         {"job", t.reg.key.job},
                         {"task", t.reg.key.task},
                         {"attempt", t.reg.key.attempt},
                         {"pid", t.reg.pid},
                         {"cores", t.reg.cores},
                         {"gpus", t.reg.gpus},
                         {"energy_uj", t.totals.energy.value},
                         {"cpu_from", t.cgroup.empty() ? "proc" : "cgroup"}});
    return tasks;
}

}  // namespace hearth
