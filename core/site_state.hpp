#pragma once
// The site dispatcher's bookkeeping (`hearth site`, rank 0), pure: no I/O,
// no MPI, no HTTP. Which worker rank is which node, what each node asked
// for, which attempts are held where (queued or running on a worker), which
// jobs' settings each worker has, and what the next work request says. The
// glue (runner/site/site_dispatcher.cpp) feeds it MPI reports and HTTP replies.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/protocol.hpp"
#include "core/site_api.hpp"

namespace hearth {

class SiteState {
public:
    // A worker rank said hello: node is the grid file's name for it.
    // slots: its cores; mem_total: bytes (0: unknown).
    void add_node(int rank, const std::string& node, const std::string& host, std::uint32_t slots,
                  std::uint64_t mem_total = 0);
    // Its GPUs as its worker hands them out (NodeConfig::gpus), reported to
    // the scheduler so that it grants GPU tasks only where they fit.
    void set_gpus(int rank, std::uint32_t gpus);
    bool has_node(int rank) const { return m_nodes.count(rank) != 0; }
    std::string node_of(int rank) const;  // "rankN" when unknown
    // A worker's report: it wants `more` cores filled beyond what it holds
    // and was sent; mem_available: its free memory now (0: unknown).
    void on_report(int rank, std::uint32_t more, const HeatReport& heat,
                   std::uint64_t mem_available = 0);
    // An attempt ended on the rank's node: one that ran (not handed back
    // or refused before it started) feeds the node's mean task time, which
    // sizes its prefetch.
    void on_ended(int rank, AttemptStatus status, std::uint64_t wall_ms);
    // A work request's round trip to the scheduler took ms (answered ones
    // only): their running mean deepens the prefetch where it is long
    // against the tasks (core/prefetch prefetch_depth).
    void on_round_trip(double ms);
    // The cores each task of a job holds (its JobRuntime): the nodes'
    // running and wanted cores count them. Unknown jobs' tasks hold one.
    void set_job_cores(const std::string& job, std::uint32_t cores);

    // Places granted attempts on the workers of their nodes. Those whose node
    // is not here (gone with a relaunch) or that are already held are refused:
    // the caller reports the first kind lost, and ignores the second.
    struct Placement {
        std::map<int, std::vector<TaskGrant>> by_rank;
        std::vector<AttemptKey> unplaced;
    };
    Placement place(const std::vector<TaskGrant>& grants);
    // The worker finished an attempt (any outcome): no longer held. False when
    // it was not held (a duplicate report).
    bool release(const AttemptKey& key);
    // Where a held attempt is, or -1.
    int rank_of(const AttemptKey& key) const;

    // Settings of a job sent to a worker: sent once per worker.
    bool job_sent(int rank, const std::string& job) const;
    void mark_job_sent(int rank, const std::string& job);
    // Jobs a worker has settings of but holds no attempt of (to forget there).
    std::vector<std::string> idle_jobs(int rank) const;
    void forget_job(int rank, const std::string& job);

    std::vector<AttemptKey> held() const;
    std::size_t held_count() const { return m_held.size(); }
    // The request's view of the nodes: slots, running (held), want and the
    // prefetch each would keep queued (core/prefetch). With take_work false
    // (the result buffer is full) every node wants nothing.
    std::vector<NodeReport> nodes(bool take_work) const;

private:
    struct Node {
        std::string name, host;
        std::uint32_t slots = 0;
        std::uint32_t want = 0;  // cores asked for, not yet granted
        HeatReport heat;
        std::uint64_t mem_total = 0, mem_available = 0;
        double mean_ms = -1;  // recent attempts' wall time (next_mean_ms); -1: none yet
        std::optional<std::uint32_t> gpus;
        std::set<std::string> jobs;  // jobs whose settings it has
    };
    std::map<int, Node> m_nodes;
    std::map<AttemptKey, int> m_held;  // attempt -> rank
    std::map<std::string, std::uint32_t> m_job_cores;
    double m_rtt_ms = -1;  // running mean of work round trips; -1: none yet
    std::uint32_t cores_of(const std::string& job) const;
};

// What a previous run of the site held and did not finish: those attempts
// died with its mpirun (lost, to be requeued), except those whose results the
// buffer keeps (they finished and will be delivered).
std::vector<AttemptKey> lost_attempts(const std::vector<AttemptKey>& held_before,
                                      const std::set<AttemptKey>& finished);

// The held-attempts file of a site (state dir/held.json): what a run holds,
// rewritten after every reply, so that the next run can say what was lost.
std::string held_to_text(const std::string& run, const std::vector<AttemptKey>& held);
std::vector<AttemptKey> held_from_text(const std::string& text);  // [] when unreadable

}  // namespace hearth
