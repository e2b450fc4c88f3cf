#include "dispatch.hpp"

namespace hearth {

DispatchState::DispatchState(std::uint64_t total_tasks, IntervalSet committed,
                             std::map<std::uint64_t, std::uint32_t> attempts_made,
                             DispatchLimits limits)
    : m_total(total_tasks),
      m_committed(std::move(committed)),
      m_attempts_made(std::move(attempts_made)),
      m_limits(limits) {}

void DispatchState::add_worker(int worker) { m_workers[worker] = WorkerState{}; }

void DispatchState::remove_worker(int worker) {
    auto it = m_workers.find(worker);
    if (it == m_workers.end()) return;
    it->second.present = false;
    it->second.want = 0;
    for (auto f = m_in_flight.begin(); f != m_in_flight.end();) {
        if (f->second.worker == worker) {
            // The attempt number is used up; the task runs again with the next one.
            requeue(f->first, f->second.attempt);
            f = m_in_flight.erase(f);
        } else {
            ++f;
        }
    }
}

void DispatchState::want(int worker, std::uint32_t n) {
    auto it = m_workers.find(worker);
    if (it != m_workers.end() && usable(worker)) it->second.want += n;
}

bool DispatchState::usable(int worker) const {
    auto it = m_workers.find(worker);
    return it != m_workers.end() && it->second.present && !it->second.blocked;
}

bool DispatchState::eligible(const Retry& r, int worker) const {
    auto h = m_history.find(r.task);
    if (h == m_history.end() || !h->second.failed_on.count(worker)) return true;
    // Prefer another node, but never leave a retry with nowhere to go.
    for (const auto& [id, w] : m_workers)
        if (id != worker && usable(id) && !h->second.failed_on.count(id)) return false;
    return true;
}

bool DispatchState::next_new(Attempt& out) {
    while (m_cursor < m_total) {
        std::uint64_t t = m_committed.next_absent(m_cursor);
        if (t >= m_total) {
            m_cursor = m_total;
            return false;
        }
        m_cursor = t + 1;
        if (m_in_flight.count(t)) continue;
        auto made = m_attempts_made.find(t);
        out.task = t;
        out.attempt = made == m_attempts_made.end() ? 1 : made->second + 1;
        if (made != m_attempts_made.end()) m_attempts_made.erase(made);
        return true;
    }
    return false;
}

std::map<int, std::vector<Attempt>> DispatchState::take_assignments() {
    std::map<int, std::uint32_t> counts;
    for (const auto& [id, w] : m_workers) counts[id] = w.want;
    return take_assignments(counts);
}

std::map<int, std::vector<Attempt>> DispatchState::take_assignments(
    const std::map<int, std::uint32_t>& counts) {
    std::map<int, std::vector<Attempt>> out;
    for (const auto& [id, count] : counts) {
        if (!usable(id)) continue;
        WorkerState& w = m_workers[id];
        for (std::uint32_t n = 0; n < count; ++n) {
            Attempt a;
            bool found = false;
            for (auto r = m_retry.begin(); r != m_retry.end();) {
                if (m_committed.contains(r->task)) {  // a late success got there first
                    r = m_retry.erase(r);
                    continue;
                }
                if (eligible(*r, id)) {
                    a = Attempt{r->task, r->next_attempt};
                    m_retry.erase(r);
                    found = true;
                    break;
                }
                ++r;
            }
            if (!found) found = next_new(a);
            if (!found) break;
            m_in_flight[a.task] = Flight{id, a.attempt};
            out[id].push_back(a);
            if (w.want > 0) --w.want;
        }
    }
    return out;
}

std::uint32_t DispatchState::wanted(int worker) const {
    auto it = m_workers.find(worker);
    return it == m_workers.end() || !usable(worker) ? 0 : it->second.want;
}

std::uint64_t DispatchState::queued() const {
    // Every task is committed, failed for good, in flight, or waiting (never
    // started, or in the retry queue).
    const std::uint64_t out = m_committed.size() + m_failed.size() + m_in_flight.size();
    return m_total > out ? m_total - out : 0;
}

std::map<int, std::uint32_t> DispatchState::in_flight_by_worker() const {
    std::map<int, std::uint32_t> n;
    for (const auto& [task, f] : m_in_flight) ++n[f.worker];
    return n;
}

Outcome DispatchState::on_success(int worker, Attempt a) {
    (void)worker;
    auto f = m_in_flight.find(a.task);
    if (f != m_in_flight.end() && f->second.attempt == a.attempt) m_in_flight.erase(f);
    if (a.task >= m_total || !m_committed.insert(a.task)) return Outcome::duplicate;
    m_history.erase(a.task);
    m_failed.erase(a.task);
    return Outcome::committed;
}

Outcome DispatchState::on_failure(int worker, Attempt a, bool permanent) {
    auto f = m_in_flight.find(a.task);
    if (f == m_in_flight.end() || f->second.attempt != a.attempt)
        return Outcome::duplicate;  // a stale attempt: the task moved on
    m_in_flight.erase(f);
    if (m_committed.contains(a.task)) return Outcome::duplicate;  // an older attempt succeeded
    History& h = m_history[a.task];
    h.failed_on.insert(worker);
    ++h.failures;

    auto w = m_workers.find(worker);
    if (w != m_workers.end()) {
        w->second.failed_tasks.insert(a.task);
        if (!w->second.blocked && w->second.failed_tasks.size() >= m_limits.node_failure_limit) {
            // Block a node only while another usable one remains: with a single
            // node left, blocking it would fail every remaining task untried.
            bool other = false;
            for (const auto& [id, ws] : m_workers)
                if (id != worker && usable(id)) other = true;
            if (other) {
                w->second.blocked = true;
                w->second.want = 0;
                m_newly_blocked.push_back(worker);
            }
        }
    }
    if (permanent || h.failures >= 1 + m_limits.retries) {
        m_failed.insert(a.task);
        m_history.erase(a.task);
        return Outcome::failed;
    }
    requeue(a.task, a.attempt);
    return Outcome::retry;
}

void DispatchState::on_requeue(int worker, Attempt a) {
    (void)worker;
    auto f = m_in_flight.find(a.task);
    if (f == m_in_flight.end() || f->second.attempt != a.attempt) return;
    m_in_flight.erase(f);
    requeue(a.task, a.attempt);
}

void DispatchState::requeue(std::uint64_t task, std::uint32_t attempt_done) {
    m_retry.push_back(Retry{task, attempt_done + 1});
}

bool DispatchState::finished() const {
    return m_in_flight.empty() && m_retry.empty() && m_committed.next_absent(m_cursor) >= m_total;
}

bool DispatchState::stalled() const {
    if (finished()) return false;
    for (const auto& [id, w] : m_workers)
        if (usable(id)) return false;
    return true;
}

bool DispatchState::blocked(int worker) const {
    auto it = m_workers.find(worker);
    return it != m_workers.end() && it->second.blocked;
}

std::vector<int> DispatchState::take_newly_blocked() {
    std::vector<int> v;
    v.swap(m_newly_blocked);
    return v;
}

}  // namespace hearth
