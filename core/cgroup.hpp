#pragma once
// One cgroup per running task attempt (a worker gives an emptied one to a
// later task: runner/mpi/task_process), so that a timeout, a cancel and the
// end of a task reach every process it started, including those that left
// its process group with setsid(), and its CPU time is the cgroup's. cgroup v2
// (cgroup.kill, cpu.stat), or v1's cpuacct hierarchy (cgroup.procs,
// cpuacct.usage) where no v2 hierarchy is mounted. Every file goes through
// the FsRoot seam (its path() for writes), so tests use a fake tree.
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "core/fsroot.hpp"

namespace hearth {

// Where this process's task cgroups go: a directory of its own below its
// own cgroup ("<mount><own cgroup>/hearth-w<pid>"), removed with it.
class CgroupTree {
public:
    // nullptr and *why (one line) when no cgroup can be made here.
    static std::unique_ptr<CgroupTree> open(std::shared_ptr<const FsRoot> fs, pid_t self,
                                            std::string* why);
    ~CgroupTree();
    CgroupTree(const CgroupTree&) = delete;
    CgroupTree& operator=(const CgroupTree&) = delete;

    bool v2() const { return m_v2; }
    const std::string& dir() const { return m_dir; }  // absolute, under the FsRoot
    const FsRoot& fs() const { return *m_fs; }

private:
    CgroupTree(std::shared_ptr<const FsRoot> fs, std::string dir, bool v2)
        : m_fs(std::move(fs)), m_dir(std::move(dir)), m_v2(v2) {}
    std::shared_ptr<const FsRoot> m_fs;
    std::string m_dir;
    bool m_v2;
};

// One task's cgroup.
class TaskCgroup {
public:
    // name: one path component ("t-4242"). Error when it cannot be made.
    TaskCgroup(const CgroupTree& tree, const std::string& name);
    ~TaskCgroup();  // kills what is left and removes it
    TaskCgroup(const TaskCgroup&) = delete;
    TaskCgroup& operator=(const TaskCgroup&) = delete;

    // cgroup.procs opened for writing (the child joins by writing "0"); the
    // caller closes it. -1 on failure.
    int open_procs() const;
    // The cgroup's directory, open for as long as it lives (v2: clone3's
    // CLONE_INTO_CGROUP starts a child in it). -1 when it could not be opened.
    int dir_fd() const { return m_dir_fd; }
    // True only when no process is in it, as rmdir sees it (v2
    // cgroup.events "populated 0"; v1: cgroup.procs lists none). False when
    // that cannot be read.
    bool known_empty() const;
    // SIGKILL to every process in it: cgroup.kill on v2, else each pid of
    // cgroup.procs (again until none is left, as a fork can race a kill).
    void kill() const;
    // The pids in it now.
    std::vector<pid_t> pids() const;
    // CPU seconds its processes used, dead ones included (v2 cpu.stat
    // usage_usec, v1 cpuacct.usage); nullopt when unreadable.
    std::optional<double> cpu_seconds() const;
    const std::string& dir() const { return m_dir; }

private:
    const CgroupTree& m_tree;
    std::string m_dir;
    int m_dir_fd = -1;
};

// For a worker's SIGTERM handler: async-signal-safe (system calls only, no
// allocation). SIGKILL to every process of every task cgroup ("t...")
// below tree_dir (a path on the real filesystem, as CgroupTree::dir()
// after FsRoot::path), by cgroup.kill on v2, else by freezing the cgroup
// (v2 cgroup.freeze, where there is one) and killing each pid it lists
// until none is left; then the task cgroups and tree_dir are removed.
// Returns the number of task cgroups that could not be removed.
int kill_cgroup_tree_signal_safe(const char* tree_dir, bool v2);
// One cgroup, the same way (the directory of a task's cgroup).
void kill_cgroup_signal_safe(int dirfd, bool v2);

// A task's own cgroup as the agent finds it: the directory (under the
// FsRoot) of pid's cgroup, from the kernel's /proc/PID/cgroup (never from
// what a registration claims), when that is a task cgroup a worker made
// (".../hearth-wN/tM"). nullopt and *why (one line) otherwise: no
// hierarchy, the process gone, or a cgroup shared with other processes.
struct CgroupDir {
    std::string dir;
    bool v2 = true;
};
std::optional<CgroupDir> task_cgroup_of(const FsRoot& fs, pid_t pid, std::string* why);
// CPU seconds every process of the cgroup used, dead ones included (v2
// cpu.stat usage_usec, v1 cpuacct.usage); nullopt when unreadable.
std::optional<double> cgroup_cpu_seconds(const FsRoot& fs, const CgroupDir& cg);
// True when path's last two components are a worker's tree and one of its
// task cgroups ("hearth-w123/t4"). Pure.
bool is_task_cgroup_path(const std::string& path);

// Parsers, pure: the mount point of the cgroup2 (or, with v1, the cpuacct)
// hierarchy from /proc/self/mounts text; this process's path in it from
// /proc/self/cgroup text; usage_usec from cpu.stat text.
struct CgroupMount {
    std::string path;
    bool v2 = true;
};
std::optional<CgroupMount> find_cgroup_mount(const std::string& mounts);
std::optional<std::string> own_cgroup_path(const std::string& proc_cgroup, bool v2);
std::optional<std::uint64_t> parse_usage_usec(const std::string& cpu_stat);

}  // namespace hearth
