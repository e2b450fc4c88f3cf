#include "core/sched_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <string>

#include "core/error.hpp"

namespace hearth {

double decay_usage(double usage, double dt_s, double half_life_s) {
    // A clock stepping back must not inflate anyone's usage.
    if (!(half_life_s > 0) || !(dt_s > 0)) return usage;
    return usage * std::exp2(-dt_s / half_life_s);
}

namespace {

constexpr double k_guess_task_s = 60;  // a job with no task finished yet

std::uint32_t sat_sub(std::uint32_t a, std::uint32_t b) { return a > b ? a - b : 0; }

bool is_deadline_work(const PolicyJob& j) { return j.urgent || j.deadline_s > 0; }

// The caller's bugs, not a user's: the grid file and the job store validate
// what reaches here, so a bad index or share means the glue is wrong.
void check_input(const PolicyInput& in) {
    for (std::size_t i = 0; i < in.tenants.size(); ++i) {
        const double s = in.tenants[i].share;
        if (!(s > 0) || !std::isfinite(s))
            throw Error("scheduling policy: tenant '" + in.tenants[i].name +
                        "' has share " + std::to_string(s) + "; pass a finite share above 0");
    }
    for (std::size_t i = 0; i < in.jobs.size(); ++i)
        if (in.jobs[i].tenant >= in.tenants.size())
            throw Error("scheduling policy: job #" + std::to_string(i) + " names tenant #" +
                        std::to_string(in.jobs[i].tenant) + " of " +
                        std::to_string(in.tenants.size()) + "; pass every job's tenant");
}

std::uint32_t cores_of(const PolicyJob& j) {
    return std::max<std::uint32_t>(1, j.cores_per_task);
}

}  // namespace

bool task_fits_node(const PolicyJob& job, const PolicyNode& node) {
    if (node.cap.slots < cores_of(job)) return false;
    if (job.gpus_per_task > node.gpus) return false;  // never where its GPUs are not
    return job.mem_per_task == 0 || node.mem_total == k_mem_unknown ||
           job.mem_per_task <= node.mem_total;
}

namespace {

// One call's working state: what is still free where (cores, memory), what
// each tenant holds (cores), the nodes held back for wide jobs, and the
// grants so far (one per job and node).
class Round {
public:
    explicit Round(const PolicyInput& in) : m_in(in) {
        const std::size_t n = in.nodes.size();
        m_free.assign(n, 0);
        m_spare.assign(n, 0);
        m_mem.assign(n, k_mem_unknown);
        m_gpus.assign(n, UINT32_MAX);
        m_reserved.assign(n, false);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& node = in.nodes[i];
            if (node.cap.usable) m_usable_slots += node.cap.slots;
            if (!node.open || !node.cap.usable) continue;
            const std::uint32_t limit =
                in.heat_aware ? std::min(node.cap.allowed, node.cap.slots) : node.cap.slots;
            // Prefetch: queued work held past the limit (none where heat
            // allows nothing). What the node holds past its prefetch runs,
            // so cores past the budget stay spare for deadline work.
            const std::uint32_t ahead = limit > 0 ? node.prefetch : 0;
            m_free[i] = sat_sub(limit + ahead, node.busy);
            m_spare[i] = sat_sub(node.cap.slots, std::max(limit, sat_sub(node.busy, ahead)));
            m_mem[i] = node.mem_free;
            m_gpus[i] = std::min(node.gpus, node.gpus_free);
            m_free_total += m_free[i];
            m_spare_total += m_spare[i];
        }
        m_order = in.heat_aware ? heat_ordered_free() : rotation();
        m_held.assign(in.tenants.size(), 0);
        for (const auto& j : in.jobs) m_held[j.tenant] += std::uint64_t{j.running} * cores_of(j);
        m_job_granted.assign(in.jobs.size(), 0);
        m_last_on_node.assign(n, -1);
    }

    std::uint64_t free_total() const { return m_free_total; }
    std::uint64_t held(std::uint32_t tenant) const { return m_held[tenant]; }
    std::uint32_t job_granted(std::uint32_t job) const { return m_job_granted[job]; }
    std::uint64_t usable_slots() const { return m_usable_slots; }

    // Cores the tenant may still start under its max_running.
    std::uint64_t headroom(std::uint32_t tenant) const {
        const std::uint32_t cap = m_in.tenants[tenant].max_running;
        if (cap == 0) return std::numeric_limits<std::uint64_t>::max();
        return cap > m_held[tenant] ? cap - m_held[tenant] : 0;
    }

    // Up to `count` tasks of the job on the free (heat-allowed, when aware)
    // cores, in node order, where its cores, memory and GPUs fit; returns how many
    // were granted.
    std::uint64_t take_free(std::uint32_t job, std::uint64_t count) {
        const PolicyJob& j = m_in.jobs[job];
        const std::uint32_t cores = cores_of(j);
        // Nodes before the cursor have no core free: nobody needs them again.
        while (m_cursor < m_order.size() && m_free[m_order[m_cursor]] == 0) ++m_cursor;
        std::uint64_t given = 0;
        for (std::size_t k = m_cursor; k < m_order.size() && given < count; ++k) {
            if (m_free_total < cores) break;
            const std::uint32_t node = m_order[k];
            if (m_reserved[node]) continue;
            const std::uint64_t take =
                std::min({count - given, std::uint64_t{m_free[node] / cores}, node_fit(j, node)});
            if (take == 0) continue;
            m_free[node] -= static_cast<std::uint32_t>(take * cores);
            m_free_total -= take * cores;
            claim(j, node, take);
            grant(job, node, take, false);
            given += take;
        }
        return given;
    }

    // Opens up to `count` tasks' cores past the heat budgets, least waste
    // first (heat_dispatch's plan_slots over the nodes with cores physically
    // free past their budgets, counted in the job's tasks).
    std::uint64_t open_extra(std::uint32_t job, std::uint64_t count) {
        const PolicyJob& j = m_in.jobs[job];
        const std::uint32_t cores = cores_of(j);
        if (count == 0 || m_spare_total < cores) return 0;
        std::vector<std::uint32_t> index;
        std::vector<NodeCapacity> spare;
        std::uint64_t room = 0;
        for (std::size_t i = 0; i < m_spare.size(); ++i) {
            const auto fit = static_cast<std::uint32_t>(std::min<std::uint64_t>(
                m_spare[i] / cores, node_fit(j, static_cast<std::uint32_t>(i))));
            if (fit == 0) continue;
            index.push_back(static_cast<std::uint32_t>(i));
            NodeCapacity c = m_in.nodes[i].cap;
            c.slots = fit;
            c.allowed = 0;
            spare.push_back(c);
            room += fit;
        }
        if (room == 0) return 0;
        const auto plan =
            plan_slots(static_cast<std::uint32_t>(std::min<std::uint64_t>(count, room)), spare);
        std::uint64_t given = 0;
        for (std::size_t k = 0; k < plan.extra.size(); ++k) {
            const std::uint32_t i = index[k];
            const std::uint32_t add = std::min(plan.extra[k], spare[k].slots);
            if (add == 0) continue;
            m_spare[i] -= add * cores;
            m_spare_total -= std::uint64_t{add} * cores;
            claim(j, i, add);
            grant(job, i, add, true);
            given += add;
        }
        return given;
    }

    // The job fits nowhere now: hold back for it the open node that could
    // hold one of its tasks (cores, memory and free GPUs, within its heat budget when
    // aware) with the most cores free, so that they add up there. False
    // when no open node ever could.
    bool reserve(std::uint32_t job) {
        const PolicyJob& j = m_in.jobs[job];
        std::int64_t best = -1;
        for (std::size_t k = 0; k < m_order.size(); ++k) {
            const std::uint32_t i = m_order[k];
            if (m_reserved[i] || !could_hold(j, i)) continue;
            if (best < 0 || m_free[i] > m_free[static_cast<std::size_t>(best)]) best = i;
        }
        if (best < 0) {
            // No core free on the nodes that could hold it: nothing to hold back.
            return false;
        }
        const auto i = static_cast<std::size_t>(best);
        m_reserved[i] = true;
        m_free_total -= m_free[i];
        return true;
    }

    // One grant per (job, node), in the order they were first made.
    std::vector<Grant> take_grants() { return std::move(m_grants); }

private:
    // Tasks of the job the node's free memory and free GPUs still hold
    // (cores aside).
    std::uint64_t node_fit(const PolicyJob& j, std::uint32_t node) const {
        std::uint64_t fit = std::numeric_limits<std::uint64_t>::max();
        if (j.gpus_per_task > 0 && m_gpus[node] != UINT32_MAX) fit = m_gpus[node] / j.gpus_per_task;
        if (j.mem_per_task > 0 && m_mem[node] != k_mem_unknown)
            fit = std::min(fit, m_mem[node] / j.mem_per_task);
        return fit;
    }

    void claim(const PolicyJob& j, std::uint32_t node, std::uint64_t tasks) {
        if (j.mem_per_task > 0 && m_mem[node] != k_mem_unknown)
            m_mem[node] -= std::min(m_mem[node], tasks * j.mem_per_task);
        if (j.gpus_per_task > 0 && m_gpus[node] != UINT32_MAX)
            m_gpus[node] -= static_cast<std::uint32_t>(
                std::min<std::uint64_t>(m_gpus[node], tasks * j.gpus_per_task));
    }

    bool could_hold(const PolicyJob& j, std::uint32_t i) const {
        const PolicyNode& node = m_in.nodes[i];
        if (!task_fits_node(j, node)) return false;
        // Only GPU tasks ending free GPUs: holding cores back would not
        // bring them sooner, so a job waiting for GPUs holds no node and
        // other jobs use the cores meanwhile.
        if (j.gpus_per_task > 0 && m_gpus[i] != UINT32_MAX && m_gpus[i] < j.gpus_per_task)
            return false;
        const std::uint32_t limit =
            m_in.heat_aware ? std::min(node.cap.allowed, node.cap.slots) : node.cap.slots;
        return limit >= cores_of(j);
    }

    // The nodes with free slots in heat_order. Only those: on a busy grid a
    // call sees a few nodes with free slots among thousands, and sorting
    // them all on every site request would dominate.
    std::vector<std::uint32_t> heat_ordered_free() const {
        std::vector<std::uint32_t> index;
        std::vector<NodeCapacity> free_caps;
        for (std::size_t i = 0; i < m_free.size(); ++i) {
            if (m_free[i] == 0) continue;
            index.push_back(static_cast<std::uint32_t>(i));
            free_caps.push_back(m_in.nodes[i].cap);
        }
        std::vector<std::uint32_t> order = heat_order(free_caps);
        for (auto& k : order) k = index[k];
        return order;
    }

    // The heat-unaware baseline: every node in turn from `rotate`, so that
    // successive calls do not always load the first nodes of the file.
    std::vector<std::uint32_t> rotation() const {
        const std::size_t n = m_in.nodes.size();
        std::vector<std::uint32_t> order;
        for (std::size_t k = 0; k < n; ++k) {
            const auto i = static_cast<std::uint32_t>((k + m_in.rotate % n) % n);
            if (m_free[i] > 0) order.push_back(i);
        }
        return order;
    }

    // Merges with the job's grant on that node, found through the node's
    // own few grants (a chain through m_prev_on_node), not a map.
    void grant(std::uint32_t job, std::uint32_t node, std::uint64_t count, bool overridden) {
        std::int64_t at = m_last_on_node[node];
        while (at >= 0 && m_grants[static_cast<std::size_t>(at)].job != job)
            at = m_prev_on_node[static_cast<std::size_t>(at)];
        if (at < 0) {
            at = static_cast<std::int64_t>(m_grants.size());
            m_grants.push_back(Grant{job, node, 0, false});
            m_prev_on_node.push_back(m_last_on_node[node]);
            m_last_on_node[node] = at;
        }
        Grant& g = m_grants[static_cast<std::size_t>(at)];
        g.count += static_cast<std::uint32_t>(count);
        g.overridden = g.overridden || overridden;
        m_held[m_in.jobs[job].tenant] += count * cores_of(m_in.jobs[job]);
        m_job_granted[job] += static_cast<std::uint32_t>(count);
    }

    const PolicyInput& m_in;
    // Per node: cores grantable within the budget (or all, unaware), cores
    // physically free past the budget, bytes new tasks may claim
    // (k_mem_unknown: no check), GPUs new tasks may claim (UINT32_MAX: no
    // check), held back for a wide job this call.
    std::vector<std::uint32_t> m_free;
    std::vector<std::uint32_t> m_spare;
    std::vector<std::uint64_t> m_mem;
    std::vector<std::uint32_t> m_gpus;
    std::vector<bool> m_reserved;
    std::uint64_t m_free_total = 0, m_spare_total = 0, m_usable_slots = 0;
    std::vector<std::uint32_t> m_order;  // nodes in the order free cores are given
    std::size_t m_cursor = 0;            // into m_order: nodes before it are full
    std::vector<std::uint64_t> m_held;   // per tenant: cores running + granted
    std::vector<std::uint32_t> m_job_granted;  // per job: tasks granted
    std::vector<Grant> m_grants;
    std::vector<std::int64_t> m_last_on_node;  // per node: its latest grant, -1 = none
    std::vector<std::int64_t> m_prev_on_node;  // per grant: the node's grant before it
};

// The concurrent slots a deadline job needs now to finish in time. Urgent
// work without a deadline wants as many as its tasks can use.
std::uint64_t deadline_slots(const PolicyJob& j, double now_s, std::uint64_t usable_slots) {
    if (j.deadline_s <= 0) return j.running + j.queued;
    usable_slots /= cores_of(j);  // in the job's tasks
    DeadlineNeed need;
    need.task_s = j.task_s > 0 ? j.task_s : k_guess_task_s;
    need.work_s = static_cast<double>(j.queued) * need.task_s + std::max(0.0, j.remaining_s);
    need.time_left_s = j.deadline_s - now_s;
    return slots_needed(need, usable_slots, nullptr);
}

// 1. Urgent work, then deadlines, earliest first, each as many slots as it
// needs now: the budgets' free slots first, then past the budgets what the
// deadline still lacks. Only the need goes first: a far deadline does not
// jump the fair-share queue, and urgent work does not fill sites that want
// no heat. Their other tasks queue in fair share like any job's.
void grant_deadline_work(const PolicyInput& in, Round& round) {
    std::vector<std::uint32_t> order;
    for (std::size_t i = 0; i < in.jobs.size(); ++i)
        if (is_deadline_work(in.jobs[i]) && in.jobs[i].queued > 0)
            order.push_back(static_cast<std::uint32_t>(i));
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        const auto& ja = in.jobs[a];
        const auto& jb = in.jobs[b];
        if (ja.urgent != jb.urgent) return ja.urgent;
        const double da = ja.deadline_s > 0 ? ja.deadline_s : std::numeric_limits<double>::infinity();
        const double db = jb.deadline_s > 0 ? jb.deadline_s : std::numeric_limits<double>::infinity();
        if (da != db) return da < db;
        if (ja.priority != jb.priority) return ja.priority > jb.priority;
        return ja.seq < jb.seq;
    });
    for (std::uint32_t ji : order) {
        const auto& j = in.jobs[ji];
        const std::uint64_t needed = deadline_slots(j, in.now_s, round.usable_slots());
        if (needed <= j.running) continue;
        std::uint64_t want = std::min<std::uint64_t>(
            {j.queued, round.headroom(j.tenant) / cores_of(j), needed - j.running});
        want -= round.take_free(ji, want);
        if (want > 0 && in.heat_aware) round.open_extra(ji, want);
    }
}

// 2. Weighted fair share. A tenant's load is what it holds now (running +
// granted) plus its decayed past usage, expressed in slots: its fraction of
// all tenants' usage times the slots in play this round (every running task
// and every free slot), so the past weighs as much as the present and the
// caller's usage unit and half-life do not matter. The next slot goes to the
// tenant with the lowest load / share (Slurm's usage over normalised share),
// ties to the lower tenant index.
class FairShare {
public:
    FairShare(const PolicyInput& in, Round& round) : m_in(in), m_round(round) {
        const std::size_t nt = in.tenants.size();
        m_jobs.resize(nt);
        m_next.assign(nt, 0);
        m_queued.assign(nt, 0);
        std::uint64_t running = 0;
        for (std::size_t i = 0; i < in.jobs.size(); ++i) {
            const auto& j = in.jobs[i];
            const std::uint32_t granted = round.job_granted(static_cast<std::uint32_t>(i));
            running += (std::uint64_t{j.running} + granted) * cores_of(j);
            if (j.queued <= granted) continue;
            m_jobs[j.tenant].push_back(static_cast<std::uint32_t>(i));
            m_queued[j.tenant] += (j.queued - granted) * cores_of(j);
        }
        double usage_total = 0;
        for (const auto& t : in.tenants) usage_total += std::max(0.0, t.usage_slot_s);
        const double in_play = static_cast<double>(running + round.free_total());
        m_usage_slots.assign(nt, 0);
        for (std::size_t t = 0; t < nt; ++t) {
            if (usage_total > 0)
                m_usage_slots[t] = std::max(0.0, in.tenants[t].usage_slot_s) / usage_total * in_play;
            // Higher priority first, then arrival.
            std::sort(m_jobs[t].begin(), m_jobs[t].end(), [&](std::uint32_t a, std::uint32_t b) {
                if (in.jobs[a].priority != in.jobs[b].priority)
                    return in.jobs[a].priority > in.jobs[b].priority;
                return in.jobs[a].seq < in.jobs[b].seq;
            });
        }
    }

    void run() {
        for (std::uint32_t t = 0; t < m_in.tenants.size(); ++t)
            if (demand(t) > 0) m_heap.push({load(t), t});
        while (!m_heap.empty() && m_round.free_total() > 0) {
            const Entry top = m_heap.top();
            m_heap.pop();
            const std::uint32_t t = top.tenant;
            // As many slots as keep this tenant no further above the next
            // one than one slot: the result of giving slots one at a time,
            // without a heap operation per slot.
            std::uint64_t chunk = 1;
            if (m_heap.empty()) {
                chunk = std::numeric_limits<std::uint64_t>::max();
            } else {
                const double gap = (m_heap.top().load - top.load) * m_in.tenants[t].share;
                if (gap > 1) chunk = static_cast<std::uint64_t>(std::min(std::ceil(gap - 1e-9), 1e18));
            }
            chunk = std::min({chunk, demand(t), m_round.free_total()});
            // Nothing given: none of the tenant's queued tasks fits where
            // cores are free now; it waits for the next call.
            if (give(t, chunk) == 0) continue;
            if (demand(t) > 0) m_heap.push({load(t), t});
        }
    }

private:
    struct Entry {
        double load;
        std::uint32_t tenant;
        // std::priority_queue is a max-heap: "less" means later.
        bool operator<(const Entry& o) const {
            if (load != o.load) return load > o.load;
            return tenant > o.tenant;
        }
    };

    double load(std::uint32_t t) const {
        return (static_cast<double>(m_round.held(t)) + m_usage_slots[t]) / m_in.tenants[t].share;
    }

    std::uint64_t demand(std::uint32_t t) const {
        return std::min(m_queued[t], m_round.headroom(t));
    }

    // About `cores` cores' worth of the tenant's tasks, its jobs in order;
    // returns the cores granted. A job whose next task fits nowhere now has
    // a node held back for it (Round::reserve) and the tenant's later jobs
    // go on past it, on the other nodes.
    std::uint64_t give(std::uint32_t t, std::uint64_t cores) {
        std::uint64_t total = 0;
        while (cores > 0 && m_next[t] < m_jobs[t].size()) {
            const std::uint32_t ji = m_jobs[t][m_next[t]];
            const PolicyJob& j = m_in.jobs[ji];
            const std::uint64_t per = cores_of(j);
            const std::uint64_t left = j.queued - m_round.job_granted(ji);
            const std::uint64_t room = m_round.headroom(t) / per;
            const std::uint64_t ask = std::min({left, (cores + per - 1) / per, room});
            if (ask == 0) break;  // its cores would pass the tenant's max_running
            const std::uint64_t given = m_round.take_free(ji, ask);
            cores -= std::min(cores, given * per);
            total += given * per;
            m_queued[t] -= given * per;
            if (given == left) {
                ++m_next[t];
            } else if (given < ask) {
                // No more of it fits now: skip it for this call.
                if (given == 0) m_round.reserve(ji);
                m_queued[t] -= (left - given) * per;
                ++m_next[t];
            }
        }
        return total;
    }

    const PolicyInput& m_in;
    Round& m_round;
    std::vector<std::vector<std::uint32_t>> m_jobs;  // per tenant: its queued jobs, in order
    std::vector<std::size_t> m_next;                 // per tenant: first job with tasks left
    std::vector<std::uint64_t> m_queued;             // per tenant: cores of tasks not yet granted
    std::vector<double> m_usage_slots;
    std::priority_queue<Entry> m_heap;
};

}  // namespace

std::vector<Grant> schedule(const PolicyInput& in) {
    check_input(in);
    Round round(in);
    if (round.free_total() == 0 && !in.heat_aware) return {};
    grant_deadline_work(in, round);
    if (round.free_total() > 0) FairShare(in, round).run();
    return round.take_grants();
}

}  // namespace hearth
