#pragma once
// The scheduler's state and service, shared by its three files (private to
// core/: include only from them):
//   core/scheduler.cpp       memory and database, roles, the clients' changes
//   core/sched_dispatch.cpp  sites: results, leases, the policy, grants
//   core/sched_reads.cpp     the clients' reads: tasks, logs, outputs
// SQLite (core/sched_store) is the durable log; memory holds what the
// dispatch path needs without a scan of the database: the jobs that can
// still run (their lazy task queues, core/sched_job), the attempts out at
// sites, the sites' leases and the tenants' usage. Every mutating call is
// one transaction; if it fails, the memory is rebuilt from the database, so
// the two never disagree.
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/content_store.hpp"
#include "core/group_sync.hpp"
#include "core/heat_wait.hpp"
#include "core/sched_job.hpp"
#include "core/sched_store.hpp"
#include "core/scheduler.hpp"

namespace hearth {

// "To the end" for task ranges: SQLite integers stop at 2^63 - 1.
inline constexpr std::uint64_t k_no_end = std::numeric_limits<std::int64_t>::max();

struct Scheduler::Impl {
    // An attempt out at a site.
    struct Running {
        std::string site, run, node, tenant;
        std::int64_t started_ms = 0;
        std::uint32_t failures = 0;  // of its task before it, against the job's retries
    };
    struct SiteState {
        std::string run;
        std::int64_t lease_expires_ms = 0;
        std::set<AttemptKey> running;
        std::set<std::string> sent;  // jobs whose JobRuntime this run of the site has
        std::vector<NodeRoom> rooms;    // its nodes' room after the last grant (core/heat_wait)
        std::int64_t last_ms = 0;       // its last request (this process's life; 0: none yet)
        std::vector<std::string> down;  // nodes its last request reported down
        std::vector<NodeReport> reported;  // its nodes as its last request gave them
    };
    struct Usage {
        double slot_s = 0;
        std::int64_t updated_ms = 0;
    };

    Impl(const std::string& dir, Grid g, const Clock& c, PolicyFn p, SchedulerSettings s);

    Grid grid;
    const Clock& clock;
    PolicyFn policy;
    SchedulerSettings settings;
    ContentStore blobs;
    SchedStore store;
    std::unique_ptr<GroupSync> group;                       // with settings.group_commit
    std::map<std::string, std::unique_ptr<SchedJob>> jobs;  // active, or with attempts out
    std::map<AttemptKey, Running> running;
    std::map<std::string, SiteState> sites;
    std::map<std::string, Usage> usage;
    std::uint64_t last_seq = 0;
    std::set<std::string> dirty_jobs, dirty_tenants, dirty_sites;

    // ---- core/scheduler.cpp: memory and database, roles, clients' changes

    std::unique_ptr<SchedJob> build(const JobRow& row);
    // The job in the cache, loaded from the database when absent (it stays
    // until evict()). Null when no such job exists.
    SchedJob* load_job(const std::string& id, bool with_tasks = true);
    // The tasks off the cursor's path that wait again (a task marked running
    // whose attempt is no longer out waits too).
    void restore_tasks(SchedJob& j);
    void load();
    void flush();
    // Final jobs with nothing out leave memory: the database answers for them.
    void evict();
    // Runs f in one transaction. On any failure the transaction is rolled
    // back and memory rebuilt from the database, so a refused or failed call
    // changes nothing.
    template <class F>
    auto in_transaction(F&& f) {
        try {
            SchedStore::Transaction t(store);
            auto result = f();
            flush();
            t.commit();
            if (group) group->committed();
            evict();
            return result;
        } catch (...) {
            try {
                load();
            } catch (...) {
                // The original error says more; the next call reloads again.
            }
            throw;
        }
    }

    static void check_reader(const Role& who);
    static bool may_see(const Role& who, const std::string& tenant);
    // The job's row if the caller may see it; otherwise 404, as if absent.
    JobRow visible(const Role& who, const std::string& id);
    JobInfo info(const JobRow& row);
    JobInfo submit(const Role& who, const JobSubmit& given);
    std::vector<JobInfo> list(const Role& who, const JobFilter& f);
    JobInfo cancel(const Role& who, const std::string& id);
    JobInfo resume(const Role& who, const std::string& id);

    // ---- core/sched_dispatch.cpp: sites

    void charge(const std::string& tenant, double slot_s, std::int64_t now);
    void requeue(SchedJob& j, std::uint64_t task, Requeued r);
    // The task of an attempt that ended without committing it: it waits
    // again, or fails for good once failures exceed the job's retries. A
    // task committed meanwhile by another attempt needs nothing.
    void release(SchedJob& j, const AttemptKey& k, std::uint32_t failures);
    void record_commit(SchedJob& j, const AttemptResult& r);
    void add_energy(SchedJob& j, const AttemptResult& r);
    // A job whose every task is committed or failed for good is over.
    void settle(SchedJob& j, std::int64_t now);
    // Takes an attempt out of the running set; the job stays cached.
    std::pair<Running, SchedJob*> take_running(std::map<AttemptKey, Running>::iterator it);
    // Lost with its node, or its site's lease lapsed: not a failure.
    void drop_attempt(std::map<AttemptKey, Running>::iterator it, AttemptState why,
                      const std::string& reason, std::int64_t now);
    // An output the site says it uploaded must be in the content store
    // before the task commits: otherwise the user could never fetch it.
    std::string missing_output(const AttemptResult& r) const;
    // "" when no other task of the job committed an output of the same name.
    std::string output_clash(const AttemptResult& r);
    void on_result(const std::string& site, const AttemptResult& r, std::int64_t now);
    // A result of an attempt no longer out: a duplicate of one recorded
    // already (ignored), or the late result of an attempt that was lost or
    // lapsed, whose success still commits the task if no other did.
    void on_late_result(const AttemptResult& r, std::int64_t now);
    void grant(const std::string& site, const WorkRequest& r, WorkReply& reply, std::int64_t now);
    // Attempts the site should stop: those of jobs that are over (cancelled,
    // or finished while a duplicate ran), and held ones whose task is
    // committed or whose job is gone.
    std::vector<AttemptKey> cancels(const std::string& site, const WorkRequest& r);
    WorkReply work(const std::string& site, const WorkRequest& r);
    // Queued work waits for heat (core/heat_wait) on the room the sites
    // whose lease is live last reported. An urgent job's tasks never do: the
    // policy opens slots past the budgets for them.
    bool held_for_heat(std::int64_t now) const;
    std::uint64_t waiting_for_heat(const SchedJob& j, std::int64_t now) const;
    // Why the job's queued tasks start nowhere: no node up at a site whose
    // lease is live can hold one (cores, memory). "" when one can.
    std::string fits_nowhere(const SchedJob& j, std::int64_t now) const;
    void tick();

    // ---- core/sched_reads.cpp: clients' reads

    // A temporary view of a job for reads: the cached one, or one built from
    // the database that is not kept.
    struct JobView {
        SchedJob* job = nullptr;
        std::unique_ptr<SchedJob> owned;
    };
    JobView view(const JobRow& row);
    std::vector<TaskInfo> task_list(const Role& who, const std::string& id, std::uint64_t from,
                                    std::size_t limit);
    std::string task_log(const Role& who, const std::string& id, std::uint64_t task,
                         std::optional<std::uint32_t> attempt);
    std::vector<OutputInfo> outputs(const Role& who, const std::string& id);
    GridOverview overview(const Role& who);
};

}  // namespace hearth
