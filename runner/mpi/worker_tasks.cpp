#include "runner/mpi/worker_tasks.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

#include "core/error.hpp"
#include "core/task_env.hpp"
#include "runner/mpi/scratch.hpp"

namespace hearth {

Child spawn_attempt(const Running& r, const JobEntry& job, const SlotCores& cores,
                    bool node_has_gpus) {
    // The task inherits the spawning thread's binding at creation. The
    // worker stays bound to the last slot it spawned for: it mostly
    // sleeps, and unbinding would cost a system call per task.
    std::string cpu_list = cores.cpu_lists[r.slot];
    if (r.slots.size() == 1) {
        cores.topo.bind_slot(r.slot);
    } else {
        // Several slots (cores): bound to all of them, and its mpirun's
        // cpu list names them all.
        std::vector<unsigned> held;
        for (unsigned s : r.slots)
            held.insert(held.end(), cores.plan[s].begin(), cores.plan[s].end());
        std::sort(held.begin(), held.end());
        held.erase(std::unique(held.begin(), held.end()), held.end());
        cores.topo.bind_thread(held);
        cpu_list = cpu_list_text(held);
    }
    TaskAttemptVars vars{job.cfg.job,
                         r.a.task,
                         r.a.attempt,
                         job.cfg.tenant,
                         r.a.first,
                         r.a.last,
                         job.cfg.cores_per_task,
                         cpu_list,
                         r.dir,
                         {}};
    if (node_has_gpus) vars.gpus = r.gpus;
    return spawn_task(SpawnRequest{r.a.argv, r.dir, r.log, task_environment(job.env, vars),
                                   job.cfg.mem_per_task, &job.tenancy.confine});
}

Completion attempt_completion(const Assignment& a, AttemptStatus status, std::string reason) {
    Completion c;
    c.job = a.job;
    c.task = a.task;
    c.attempt = a.attempt;
    c.status = status;
    c.reason = std::move(reason);
    return c;
}

Completion ended_attempt(const Running& r, const ExitInfo& e, JobEntry& job, bool killed) {
    Completion c;
    c.job = r.a.job;
    c.task = r.a.task;
    c.attempt = r.a.attempt;
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Running::Clock::now() - r.start);
    c.wall_ms = static_cast<std::uint64_t>(ms.count());
    c.exit_code = e.code;
    c.overridden = r.overridden;
    if (killed || r.cancelled) {
        c.status = AttemptStatus::cancelled;
        c.reason = "cancelled";
    } else if (r.handed_back) {
        c.status = AttemptStatus::cancelled;
        c.reason = "handed back: the site passed its maximum temperature";
    } else if (r.timed_out) {
        c.status = AttemptStatus::timed_out;
        c.reason = "timed out after " + std::to_string(job.cfg.timeout_ms) + " ms (--timeout)";
    } else if (e.signalled) {
        c.status = AttemptStatus::signalled;
        c.reason = std::string("killed by signal ") + ::strsignal(e.code);
    } else if (e.code != 0) {
        c.status = AttemptStatus::exited;
        c.reason = "exited with status " + std::to_string(e.code);
    } else if (!job.cfg.collect.empty()) {
        try {
            c.outputs = job.scratch->collect(r.dir, job.cfg.collect);
        } catch (const Error& err) {
            c.status = AttemptStatus::collect_failed;
            c.reason = err.what();
        } catch (const std::exception& err) {
            c.status = AttemptStatus::collect_failed;
            c.reason = std::string("collecting outputs failed: ") + err.what();
        }
    }
    c.log = read_capped(r.log, k_log_cap);
    return c;
}

}  // namespace hearth
