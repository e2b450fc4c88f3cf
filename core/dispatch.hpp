#pragma once
// The dispatcher's bookkeeping as a pure state machine: which task attempts
// go to a worker (how many is the scheduling policy's call, core/
// local_policy), what a success or failure means (commit, duplicate, retry,
// final failure), which nodes are avoided. No I/O, no MPI: the runner's
// rank 0 feeds it events and carries out what it returns, and the unit tests
// drive it directly.
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "interval_set.hpp"

namespace hearth {

struct Attempt {
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
};

enum class Outcome { committed, duplicate, retry, failed };

struct DispatchLimits {
    std::uint32_t retries = 2;               // extra attempts after the first
    std::uint32_t node_failure_limit = 3;    // distinct failed tasks that block a node
};

class DispatchState {
public:
    // committed: tasks already done (resume); attempts_made: attempts already
    // used by tasks not committed, so attempt numbers keep counting up.
    DispatchState(std::uint64_t total_tasks, IntervalSet committed,
                  std::map<std::uint64_t, std::uint32_t> attempts_made, DispatchLimits limits);

    void add_worker(int worker);
    // The worker is gone (its node died): its attempts go back to the queue
    // without counting as failures (the node's fault, not the task's).
    void remove_worker(int worker);
    void want(int worker, std::uint32_t n);
    // Hands out as many attempts as workers want.
    std::map<int, std::vector<Attempt>> take_assignments();
    // Hands out up to counts[worker] attempts to each usable worker (how many
    // is the scheduling policy's call: core/local_policy); which ones is
    // decided here: retries first, on another node than the ones they failed
    // on where one is usable, then new tasks in order. What a worker is sent
    // comes off what it asked for.
    std::map<int, std::vector<Attempt>> take_assignments(
        const std::map<int, std::uint32_t>& counts);

    Outcome on_success(int worker, Attempt a);
    // permanent: retrying cannot help (output name conflict): no retry.
    Outcome on_failure(int worker, Attempt a, bool permanent);
    // The attempt was stopped by us (cancel, requeue): back to the queue.
    void on_requeue(int worker, Attempt a);

    bool finished() const;          // nothing pending nor in flight
    bool stalled() const;           // work remains but no usable worker exists
    bool blocked(int worker) const;
    bool usable(int worker) const;           // present and not blocked
    std::uint32_t wanted(int worker) const;  // asked for and not yet sent
    // Attempts waiting for a worker: tasks never started and retries.
    std::uint64_t queued() const;
    // Attempts in flight per worker (those with none are left out).
    std::map<int, std::uint32_t> in_flight_by_worker() const;
    bool is_committed(std::uint64_t task) const { return m_committed.contains(task); }
    // Workers newly blocked since the last call (to journal them once).
    std::vector<int> take_newly_blocked();

    std::uint64_t total() const { return m_total; }
    std::uint64_t committed() const { return m_committed.size(); }
    std::uint64_t failed() const { return m_failed.size(); }
    std::uint64_t in_flight() const { return m_in_flight.size(); }
    const std::set<std::uint64_t>& failed_tasks() const { return m_failed; }

private:
    struct Retry {
        std::uint64_t task;
        std::uint32_t next_attempt;
    };
    // Tasks that failed or were sent back: where they failed and how often.
    // Attempt numbers count every start; only failures count against retries.
    struct History {
        std::set<int> failed_on;
        std::uint32_t failures = 0;
    };
    struct Flight {
        int worker;
        std::uint32_t attempt;
    };
    struct WorkerState {
        std::uint32_t want = 0;
        std::set<std::uint64_t> failed_tasks;
        bool blocked = false;
        bool present = true;
    };

    bool eligible(const Retry& r, int worker) const;
    bool next_new(Attempt& out);
    void requeue(std::uint64_t task, std::uint32_t attempt_done);

    std::uint64_t m_total;
    IntervalSet m_committed;
    std::map<std::uint64_t, std::uint32_t> m_attempts_made;
    DispatchLimits m_limits;
    std::uint64_t m_cursor = 0;
    std::deque<Retry> m_retry;
    std::map<std::uint64_t, Flight> m_in_flight;
    std::map<std::uint64_t, History> m_history;
    std::set<std::uint64_t> m_failed;
    std::map<int, WorkerState> m_workers;
    std::vector<int> m_newly_blocked;
};

}  // namespace hearth
