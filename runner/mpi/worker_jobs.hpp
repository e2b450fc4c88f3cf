#pragma once
// The jobs a worker runs tasks of: each one's settings, environment, tenancy
// and scratch area (its staged inputs written once on this node), and how
// many of its attempts are here. Every job shares the node's slots, cores
// and heat budget (core/node_slots).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/protocol.hpp"
#include "runner/mpi/scratch.hpp"
#include "runner/mpi/task_tenancy.hpp"

namespace hearth {

struct JobEntry {
    JobConfig cfg;
    std::vector<std::string> env;  // every task's environment but its own variables (core/task_env)
    std::unique_ptr<ScratchArea> scratch;
    JobTenancy tenancy;       // its tenant's user on this node (task_tenancy)
    std::size_t active = 0;   // its attempts queued or running here
    std::size_t running = 0;  // its attempts running here
    // --mem-per-task: its tasks that fit in the memory this node had free
    // when the job came (UINT32_MAX: no limit), and why none does.
    std::uint32_t mem_cap = UINT32_MAX;
    std::string mem_why;
    // --gpus-per-task: why none of its tasks can run here (the node has
    // fewer GPUs), "" when they can.
    std::string gpu_why;
    bool forget = false;  // the dispatcher is done with it: drop when idle
};

class JobTable {
public:
    // base: the worker's scratch root (one directory per job under it);
    // environ: the worker's environment; node: its name, for messages;
    // gpus: the GPUs it hands to tasks.
    void configure(std::string base, std::vector<std::string> environ, std::string node,
                   unsigned gpus);
    // A job's settings (Tag::job), new or sent again. Throws Error for a job
    // id that is not a plain name.
    void add(JobConfig cfg);
    const JobEntry* find(const std::string& job) const;
    const std::map<std::string, JobEntry>& entries() const { return m_jobs; }
    // The job of attempt a; throws Error when its settings never came.
    JobEntry& of(const Assignment& a);
    // An attempt of job left the queue or ended: drops a forgotten idle job.
    void settle(const std::string& job);
    // Attempt a leaves the queue without running: its scratch directory
    // (dir, when made ahead) goes back to its job, which is then settled.
    void unqueue(const Assignment& a, const std::string& dir);
    // The dispatcher is done with job: dropped now if idle, else when idle.
    void forget(const std::string& job);
    void clear() { m_jobs.clear(); }  // each scratch area removes its directory

private:
    std::string m_base;
    std::vector<std::string> m_environ;
    std::string m_node;
    unsigned m_gpus = 0;
    bool m_tenancy_noted = false;
    std::map<std::string, JobEntry> m_jobs;
};

}  // namespace hearth
