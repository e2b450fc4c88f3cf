#include "core/sched_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <string>
#include <unordered_map>

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

// One call's working state: what is still free where, what each tenant
// holds, and the grants so far (one per job and node).
class Round {
public:
    explicit Round(const PolicyInput& in) : m_in(in) {
        const std::size_t n = in.nodes.size();
        m_free.assign(n, 0);
        m_spare.assign(n, 0);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& node = in.nodes[i];
            if (node.cap.usable) m_usable_slots += node.cap.slots;
            if (!node.open || !node.cap.usable) continue;
            const std::uint32_t limit =
                in.heat_aware ? std::min(node.cap.allowed, node.cap.slots) : node.cap.slots;
            m_free[i] = sat_sub(limit, node.busy);
            m_spare[i] = sat_sub(node.cap.slots, std::max(limit, node.busy));
            m_free_total += m_free[i];
            m_spare_total += m_spare[i];
        }
        m_order = in.heat_aware ? heat_order(caps()) : rotation();
        m_held.assign(in.tenants.size(), 0);
        for (const auto& j : in.jobs) m_held[j.tenant] += j.running;
        m_job_granted.assign(in.jobs.size(), 0);
    }

    std::uint64_t free_total() const { return m_free_total; }
    std::uint64_t held(std::uint32_t tenant) const { return m_held[tenant]; }
    std::uint32_t job_granted(std::uint32_t job) const { return m_job_granted[job]; }
    std::uint64_t usable_slots() const { return m_usable_slots; }

    // Slots the tenant may still start under its max_running.
    std::uint64_t headroom(std::uint32_t tenant) const {
        const std::uint32_t cap = m_in.tenants[tenant].max_running;
        if (cap == 0) return std::numeric_limits<std::uint64_t>::max();
        return cap > m_held[tenant] ? cap - m_held[tenant] : 0;
    }

    // Up to `count` of the free (heat-allowed, when aware) slots, in node
    // order; returns how many were granted.
    std::uint64_t take_free(std::uint32_t job, std::uint64_t count) {
        std::uint64_t given = 0;
        while (given < count && m_cursor < m_order.size()) {
            const std::uint32_t node = m_order[m_cursor];
            const std::uint64_t take = std::min<std::uint64_t>(m_free[node], count - given);
            if (take > 0) {
                m_free[node] -= static_cast<std::uint32_t>(take);
                m_free_total -= take;
                grant(job, node, take, false);
                given += take;
            }
            if (m_free[node] == 0) ++m_cursor;
        }
        return given;
    }

    // Opens up to `count` slots past the heat budgets, least waste first
    // (heat_dispatch's plan_slots over what is physically free).
    std::uint64_t open_extra(std::uint32_t job, std::uint64_t count) {
        if (count == 0 || m_spare_total == 0) return 0;
        std::vector<NodeCapacity> spare = caps();
        for (std::size_t i = 0; i < spare.size(); ++i) {
            spare[i].slots = m_spare[i] + m_free[i];
            spare[i].allowed = m_free[i];
            spare[i].usable = spare[i].usable && m_in.nodes[i].open;
        }
        const std::uint64_t budgeted_free = m_free_total;
        const auto plan = plan_slots(
            static_cast<std::uint32_t>(std::min<std::uint64_t>(count + budgeted_free, 4'000'000'000)),
            spare);
        std::uint64_t given = 0;
        for (std::size_t i = 0; i < plan.extra.size(); ++i) {
            const std::uint32_t add = std::min(plan.extra[i], m_spare[i]);
            if (add == 0) continue;
            m_spare[i] -= add;
            m_spare_total -= add;
            grant(job, static_cast<std::uint32_t>(i), add, true);
            given += add;
        }
        return given;
    }

    std::vector<Grant> take_grants() { return std::move(m_grants); }

private:
    std::vector<NodeCapacity> caps() const {
        std::vector<NodeCapacity> c;
        c.reserve(m_in.nodes.size());
        for (const auto& n : m_in.nodes) c.push_back(n.cap);
        return c;
    }

    // The heat-unaware baseline: every node in turn from `rotate`, so that
    // successive calls do not always load the first nodes of the file.
    std::vector<std::uint32_t> rotation() const {
        const std::size_t n = m_in.nodes.size();
        std::vector<std::uint32_t> order(n);
        for (std::size_t k = 0; k < n; ++k)
            order[k] = static_cast<std::uint32_t>((k + (n ? m_in.rotate % n : 0)) % n);
        return order;
    }

    void grant(std::uint32_t job, std::uint32_t node, std::uint64_t count, bool overridden) {
        const std::uint64_t key = (std::uint64_t{job} << 32) | node;
        auto [it, fresh] = m_index.try_emplace(key, m_grants.size());
        if (fresh) m_grants.push_back(Grant{job, node, 0, false});
        Grant& g = m_grants[it->second];
        g.count += static_cast<std::uint32_t>(count);
        g.overridden = g.overridden || overridden;
        m_held[m_in.jobs[job].tenant] += count;
        m_job_granted[job] += static_cast<std::uint32_t>(count);
    }

    const PolicyInput& m_in;
    std::vector<std::uint32_t> m_free;   // per node: grantable within the budget (or all, unaware)
    std::vector<std::uint32_t> m_spare;  // per node: physically free past the budget
    std::uint64_t m_free_total = 0, m_spare_total = 0, m_usable_slots = 0;
    std::vector<std::uint32_t> m_order;  // nodes in the order free slots are given
    std::size_t m_cursor = 0;            // into m_order: nodes before it are full
    std::vector<std::uint64_t> m_held;   // per tenant: running + granted
    std::vector<std::uint32_t> m_job_granted;
    std::vector<Grant> m_grants;
    std::unordered_map<std::uint64_t, std::size_t> m_index;  // (job, node) -> m_grants
};

// The concurrent slots a deadline job needs now to finish in time. Urgent
// work without a deadline wants as many as its tasks can use.
std::uint64_t deadline_slots(const PolicyJob& j, double now_s, std::uint64_t usable_slots) {
    if (j.deadline_s <= 0) return j.running + j.queued;
    DeadlineNeed need;
    need.task_s = j.task_s > 0 ? j.task_s : k_guess_task_s;
    need.work_s = static_cast<double>(j.queued) * need.task_s + std::max(0.0, j.remaining_s);
    need.time_left_s = j.deadline_s - now_s;
    return slots_needed(need, usable_slots, nullptr);
}

// 1. Urgent work, then deadlines, earliest first: the budgets' free slots
// first, then past the budgets only what the deadline still lacks.
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
        std::uint64_t want = std::min<std::uint64_t>(j.queued, round.headroom(j.tenant));
        want -= round.take_free(ji, want);
        if (want == 0 || !in.heat_aware) continue;
        const std::uint64_t has = std::uint64_t{j.running} + round.job_granted(ji);
        const std::uint64_t needed = deadline_slots(j, in.now_s, round.usable_slots());
        if (needed > has) round.open_extra(ji, std::min(want, needed - has));
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
            running += j.running + round.job_granted(static_cast<std::uint32_t>(i));
            if (is_deadline_work(j) || j.queued == 0) continue;
            m_jobs[j.tenant].push_back(static_cast<std::uint32_t>(i));
            m_queued[j.tenant] += j.queued;
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
            if (give(t, chunk) == 0) break;  // no free slot left anywhere
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

    // Returns how many were granted.
    std::uint64_t give(std::uint32_t t, std::uint64_t count) {
        std::uint64_t total = 0;
        while (count > 0 && m_next[t] < m_jobs[t].size()) {
            const std::uint32_t ji = m_jobs[t][m_next[t]];
            const std::uint64_t left = m_in.jobs[ji].queued - m_round.job_granted(ji);
            const std::uint64_t given = m_round.take_free(ji, std::min(left, count));
            count -= given;
            total += given;
            m_queued[t] -= given;
            if (given == left) ++m_next[t];
            if (given == 0) break;
        }
        return total;
    }

    const PolicyInput& m_in;
    Round& m_round;
    std::vector<std::vector<std::uint32_t>> m_jobs;  // per tenant: its queued jobs, in order
    std::vector<std::size_t> m_next;                 // per tenant: first job with tasks left
    std::vector<std::uint64_t> m_queued;             // per tenant: tasks not yet granted
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
