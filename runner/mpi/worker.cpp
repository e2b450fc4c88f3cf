#include "runner/mpi/worker.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <vector>

#include "core/completion_batch.hpp"
#include "core/error.hpp"
#include "core/node_slots.hpp"
#include "core/slot_plan.hpp"
#include "core/task_env.hpp"
#include "core/task_memory.hpp"
#include "runner/mpi/task_groups.hpp"
#include "runner/mpi/task_process.hpp"
#include "runner/mpi/topology.hpp"
#include "runner/mpi/worker_agent.hpp"
#include "runner/mpi/worker_jobs.hpp"
#include "runner/mpi/worker_tasks.hpp"

namespace hearth {
namespace {

using Clock = std::chrono::steady_clock;

class Worker {
public:
    explicit Worker(MpiLink& link) : m_link(link) {}
    ~Worker();
    int run();

private:
    void receive_config();
    void on_job(const std::string& data);
    void on_tasks(const std::string& data);
    void on_cancel(const std::string& data);
    void on_stop(const std::string& data);
    struct Queued {
        Assignment a;
        std::string dir;  // scratch directory, made ahead of time when known
    };
    bool may_start(const Assignment& a) const;
    unsigned slots_of(const Assignment& a) const;
    void start_ready();
    void start_one(Queued q, std::vector<unsigned> slots);
    void prepare_ahead();
    void reap_finished();
    void finalize(Running& r, const ExitInfo& e);
    void enforce_timeouts();
    void maybe_report();
    long wait_timeout_us() const;
    void kill_all();
    void add_done(Completion c);
    unsigned capacity() const;
    void refresh_budget();
    void register_with_agent(Running& r);
    void retry_agent();

    MpiLink& m_link;
    NodeConfig m_node;
    std::string m_base;  // this worker's scratch root: one directory per job under it
    JobTable m_jobs;
    WorkerAgent m_agent;
    Topology m_topo;
    std::vector<std::vector<unsigned>> m_plan;
    std::vector<std::string> m_cpu_lists;  // per slot, for an mpirun inside a task
    SlotTable m_slots;
    std::vector<unsigned> m_slot_turn;
    std::map<pid_t, Running> m_running;
    std::deque<Queued> m_queue;
    CompletionBatch m_done;  // reported to rank 0 in batches
    std::uint32_t m_requested = 0;
    bool m_stopping = false;
    bool m_kill = false;
    double m_mean_ms = -1;
    // Heat: the slots the node's agent allows (all without one), slots the
    // dispatcher opened past that budget for a deadline, and when to ask again.
    HeatReport m_heat;
    std::uint32_t m_extra = 0;
    bool m_heat_dirty = false;
    Clock::time_point m_next_budget{};
    Backoff m_backoff{20, 2000};
};

// The rules are core/node_slots; these feed them this worker's state.
unsigned Worker::capacity() const {
    return node_capacity(static_cast<unsigned>(m_plan.size()), m_heat, m_extra);
}

unsigned Worker::slots_of(const Assignment& a) const {
    const JobEntry* job = m_jobs.find(a.job);
    return job ? task_slots(m_node.slots_are_cores, job->cfg.cores_per_task) : 1;
}

bool Worker::may_start(const Assignment& a) const {
    StartCheck c;
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

Worker::~Worker() {
    m_jobs.clear();  // each scratch area removes its directory
    std::error_code ec;
    if (!m_base.empty()) std::filesystem::remove_all(m_base, ec);
}

void Worker::refresh_budget() {
    auto now = Clock::now();
    if (now < m_next_budget) return;
    m_next_budget = now + std::chrono::seconds(1);
    auto b = m_agent.budget();
    if (!b) {
        if (m_heat.known) m_heat_dirty = true;
        m_heat.known = false;
        return;
    }
    HeatReport h{true, b->slots, static_cast<std::uint32_t>(m_plan.size()), b->waste_mk};
    if (heat_moved(m_heat, h)) m_heat_dirty = true;  // tell rank 0
    m_heat = h;
    if (capacity() == 0 && !m_queue.empty()) {
        // No heat wanted here now: tasks waiting in this worker's queue go
        // back to rank 0, for nodes whose sites want heat (urgent and
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
    if (b->stop) {
        // Past the site's hard maximum: stop everything and hand it back to
        // the dispatcher, which requeues without counting a failure.
        for (auto& [pid, r] : m_running)
            if (!r.handed_back) {
                r.handed_back = true;
                kill_group(pid, SIGKILL);
            }
    }
}

void Worker::receive_config() {
    Hello h;
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    MPI_Get_processor_name(name, &len);
    h.host.assign(name, static_cast<std::size_t>(len));
    h.cores = m_topo.cores();
    h.mem_total = read_mem_total(FsRoot{}).value_or(0);
    m_link.send(0, Tag::hello, encode(h));
    Backoff wait{50, 5000};
    for (;;) {
        if (auto m = m_link.poll()) {
            if (m->tag == Tag::config) {
                m_node = decode_node_config(m->data);
                m_agent.set_node(m_node.node);
                break;
            }
            if (m->tag == Tag::stop) {
                m_stopping = true;
                return;
            }
        }
        wait.sleep();
        wait.grow();
    }
    unsigned slots = m_node.slots ? m_node.slots : h.cores;
    m_plan = plan_slots(h.cores, slots);
    m_topo.prepare_slots(m_plan);
    for (const auto& cores : m_plan) m_cpu_lists.push_back(cpu_list_text(cores));
    m_slots.assign(slots);
    m_slot_turn.assign(slots, 0);
    const char* tmp = std::getenv("TMPDIR");
    m_base = std::string(tmp && *tmp ? tmp : "/tmp") + "/hearth-w" + std::to_string(m_link.rank()) +
             "-" + std::to_string(::getpid());
    std::vector<std::string> environ_now;  // this worker's environment, read once
    for (char** e = ::environ; e && *e; ++e) environ_now.emplace_back(*e);
    m_jobs.configure(m_base, std::move(environ_now), m_node.node);
}

void Worker::on_job(const std::string& data) {
    m_jobs.add(decode_job_config(data));
}

void Worker::on_tasks(const std::string& data) {
    auto batch = decode_tasks(data);
    for (auto& a : batch) {
        JobEntry& job = m_jobs.of(a);
        const unsigned slots = slots_of(a);
        m_requested -= std::min(m_requested, slots);
        if (job.mem_cap == 0) {
            Completion c = attempt_completion(a, AttemptStatus::spawn_failed, job.mem_why);
            c.exit_code = 127;
            add_done(std::move(c));
            continue;
        }
        ++job.active;
        m_queue.push_back(Queued{std::move(a), {}});
    }
}

void Worker::on_cancel(const std::string& data) {
    for (const auto& ref : decode_cancel(data)) {
        for (auto& [pid, r] : m_running)
            if (r.a.job == ref.job && r.a.task == ref.task && r.a.attempt == ref.attempt &&
                !r.cancelled) {
                r.cancelled = true;
                kill_group(pid, SIGKILL);
            }
        for (auto it = m_queue.begin(); it != m_queue.end();) {
            if (it->a.job != ref.job || it->a.task != ref.task || it->a.attempt != ref.attempt) {
                ++it;
                continue;
            }
            m_jobs.unqueue(it->a, it->dir);
            add_done(attempt_completion(it->a, AttemptStatus::cancelled, "cancelled"));
            it = m_queue.erase(it);
        }
    }
}

void Worker::on_stop(const std::string& data) {
    m_stopping = true;
    m_kill = decode_stop(data).kill_running;
    for (auto& q : m_queue) m_jobs.unqueue(q.a, q.dir);
    m_queue.clear();
    if (m_kill) kill_all();
}

void Worker::start_one(Queued q, std::vector<unsigned> slots) {
    Running r;
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
        r.child = spawn_attempt(r, job, SlotCores{m_topo, m_plan, m_cpu_lists});
        ++job.running;
    } catch (const Error& e) {
        Completion c = attempt_completion(r.a, AttemptStatus::spawn_failed, e.what());
        c.exit_code = 127;
        c.log = read_capped(r.log, k_log_cap);
        if (!r.dir.empty()) job.scratch->release(r.dir);
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

void Worker::register_with_agent(Running& r) {
    unsigned cores = 0;
    for (unsigned s : r.slots) cores += static_cast<unsigned>(m_plan[s].size());
    m_agent.register_task(m_jobs.of(r.a).cfg, r.a, r.child.pid, cores, r.agent);
}

// The agent was unreachable (restarting): register the tasks that started
// meanwhile, and fetch the figures of attempts that ended meanwhile.
void Worker::retry_agent() {
    for (auto& [pid, r] : m_running) {
        if (!r.agent.retry) continue;
        register_with_agent(r);
        if (r.agent.retry) break;  // still away
    }
    for (auto& c : m_agent.collect_awaited()) add_done(std::move(c));
}

void Worker::start_ready() {
    while (m_slots.held() < m_slots.size() && !m_queue.empty()) {
        // In arrival order, the first the heat budget lets start (urgent and
        // overridden attempts pass a full budget) whose cores are free.
        std::vector<unsigned> slots;
        auto it = std::find_if(m_queue.begin(), m_queue.end(), [&](const Queued& q) {
            if (!may_start(q.a)) return false;
            slots = m_slots.first_free(slots_of(q.a));
            return !slots.empty();
        });
        if (it == m_queue.end()) break;  // the heat budget or the cores are full
        Queued q = std::move(*it);
        m_queue.erase(it);
        start_one(std::move(q), std::move(slots));
    }
}

// Keeps the scratch directories of the next tasks ready, so that a freed slot
// is refilled with a spawn alone, not a mkdir and a copy of the inputs first.
void Worker::prepare_ahead() {
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

void Worker::reap_finished() {
    std::vector<std::pair<Running, ExitInfo>> ended;
    for (auto it = m_running.begin(); it != m_running.end();) {
        ExitInfo e = try_reap(it->second.child);
        if (!e.exited) {
            ++it;
            continue;
        }
        m_slots.release(it->second.slots);
        ended.emplace_back(std::move(it->second), e);
        it = m_running.erase(it);
    }
    if (ended.empty()) return;
    // Refill the freed slots first: collecting outputs and cleaning up can
    // wait, an idle core cannot.
    if (!m_stopping) start_ready();
    for (auto& [r, e] : ended) finalize(r, e);
}

void Worker::finalize(Running& r, const ExitInfo& e) {
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
        // Unreachable agent: the completion waits for its figure (retry_agent).
        auto ready = m_agent.finish(std::move(c), *r.agent.id, e.cpu_s, tenant, !m_kill);
        if (ready) add_done(std::move(*ready));
        return;
    }
    add_done(std::move(c));
}

void Worker::enforce_timeouts() {
    auto now = Clock::now();
    for (auto& [pid, r] : m_running) {
        if (r.deadline && now >= *r.deadline && !r.timed_out) {
            r.timed_out = true;
            kill_group(pid, SIGKILL);
        }
    }
}

void Worker::add_done(Completion c) {
    m_done.add(std::move(c), Clock::now());
}

void Worker::maybe_report() {
    if (m_stopping) return;
    // Counted in slots: under `hearth site` a task of N cores holds N.
    std::uint64_t queued = 0;
    for (const auto& q : m_queue) queued += slots_of(q.a);
    // Ask at once when a slot may soon find the queue empty; otherwise batch
    // completions for a few milliseconds: fewer messages and journal syncs.
    const auto [want, low] =
        backlog_need(m_slots.held(), queued, m_requested, target_backlog(capacity(), m_mean_ms));
    // A slot idle with nothing queued here: the completions go now, since
    // the reply to them is what brings that slot work (a site's scheduler
    // grants only free slots, so what was asked for may never come).
    bool idle = !m_done.empty() && m_queue.empty() && m_slots.held() < capacity();
    if (!(want > 0 && low) && !idle && !m_done.due(Clock::now()) && !m_heat_dirty) return;
    m_heat_dirty = false;
    Report rep;
    rep.want = want;
    rep.heat = m_heat;
    // The scheduler places --mem-per-task by it (a read of /proc/meminfo).
    if (m_node.slots_are_cores) rep.mem_available = read_mem_available(FsRoot{}).value_or(0);
    rep.completions = m_done.take();
    m_requested += want;
    m_link.send(0, Tag::report, encode(rep));
}

long Worker::wait_timeout_us() const {
    // Waiting for tasks from rank 0 with nothing queued: MPI cannot wake a
    // ppoll(), so look again soon. Otherwise only a task's end (its pidfd),
    // a timeout or a batch of completions falling due matters, and a stop
    // message can wait a few milliseconds.
    bool starving = m_queue.empty() && m_requested > 0;
    long us = starving ? m_backoff.current_us() : 10000;
    auto now = Clock::now();
    auto cap = [&](Clock::time_point at) {
        long left = std::chrono::duration_cast<std::chrono::microseconds>(at - now).count();
        if (left < us) us = left < 0 ? 0 : left;
    };
    if (!m_done.empty()) cap(m_done.due_at());
    for (const auto& [pid, r] : m_running)
        if (r.deadline && !r.timed_out) cap(*r.deadline);
    return us;
}

void Worker::kill_all() {
    for (auto& [pid, r] : m_running) kill_group(pid, SIGKILL);
}

int Worker::run() {
    receive_config();
    while (!m_stopping || !m_running.empty()) {
        bool active = false;
        while (auto m = m_link.poll()) {
            active = true;
            if (m->tag == Tag::tasks) {
                on_tasks(m->data);
            } else if (m->tag == Tag::job) {
                on_job(m->data);
            } else if (m->tag == Tag::cancel) {
                on_cancel(m->data);
            } else if (m->tag == Tag::forget) {
                m_jobs.forget(decode_forget(m->data).job);
            } else if (m->tag == Tag::override_slots) {
                m_extra = decode_override(m->data).extra;
            } else if (m->tag == Tag::stop) {
                on_stop(m->data);
            }
        }
        refresh_budget();
        start_ready();
        std::size_t before = m_done.size();
        reap_finished();
        retry_agent();
        enforce_timeouts();
        if (m_done.size() != before) active = true;
        maybe_report();
        m_link.sends_pending();
        prepare_ahead();
        if (active) {
            m_backoff.reset();
            continue;
        }
        if (m_running.empty()) {
            m_backoff.sleep();
        } else {
            // Sleep until a task ends (its pidfd turns readable) or it is time
            // to look at MPI again.
            std::vector<pollfd> fds;
            for (const auto& [pid, r] : m_running)
                if (r.child.pidfd >= 0) fds.push_back(pollfd{r.child.pidfd, POLLIN, 0});
            long us = wait_timeout_us();
            timespec ts{us / 1000000, (us % 1000000) * 1000};
            ::ppoll(fds.data(), fds.size(), &ts, nullptr);
        }
        m_backoff.grow();
    }
    for (auto& c : m_agent.drain()) add_done(std::move(c));
    // Completions of killed tasks are not needed: rank 0 has stopped counting.
    if (!m_kill && !m_done.empty()) {
        Report rep;
        rep.completions = m_done.take();
        m_link.send(0, Tag::report, encode(rep));
    }
    m_link.drain_sends();
    return 0;
}

}  // namespace

int run_worker(MpiLink& link) {
    struct sigaction sa {};
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    Worker w(link);
    return w.run();
}

}  // namespace hearth
