#pragma once
// Who may register which process with the node's grid-agent, and with how
// many cores: the checks the agent makes on every registration it is sent
// over its socket (grid-agent(8) REGISTRATION). A registration decides which
// tenant is billed for a process's energy, so a process that is not the
// worker's own task, or a core count the node does not have, is refused.
// Reads /proc through the FsRoot seam; pure otherwise.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/fsroot.hpp"

namespace hearth {

// A socket peer's credentials, as SO_PEERCRED gives them.
struct PeerCred {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

struct RegistrationPolicy {
    uid_t worker_uid = 0;    // the workers' user; root is also let in
    unsigned max_cores = 0;  // the node's cores; 0: not checked
    unsigned gpus = 0;       // GPUs whose energy the agent reads (NVML); 0: none
};

// True when pid's chain of parents (/proc/PID/stat, field 4) reaches
// ancestor. A chain longer than any real one counts as no.
bool descends_from(const FsRoot& fs, pid_t pid, pid_t ancestor);

// The cgroup v2 path of pid ("/system.slice/x.service"), from the "0::" line
// of /proc/PID/cgroup; nullopt when it has none (v1 only, or gone).
std::optional<std::string> cgroup_of(const FsRoot& fs, pid_t pid);

// True when pid sits in a cgroup below the peer's own one (the cgroups a
// worker makes for its tasks are there), and that one is not the root.
bool in_cgroup_below(const FsRoot& fs, pid_t pid, pid_t peer);

// Refuses (usage_error, one line naming the fix) a registration of pid with
// cores from a peer other than the workers' user or root, of a pid that
// neither descends from the peer nor sits in a cgroup below the peer's, and
// of more cores than the policy's. Returns the process's start time, which
// ties the registration to this very process, not a later one that reuses
// the pid. pid 0 (unregister): only the peer is checked; returns 0.
std::uint64_t check_registration(const FsRoot& fs, const RegistrationPolicy& policy,
                                 const PeerCred& peer, pid_t pid, unsigned cores);

// Refuses (usage_error naming the fix) GPUs the node's agent does not read:
// an index past the node's GPUs, or any GPU where no GPU energy is read.
void check_gpus(const RegistrationPolicy& policy, const std::vector<unsigned>& gpus);

}  // namespace hearth
