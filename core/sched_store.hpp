#pragma once
// The scheduler's durable state: queue.db, SQLite in WAL mode with
// synchronous=FULL (NORMAL with group commit: defer_sync), schema in
// hearth-queue(5) (readable with the sqlite3 shell). The scheduler
// (core/scheduler.cpp) keeps the runnable jobs in memory and uses this as
// its log: every mutating call runs in one transaction (Transaction), so a
// crash loses nothing a reply confirmed and nothing half-done survives it.
//
// Lazy by construction: a job is a row with a task count and a cursor
// (tasks [next_task, task_count) were never started). Only tasks that were
// requeued or failed for good have a row in `tasks`; attempts, commits, logs
// and outputs have rows once they happen. A job of 10^9 tasks is one row.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/grid_overview.hpp"
#include "core/jobs_api.hpp"
#include "core/site_api.hpp"

namespace hearth {

struct JobRow {
    std::string id;
    std::uint64_t seq = 0;  // arrival order, unique
    std::string tenant;
    std::string name;
    std::string spec;  // the JobSubmit as JSON (tenant filled in)
    JobState state = JobState::queued;
    std::int32_t priority = 0;
    std::uint64_t task_count = 0;
    std::uint64_t next_task = 0;  // the cursor: tasks from here on were never started
    std::uint64_t done = 0;       // committed
    std::uint64_t failed = 0;     // failed after their retries
    std::uint64_t done_wall_ms = 0;  // summed over committed tasks (mean task time)
    std::uint64_t energy_uj = 0;
    bool energy_estimated = false;
    std::int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
};

enum class AttemptState { running, ok, failed, cancelled, lost, lapsed };
const char* to_string(AttemptState s);

struct AttemptRow {
    AttemptKey key;
    std::string site, run, node;
    AttemptState state = AttemptState::running;
    std::int64_t started_ms = 0, ended_ms = 0;
    std::int32_t exit_code = 0;
    std::uint64_t wall_ms = 0;
    std::string reason;
    std::uint64_t energy_uj = 0;
    bool energy_estimated = false;
    bool overridden = false;
};

// A task off the cursor's path: waiting again (queued), out again (running)
// or failed for good. attempts: the last attempt number handed out.
enum class TaskRowState { queued, running, failed };
struct TaskRow {
    std::string job;
    std::uint64_t task = 0;
    TaskRowState state = TaskRowState::queued;
    std::uint32_t attempts = 0;
    std::uint32_t failures = 0;  // since the last resume
};

struct UsageRow {
    std::string tenant;
    double usage_slot_s = 0;  // decayed to updated_ms
    std::int64_t updated_ms = 0;
};

struct SiteRow {
    std::string name;
    std::string run;
    std::int64_t lease_expires_ms = 0;
};

class SchedStore {
public:
    // Opens or creates path (schema version checked: a newer one is refused).
    explicit SchedStore(const std::string& path);
    ~SchedStore();
    SchedStore(const SchedStore&) = delete;
    SchedStore& operator=(const SchedStore&) = delete;

    // BEGIN IMMEDIATE now; ROLLBACK at scope end unless commit() was called.
    class Transaction {
    public:
        explicit Transaction(SchedStore& store);
        ~Transaction();
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        void commit();

    private:
        SchedStore& m_store;
        bool m_done = false;
    };

    // jobs
    void insert_job(const JobRow& j);
    void update_job(const JobRow& j);  // everything but id, seq, tenant, name, spec, created_ms
    std::optional<JobRow> job(const std::string& id);
    // Newest first; queued and running only when active_only.
    std::vector<JobRow> jobs(const std::optional<std::string>& tenant,
                             const std::optional<JobState>& state, std::size_t limit);
    std::vector<JobRow> active_jobs();  // queued and running, in arrival order
    std::uint64_t max_seq();

    // attempts
    void insert_attempt(const AttemptRow& a);
    void end_attempt(const AttemptRow& a);  // state, ended_ms, exit, wall, reason, energy
    std::optional<AttemptRow> attempt(const AttemptKey& k);
    std::vector<AttemptRow> running_attempts();
    // Attempts that ended at or after since_ms, with their energy (the
    // operator's overview; a scan of the table, asked every half minute).
    std::vector<AttemptEnergy> ended_attempts(std::int64_t since_ms);
    // Every attempt of tasks [from, to), by task then attempt.
    std::vector<AttemptRow> attempts(const std::string& job, std::uint64_t from, std::uint64_t to);
    std::optional<AttemptRow> last_attempt(const std::string& job, std::uint64_t task);

    // commits: exactly once. False when the task was already committed.
    bool commit_task(const AttemptKey& k, std::int64_t now_ms);
    bool is_committed(const std::string& job, std::uint64_t task);
    std::vector<std::uint64_t> committed(const std::string& job, std::uint64_t from,
                                         std::uint64_t to);

    // tasks off the cursor's path
    void put_task(const TaskRow& t);
    void delete_task(const std::string& job, std::uint64_t task);
    std::optional<TaskRow> task(const std::string& job, std::uint64_t task);
    std::vector<TaskRow> task_rows(const std::string& job, std::uint64_t from, std::uint64_t to);

    // logs (inline: one row per attempt that wrote anything) and outputs
    void put_log(const AttemptKey& k, const std::string& text);
    std::optional<std::string> log(const AttemptKey& k);
    void insert_output(const std::string& job, std::uint32_t attempt, const OutputInfo& o);
    std::vector<OutputInfo> outputs(const std::string& job);
    // The task that committed an output named path, if any.
    std::optional<std::uint64_t> output_owner(const std::string& job, const std::string& path);

    // tenants' usage and sites' leases
    void put_usage(const UsageRow& u);
    std::vector<UsageRow> usage();
    void put_site(const SiteRow& s);
    std::vector<SiteRow> sites();

    const std::string& path() const;
    // Group commit (core/group_sync): COMMIT stops syncing the WAL
    // (synchronous=NORMAL); the caller syncs it before it answers.
    void defer_sync();

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace hearth
