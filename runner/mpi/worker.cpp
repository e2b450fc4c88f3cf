#include "runner/mpi/worker.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/node_slots.hpp"
#include "core/slot_plan.hpp"
#include "core/task_env.hpp"
#include "core/task_memory.hpp"
#include "runner/mpi/node_tasks.hpp"
#include "runner/mpi/task_groups.hpp"
#include "runner/mpi/task_process.hpp"
#include "runner/mpi/worker_tasks.hpp"

namespace hearth {
namespace {

// The MPI side of a worker: rank 0's messages, the reports to it, and the
// loop. What the messages act on (the node's queued and running attempts)
// is NodeTasks.
class Worker : NodeTasks {
public:
    explicit Worker(Link& link) : m_link(link) {}
    ~Worker();
    int run();

private:
    void receive_config();
    void on_job(const std::string& data);
    void on_tasks(const std::string& data);
    void on_cancel(const std::string& data);
    void on_stop(const std::string& data);
    void maybe_report();
    long wait_timeout_us() const;

    Link& m_link;
    NodeConfig m_node;
    std::string m_base;  // this worker's scratch root: one directory per job under it
    std::uint32_t m_requested = 0;  // slots of work asked of rank 0, not yet come
    Backoff m_backoff{20, 2000};
};

Worker::~Worker() {
    m_jobs.clear();  // each scratch area removes its directory
    std::error_code ec;
    if (!m_base.empty()) std::filesystem::remove_all(m_base, ec);
}

void Worker::receive_config() {
    Hello h;
    h.host = m_link.host();
    h.cores = m_topo.cores();
    h.mem_total = read_mem_total(FsRoot{}).value_or(0);
    // The GPUs the node's agent reads, for a node the grid file gives none.
    h.gpus = m_agent.gpu_count();
    m_link.send(0, Tag::hello, encode(h));
    Backoff wait{50, 5000};
    for (;;) {
        if (auto m = m_link.poll()) {
            if (m->tag == Tag::config) {
                m_node = decode_node_config(m->data);
                m_agent.set_node(m_node.node);
                m_slots_are_cores = m_node.slots_are_cores;
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
    m_gpus.assign(m_node.gpus);
    m_slot_turn.assign(slots, 0);
    const char* tmp = std::getenv("TMPDIR");
    m_base = std::string(tmp && *tmp ? tmp : "/tmp") + "/hearth-w" + std::to_string(m_link.rank()) +
             "-" + std::to_string(::getpid());
    std::vector<std::string> environ_now;  // this worker's environment, read once
    for (char** e = ::environ; e && *e; ++e) environ_now.emplace_back(*e);
    m_jobs.configure(m_base, std::move(environ_now), m_node.node, m_node.gpus);
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
        if (job.mem_cap == 0 || !job.gpu_why.empty()) {
            Completion c = attempt_completion(a, AttemptStatus::spawn_failed,
                                              job.gpu_why.empty() ? job.mem_why : job.gpu_why);
            c.exit_code = 127;
            add_done(std::move(c));
            continue;
        }
        ++job.active;
        m_queue.push_back(Queued{std::move(a), {}});
    }
    // Granted before the site heard that this node wants no heat: back at
    // once, not after the next look at the budget.
    hand_back_queued();
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

int run_worker(Link& link) {
    struct sigaction sa {};
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    Worker w(link);
    return w.run();
}

}  // namespace hearth
