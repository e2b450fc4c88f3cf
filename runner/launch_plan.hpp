#pragma once
// Where each MPI rank goes. Rank 0 (the dispatcher) runs on the submit host;
// then one worker rank per node (or workers_per_host of them), in the order
// the nodes were given. We write the hostfile mpirun reads, so the mapping is
// ours, not a guess about Open MPI's defaults.
#include <string>
#include <vector>

#include "core/jobspec.hpp"
#include "job_dir.hpp"

namespace hearth {

struct RankNode {
    int rank = 0;
    std::string host;  // as mpirun sees it
    std::string node;  // Hearth's name for the worker (host, or host#k)
    std::uint32_t slots = 0;
};

struct LaunchPlan {
    std::vector<RankNode> workers;
    std::vector<std::pair<std::string, unsigned>> hostfile;  // host, mpirun slots
    int np() const { return static_cast<int>(workers.size()) + 1; }
};

bool is_local_host(const std::string& host);
LaunchPlan plan_launch(const JobSpec& spec);
void write_launch_files(const JobDir& dir, const LaunchPlan& plan);
std::vector<std::string> mpirun_argv(const JobDir& dir, const LaunchPlan& plan,
                                     const std::string& exe);
std::uint64_t total_tasks(const JobSpec& spec, const JobDir& dir);

}  // namespace hearth
