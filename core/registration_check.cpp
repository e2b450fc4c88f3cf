#include "core/registration_check.hpp"

#include <sstream>

#include "core/error.hpp"
#include "core/proc_stat.hpp"

namespace hearth {

bool descends_from(const FsRoot& fs, pid_t pid, pid_t ancestor) {
    if (ancestor <= 0) return false;
    // pid_max is at most 2^22, but no real chain is deeper than a few hundred.
    for (int depth = 0; depth < 1024 && pid > 1; ++depth) {
        auto st = read_pid_stat(fs, pid);
        if (!st) return false;
        if (st->ppid == ancestor) return true;
        pid = st->ppid;
    }
    return false;
}

std::optional<std::string> cgroup_of(const FsRoot& fs, pid_t pid) {
    if (pid <= 0) return std::nullopt;
    auto r = fs.read("/proc/" + std::to_string(pid) + "/cgroup");
    if (!r.text) return std::nullopt;
    std::istringstream in(*r.text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("0::", 0) == 0) return line.substr(3);
    return std::nullopt;
}

bool in_cgroup_below(const FsRoot& fs, pid_t pid, pid_t peer) {
    auto mine = cgroup_of(fs, peer);
    auto theirs = cgroup_of(fs, pid);
    // Below the root cgroup is every process of the machine.
    if (!mine || !theirs || *mine == "/" || mine->empty()) return false;
    return theirs->size() > mine->size() + 1 && theirs->rfind(*mine + "/", 0) == 0;
}

std::uint64_t check_registration(const FsRoot& fs, const RegistrationPolicy& policy,
                                 const PeerCred& peer, pid_t pid, unsigned cores) {
    if (peer.uid != 0 && peer.uid != policy.worker_uid)
        throw usage_error("uid " + std::to_string(peer.uid) +
                          " may not register tasks here: only the workers' user (uid " +
                          std::to_string(policy.worker_uid) + ", --worker-user) or root may");
    if (pid <= 0) return 0;
    if (policy.max_cores && cores > policy.max_cores)
        throw usage_error("a task of " + std::to_string(cores) + " cores on a node of " +
                          std::to_string(policy.max_cores) + ": register at most the node's cores");
    // The start time read before and after the ancestry ties the answer to
    // this very process, not to a later one that reused the pid; it is kept
    // with the registration, so a reuse afterwards drops the task.
    const auto before = read_pid_stat(fs, pid);
    if (!before || !before->start_ticks || *before->start_ticks == 0)
        throw usage_error("pid " + std::to_string(pid) + " is not running; register a live task");
    // A task is the worker's child (or its child's child): any other process
    // billed to a tenant would let a worker's user, or a task running as it,
    // charge anything to anyone.
    const bool ours = descends_from(fs, pid, peer.pid) || in_cgroup_below(fs, pid, peer.pid);
    const auto after = read_pid_stat(fs, pid);
    if (!after || after->start_ticks != before->start_ticks)
        throw usage_error("pid " + std::to_string(pid) + " is not running; register a live task");
    if (!ours)
        throw usage_error("pid " + std::to_string(pid) +
                          " is not a process of the registering pid " + std::to_string(peer.pid) +
                          " (neither its descendant nor in a cgroup below its own); register "
                          "only the tasks you started");
    return *before->start_ticks;
}

void check_gpus(const RegistrationPolicy& policy, const std::vector<unsigned>& gpus) {
    for (unsigned g : gpus) {
        if (policy.gpus == 0)
            throw usage_error("GPU " + std::to_string(g) +
                              ": this node's agent reads no GPU energy (NVML unavailable, see "
                              "grid-agent --probe); register the task without 'gpus'");
        if (g >= policy.gpus)
            throw usage_error("GPU " + std::to_string(g) + " on a node with " +
                              std::to_string(policy.gpus) + " GPU" + (policy.gpus == 1 ? "" : "s") +
                              " (0 to " + std::to_string(policy.gpus - 1) +
                              "); register the GPUs the task was given");
    }
}

}  // namespace hearth
