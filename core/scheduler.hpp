#pragma once
// The grid scheduler's service, without HTTP: `hearth serve` maps its routes
// onto these calls (one at a time, under one mutex), `hearth run` without a
// server will drive it in-process, and the unit tests drive it with a
// ManualClock. State is durable in SQLite under the state directory
// (core/sched_store: WAL, synchronous=FULL): a SIGKILL at any moment loses
// nothing a reply has confirmed, and on restart every job carries on.
//
// Jobs are split lazily: a job is a task count and a cursor; only attempts,
// commits and retries have rows. Results are exactly-once: a task is
// committed by the first successful result of any of its attempts (a late
// result of a lapsed attempt included); every later one is a duplicate.
// Execution is at-least-once.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/auth.hpp"
#include "core/clock.hpp"
#include "core/grid.hpp"
#include "core/grid_overview.hpp"
#include "core/jobs_api.hpp"
#include "core/sched_policy.hpp"
#include "core/site_api.hpp"

namespace hearth {

struct SchedulerSettings {
    std::int64_t lease_ms = 60'000;          // a site silent this long loses what it holds
    double usage_half_life_s = 7 * 86400.0;  // fair-share usage decay (Slurm's default: 7 days)
    std::uint32_t max_grants_per_reply = 4096;
    std::uint64_t max_tasks_per_job = std::uint64_t{1} << 40;
    // Group commit (core/group_sync; hearth serve): a mutating call returns
    // once its transaction is committed but not yet synced; its caller
    // releases its lock and calls wait_durable(last_commit()) before it
    // answers, so concurrent requests share one fsync. Off: every
    // transaction syncs before the call returns.
    bool group_commit = false;
};

struct JobFilter {
    std::optional<std::string> tenant;
    std::optional<JobState> state;
    std::size_t limit = 1000;
};

// The policy as a dependency: production passes hearth::schedule, tests may
// pass a simpler one.
using PolicyFn = std::function<std::vector<Grant>(const PolicyInput&)>;

class Scheduler {
public:
    // state_dir: created when missing (0700); holds queue.db and blobs/.
    Scheduler(const std::string& state_dir, Grid grid, const Clock& clock, PolicyFn policy,
              SchedulerSettings settings = {});
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Clients. `who` is the caller's role, already authenticated; a tenant
    // sees and acts on its own jobs only (others: 404, as if absent), an
    // operator on all, a facility token on none (403). Bad input throws
    // usage_error (400) naming the field and the fix, and queues nothing.
    JobInfo submit(const Role& who, const JobSubmit& s);
    std::vector<JobInfo> jobs(const Role& who, const JobFilter& f);
    JobInfo job(const Role& who, const std::string& id);
    JobInfo cancel(const Role& who, const std::string& id);
    // Failed tasks get a fresh set of retries; a cancelled job is queued again.
    JobInfo resume(const Role& who, const std::string& id);
    std::vector<TaskInfo> tasks(const Role& who, const std::string& id, std::uint64_t from,
                                std::size_t limit);
    // The log of a task's attempt (the last one when none is named).
    std::string task_log(const Role& who, const std::string& id, std::uint64_t task,
                         std::optional<std::uint32_t> attempt);
    std::vector<OutputInfo> outputs(const Role& who, const std::string& id);
    // The operator's overview of the grid (core/grid_overview); 403 for
    // anyone else.
    GridOverview overview(const Role& who);

    // Content store: put verifies the data hashes to sha256 (400 otherwise)
    // and is idempotent; get throws a 404 Error when absent.
    void put_blob(const std::string& sha256, const std::string& data);
    std::string get_blob(const std::string& sha256) const;
    std::string blob_path(const std::string& sha256) const;  // for streaming large files
    bool has_blob(const std::string& sha256) const;

    // Sites. `site` is the caller's site (from its token or the route); a
    // request naming another site is refused (403).
    WorkReply work(const std::string& site, const WorkRequest& r);

    // Housekeeping, called about once a second by the server: leases that
    // lapsed requeue what their site held (not a failure, not a retry).
    void tick();

    const Grid& grid() const;

    // Group commit (SchedulerSettings::group_commit). last_commit: under the
    // caller's lock, the number of the latest committed transaction;
    // wait_durable: without it, returns once that transaction is synced
    // (throws Error when the disk refuses). Both are no-ops without group
    // commit: there every call returns durable.
    std::uint64_t last_commit() const;
    void wait_durable(std::uint64_t commit) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace hearth
