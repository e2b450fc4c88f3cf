#pragma once
// Where each MPI rank goes. Rank 0 (the dispatcher) runs on the submit host;
// then one worker rank per node (or workers_per_host of them), in the order
// the nodes were given. We write the hostfile mpirun reads, so the mapping is
// ours, not a guess about Open MPI's defaults.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/jobspec.hpp"
#include "runner/job/job_dir.hpp"

namespace hearth {

struct RankNode {
    int rank = 0;
    std::string host;  // as mpirun sees it
    std::string node;  // Hearth's name for the worker (host, or host#k)
    std::uint32_t slots = 0;
    std::optional<std::uint32_t> gpus;  // the grid file's; unset: the node's agent says
};

struct LaunchPlan {
    std::vector<RankNode> workers;
    std::vector<std::pair<std::string, unsigned>> hostfile;  // host, mpirun slots
    // Inside a Slurm allocation: the dispatcher (mostly idle) shares a slot
    // with a worker, so mpirun may place more ranks than Slurm gave tasks.
    bool oversubscribe = false;
    int np() const { return static_cast<int>(workers.size()) + 1; }
};

bool is_local_host(const std::string& host);
// Hosts in `down` are left out: the supervisor found them dead. For a Slurm
// job (spec.slurm) whose nodes do not include this host (salloc on a login
// node), the dispatcher runs on the first node: mpirun places ranks only on
// the allocation's nodes.
LaunchPlan plan_launch(const JobSpec& spec, const std::set<std::string>& down = {});
// The plan's hosts other than this one, each once, in rank order.
std::vector<std::string> remote_hosts(const LaunchPlan& plan);
void write_launch_files(const JobDir& dir, const LaunchPlan& plan);
// mpirun's command line for `hearth worker DIR` (hearth run) ...
std::vector<std::string> mpirun_argv(const JobDir& dir, const LaunchPlan& plan,
                                     const std::string& exe);
// ... or for any program (hearth site: `hearth site-rank STATE RUN`).
std::vector<std::string> mpirun_argv(const JobDir& dir, const LaunchPlan& plan,
                                     const std::vector<std::string>& program);
std::uint64_t total_tasks(const JobSpec& spec, const JobDir& dir);

// Asks each host to run `true` the way mpirun starts its daemons there (its
// launch agent: OMPI_MCA_plm_rsh_agent, or ssh), all at once, each within
// `limit`. Returns the hosts that did not answer, with why (the agent's own
// words, e.g. "ssh: connect to host n3 port 22: No route to host"), or
// nothing when mpirun does not use such an agent (inside a Slurm allocation).
std::optional<std::map<std::string, std::string>> probe_hosts(const std::vector<std::string>& hosts,
                                                              std::chrono::milliseconds limit);

// The hosts whose daemon mpirun reports lost ("ORTE has lost communication
// with a remote daemon ... on node HOST") in its output.
std::set<std::string> hosts_mpirun_lost(const std::string& output);

}  // namespace hearth
