#include "runner/mpi/worker_jobs.hpp"

#include "core/error.hpp"
#include "core/fsroot.hpp"
#include "core/gpu_table.hpp"
#include "core/safe_path.hpp"
#include "core/task_env.hpp"
#include "core/task_memory.hpp"

namespace hearth {

void JobTable::configure(std::string base, std::vector<std::string> environ, std::string node,
                         unsigned gpus) {
    m_gpus = gpus;
    m_base = std::move(base);
    m_environ = std::move(environ);
    m_node = std::move(node);
}

void JobTable::add(JobConfig cfg) {
    auto it = m_jobs.find(cfg.job);
    if (it != m_jobs.end()) {
        // Sent again (a dispatcher that lost track): keep the files written.
        it->second.forget = false;
        cfg.staged.clear();
        it->second.env = job_environment(m_environ, cfg.env, cfg.cores_per_task);
        it->second.cfg = std::move(cfg);
        return;
    }
    // Job ids become directory names: refuse one that would leave the base.
    if (!is_clean_relative_path(cfg.job) || cfg.job.find('/') != std::string::npos)
        throw Error("refusing job id '" + cfg.job + "': not a plain name");
    JobEntry e;
    e.scratch = std::make_unique<ScratchArea>(m_base + "/" + cfg.job);
    e.tenancy = job_tenancy(cfg, *e.scratch, m_tenancy_noted, m_node);
    e.scratch->set_staged(cfg.staged);
    cfg.staged.clear();
    e.env = job_environment(m_environ, cfg.env, cfg.cores_per_task);
    if (cfg.mem_per_task) {
        // Placement by memory: only as many of the job's tasks at once as
        // fit in what is free now; none fitting, its tasks fail here and
        // are retried on other nodes.
        if (auto avail = read_mem_available(FsRoot{})) {
            e.mem_cap = tasks_fitting(*avail, cfg.mem_per_task);
            if (e.mem_cap == 0)
                e.mem_why = "node " + m_node + " has " +
                            format_byte_size(*avail / (1 << 20) << 20) +
                            " free, less than --mem-per-task " + format_byte_size(cfg.mem_per_task);
        }
    }
    // Placement by GPUs: a node with fewer than a task needs runs none (the
    // worker asks for none of them: NodeTasks::capacity).
    e.gpu_why = gpu_shortfall(m_node, m_gpus, cfg.gpus_per_task);
    e.cfg = std::move(cfg);
    std::string id = e.cfg.job;
    m_jobs.emplace(std::move(id), std::move(e));
}

const JobEntry* JobTable::find(const std::string& job) const {
    auto it = m_jobs.find(job);
    return it == m_jobs.end() ? nullptr : &it->second;
}

JobEntry& JobTable::of(const Assignment& a) {
    auto it = m_jobs.find(a.job);
    if (it == m_jobs.end())
        throw Error("task " + std::to_string(a.task) + " of job '" + a.job +
                    "' came before the job's settings");
    return it->second;
}

void JobTable::settle(const std::string& job) {
    auto it = m_jobs.find(job);
    if (it == m_jobs.end()) return;
    if (it->second.active > 0) --it->second.active;
    if (it->second.forget && it->second.active == 0) m_jobs.erase(it);
}

void JobTable::unqueue(const Assignment& a, const std::string& dir) {
    if (!dir.empty()) of(a).scratch->release(dir);
    settle(a.job);
}

void JobTable::forget(const std::string& job) {
    auto it = m_jobs.find(job);
    if (it == m_jobs.end()) return;
    it->second.forget = true;
    if (it->second.active == 0) m_jobs.erase(it);
}

}  // namespace hearth
