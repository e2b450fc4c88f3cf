#include "runner/mpi/node_tasks.hpp"

#include <signal.h>

#include <algorithm>

#include "core/error.hpp"
#include "runner/mpi/scratch.hpp"
#include "runner/mpi/task_groups.hpp"

namespace hearth {

// The rules are core/node_slots; these feed them this worker's state.
unsigned NodeTasks::capacity() const {
    const unsigned slots = node_capacity(static_cast<unsigned>(m_plan.size()), m_heat);
    // `hearth run` (one job, a slot a task): a GPU job's tasks at once are
    // also bounded by the node's GPUs, so the worker asks rank 0 for no more
    // than it can start, and for none on a node without enough GPUs.
    if (m_slots_are_cores) return slots;
    std::uint32_t fit = 0;
    for (const auto& [id, job] : m_jobs.entries())
        fit = std::max(fit, gpu_tasks_fitting(m_gpus.size(), job.cfg.gpus_per_task));
    return m_jobs.entries().empty() ? slots : std::min<std::uint32_t>(slots, fit);
}

unsigned NodeTasks::slots_of(const Assignment& a) const {
    const JobEntry* job = m_jobs.find(a.job);
    return job ? task_slots(m_slots_are_cores, job->cfg.cores_per_task) : 1;
}

unsigned NodeTasks::gpus_of(const Assignment& a) const {
    const JobEntry* job = m_jobs.find(a.job);
    return job ? job->cfg.gpus_per_task : 0;
}

bool NodeTasks::may_start(const Assignment& a) const {
    StartCheck c;
    c.gpus_need = gpus_of(a);
    c.gpus_free = m_gpus.free();
    c.held = m_slots.held();
    c.need = slots_of(a);
    c.capacity = capacity();
    c.overridden = a.overridden;
    if (const JobEntry* job = m_jobs.find(a.job)) {
        c.urgent = job->cfg.urgent;
        c.job_running = job->running;
        c.mem_cap = job->mem_cap;
    }
    return hearth::may_start(c);
}

bool NodeTasks::refresh_budget(bool starting) {
    const auto now = Clock::now();
    const long age_ms =
        m_budget_read ? static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              now - *m_budget_read)
                                              .count())
                      : -1;
    if (!budget_read_due(age_ms, starting)) return false;
    m_budget_read = now;
    auto b = m_agent.budget();
    if (!b) {
        if (m_heat.known) m_heat_dirty = true;
        m_heat.known = false;
        return true;
    }
    HeatReport h{true, b->slots, static_cast<std::uint32_t>(m_plan.size()), b->waste_mk};
    if (heat_moved(m_heat, h)) m_heat_dirty = true;  // tell rank 0
    m_heat = h;
    hand_back_queued();
    if (b->stop) {
        // Past the site's hard maximum: stop everything and hand it back to
        // the dispatcher, which requeues without counting a failure.
        for (auto& [pid, r] : m_running)
            if (!r.handed_back) {
                r.handed_back = true;
                kill_group(pid, SIGKILL);
            }
    }
    return true;
}

void NodeTasks::hand_back_queued() {
    if (capacity() > 0 || m_queue.empty()) return;
    // No heat wanted here now: tasks waiting in this worker's queue (a
    // site's prefetch among them) go back to rank 0, for nodes whose sites
    // want heat; the scheduler requeues them, not as failures (urgent and
    // overridden ones stay: they run whatever the budget).
    std::deque<Queued> keep;
    for (auto& q : m_queue) {
        if (may_start(q.a)) {
            keep.push_back(std::move(q));
            continue;
        }
        m_jobs.unqueue(q.a, q.dir);
        add_done(attempt_completion(q.a, AttemptStatus::cancelled,
                                    "handed back: the site wants no heat now"));
    }
    m_queue = std::move(keep);
}

void NodeTasks::start_one(Queued q, std::vector<unsigned> slots, std::vector<unsigned> gpus) {
    Running r;
    r.gpus = std::move(gpus);
    r.a = std::move(q.a);
    r.dir = std::move(q.dir);
    const unsigned slot = slots.front();
    r.slot = slot;
    r.slots = std::move(slots);
    r.start = Clock::now();
    JobEntry& job = m_jobs.of(r.a);
    if (job.cfg.timeout_ms) r.deadline = r.start + std::chrono::milliseconds(job.cfg.timeout_ms);
    r.log = job.scratch->log_path(slot, m_slot_turn[slot]++);
    try {
        if (!job.tenancy.error.empty()) throw Error(job.tenancy.error);
        if (r.dir.empty()) r.dir = job.scratch->acquire();
        r.child = spawn_attempt(r, job, SlotCores{m_topo, m_plan, m_cpu_lists}, m_gpus.size() > 0);
        ++job.running;
    } catch (const Error& e) {
        Completion c = attempt_completion(r.a, AttemptStatus::spawn_failed, e.what());
        c.exit_code = 127;
        c.log = read_capped(r.log, k_log_cap);
        if (!r.dir.empty()) job.scratch->release(r.dir);
        m_gpus.release(r.gpus);
        m_jobs.settle(c.job);
        add_done(std::move(c));
        return;
    }
    track_group(r.child.pid);
    register_with_agent(r);
    r.overridden = r.a.overridden ||
                   past_budget(m_heat, m_slots.held(), static_cast<unsigned>(r.slots.size()));
    m_slots.take(r.slots);
    m_running.emplace(r.child.pid, std::move(r));
}

void NodeTasks::register_with_agent(Running& r) {
    unsigned cores = 0;
    for (unsigned s : r.slots) cores += static_cast<unsigned>(m_plan[s].size());
    m_agent.register_task(m_jobs.of(r.a).cfg, r.a, r.child.pid, cores, r.gpus, r.agent);
}

// The agent was unreachable (restarting): register the tasks that started
// meanwhile, and fetch the figures of attempts that ended meanwhile.
void NodeTasks::retry_agent() {
    for (auto& [pid, r] : m_running) {
        if (!r.agent.retry) continue;
        register_with_agent(r);
        if (r.agent.retry) break;  // still away
    }
    for (auto& c : m_agent.collect_awaited()) add_done(std::move(c));
}

void NodeTasks::start_ready() {
    while (m_slots.held() < m_slots.size() && !m_queue.empty()) {
        // In arrival order, the first the heat budget lets start (urgent and
        // overridden attempts pass a full budget) whose cores are free.
        // A GPU task also needs its GPUs free (may_start).
        std::vector<unsigned> slots;
        auto it = std::find_if(m_queue.begin(), m_queue.end(), [&](const Queued& q) {
            if (!may_start(q.a)) return false;
            slots = m_slots.first_free(slots_of(q.a));
            return !slots.empty();
        });
        if (it == m_queue.end()) break;  // the heat budget, the cores or the GPUs are full
        // About to start on the budget as last read: when that reading is
        // old, read it again and look again (the site may want no heat now;
        // what is queued then goes back).
        if (refresh_budget(true)) continue;
        Queued q = std::move(*it);
        m_queue.erase(it);
        std::vector<unsigned> gpus = m_gpus.take(gpus_of(q.a));
        start_one(std::move(q), std::move(slots), std::move(gpus));
    }
}

// Keeps the scratch directories of the next tasks ready, so that a freed slot
// is refilled with a spawn alone, not a mkdir and a copy of the inputs first.
void NodeTasks::prepare_ahead() {
    std::size_t n = std::min<std::size_t>(m_queue.size(), m_slots.size());
    for (std::size_t i = 0; i < n; ++i) {
        Queued& q = m_queue[i];
        if (!q.dir.empty()) continue;
        try {
            q.dir = m_jobs.of(q.a).scratch->acquire();
        } catch (const Error&) {
            // start_one tries again and reports the error as the attempt's failure.
        }
    }
}

void NodeTasks::reap_finished() {
    std::vector<std::pair<Running, ExitInfo>> ended;
    for (auto it = m_running.begin(); it != m_running.end();) {
        ExitInfo e = try_reap(it->second.child);
        if (!e.exited) {
            ++it;
            continue;
        }
        m_slots.release(it->second.slots);
        m_gpus.release(it->second.gpus);
        ended.emplace_back(std::move(it->second), e);
        it = m_running.erase(it);
    }
    if (ended.empty()) return;
    // Refill the freed slots first: collecting outputs and cleaning up can
    // wait, an idle core cannot.
    if (!m_stopping) start_ready();
    for (auto& [r, e] : ended) finalize(r, e);
}

void NodeTasks::finalize(Running& r, const ExitInfo& e) {
    untrack_group(r.child.pid);
    // The group may still hold the task's own children: they die with it.
    kill_group(r.child.pid, SIGKILL);
    JobEntry& job = m_jobs.of(r.a);
    if (job.running > 0) --job.running;
    Completion c = ended_attempt(r, e, job, m_kill);
    job.scratch->release(r.dir);
    const std::string tenant = job.cfg.tenant;
    m_jobs.settle(c.job);  // may drop the job's entry: `job` is not used below
    m_mean_ms = next_mean_ms(m_mean_ms, static_cast<double>(c.wall_ms));
    if (r.agent.id) {
        // Unreachable agent: the completion waits for its figure (retry_agent),
        // and the task's cgroup goes, not to another task.
        auto ready = m_agent.finish(std::move(c), *r.agent.id, e.cpu_s, tenant, !m_kill);
        release_task_cgroup(r.child.pid, ready.has_value());
        if (ready) add_done(std::move(*ready));
        return;
    }
    release_task_cgroup(r.child.pid, true);
    add_done(std::move(c));
}

void NodeTasks::enforce_timeouts() {
    auto now = Clock::now();
    for (auto& [pid, r] : m_running) {
        if (r.deadline && now >= *r.deadline && !r.timed_out) {
            r.timed_out = true;
            kill_group(pid, SIGKILL);
        }
    }
}

void NodeTasks::add_done(Completion c) {
    m_done.add(std::move(c), Clock::now());
}

void NodeTasks::kill_all() {
    for (auto& [pid, r] : m_running) kill_group(pid, SIGKILL);
}

}  // namespace hearth
