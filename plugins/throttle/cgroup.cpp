// Throttles tasks with a CPU bandwidth quota on a child cgroup: the kernel
// enforces it at every scheduler period, so it needs no ticking. A task with
// a cgroup of its own (core/cgroup) is throttled as a whole, setsid() or
// not: in another hierarchy than the quota's (v1 cpu beside a v2 task tree)
// every process its cgroup lists joins the child; in the same hierarchy its
// processes stay where the worker put them (a cancel kills them there) and
// the task's cgroup gets its share of the quota itself.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/proc_stat.hpp"
#include "core/text.hpp"
#include "plugins/throttle/actuator.hpp"
#include "plugins/throttle/files.hpp"

namespace hearth {
namespace {

using throttle::exists;
using throttle::read_text;
using throttle::write_text;

constexpr long long k_period_us = 100000;
// The kernel rejects quotas under 1 ms; 1% of one CPU per 100 ms period is that.
constexpr double k_min_fraction = 0.01;
constexpr long long k_min_quota_us = 1000;

const std::string k_fix_access = "run grid-agent as root or delegate a cgroup to its user";

bool has_word(const std::string& text, const std::string& word) {
    std::istringstream in(text);
    std::string w;
    while (in >> w)
        if (w == word) return true;
    return false;
}

// pgid -> its processes, from field 5 of /proc/PID/stat (after the command
// name, which may itself hold spaces and parentheses).
std::map<pid_t, std::vector<pid_t>> processes_by_group(const std::string& proc,
                                                       const std::set<pid_t>& groups) {
    std::map<pid_t, std::vector<pid_t>> out;
    DIR* d = ::opendir(proc.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.empty() ||
            !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }))
            continue;
        auto stat = read_text(proc + "/" + name + "/stat");
        if (!stat) continue;  // exited while we looked
        auto st = parse_pid_stat(*stat);
        if (st && groups.count(st->pgrp))
            out[st->pgrp].push_back(static_cast<pid_t>(std::stoll(name)));
    }
    ::closedir(d);
    return out;
}

class CgroupActuator final : public Actuator {
public:
    CgroupActuator(const std::string& fsroot, unsigned cpus, const std::string& child)
        : m_fsroot(fsroot), m_cpus(std::max(cpus, 1u)) {
        if (child.empty() || child == "." || child == ".." || child.find('/') != std::string::npos)
            throw usage_error("throttle/cgroup: child cgroup name '" + child +
                              "' is not a single directory name; use a name like 'hearth'");
        detect(child);
    }

    ~CgroupActuator() override {
        if (!m_created) return;
        try {
            release();
        } catch (...) {
        }
        // Succeeds only once the tasks have gone; a busy cgroup stays for the next agent.
        ::rmdir(m_child.c_str());
    }

    std::string name() const override { return "throttle/cgroup"; }
    std::optional<std::string> unavailable() const override { return m_unavailable; }

    void apply(double fraction, const std::vector<ThrottleTask>& tasks) override {
        if (m_unavailable) throw Error("throttle/cgroup: " + *m_unavailable);
        create();
        move(tasks);
        if (std::isnan(fraction)) fraction = 0;
        if (fraction >= 1) {
            lift();
            return;
        }
        long long quota = std::llround(std::max(fraction, k_min_fraction) * m_cpus * k_period_us);
        // Tasks quota'd in their own cgroups: each its share by count of the
        // whole, the child the rest.
        const auto n = static_cast<long long>(std::max<std::size_t>(tasks.size(), 1));
        const auto own = static_cast<long long>(m_own.size());
        for (const auto& dir : m_own) set_quota(dir, std::max(quota / n, k_min_quota_us));
        set_quota(m_child, std::max(quota * (n - own) / n, k_min_quota_us));
    }

    void release() override {
        if (m_created) lift();
    }

    std::string state() const override {
        const std::string v = "cgroup v" + std::to_string(m_version);
        if (m_unavailable) return "cgroup unavailable";
        const std::string none = v + " no quota (" + cpus_text() + ")";
        auto text = read_text(quota_file());
        if (!text) return none;
        long long quota = -1, period = k_period_us;
        if (m_version == 2) {
            std::istringstream in(*text);
            std::string q, p;
            in >> q >> p;
            if (q == "max") return none;
            quota = parse_i64(q).value_or(-1);
            period = parse_i64(p).value_or(k_period_us);
        } else {
            quota = parse_i64(*text).value_or(-1);
            if (auto p = read_text(m_child + "/cpu.cfs_period_us")) {
                period = parse_i64(*p).value_or(k_period_us);
            }
        }
        if (quota < 0 || period <= 0) return none;
        long long pct = std::llround(100.0 * static_cast<double>(quota) /
                                     (static_cast<double>(period) * m_cpus));
        return v + " quota " + std::to_string(pct) + "% of " + cpus_text();
    }

private:
    void detect(const std::string& child) {
        const std::string base = m_fsroot + "/sys/fs/cgroup";
        if (exists(base + "/cgroup.controllers")) {
            m_version = 2;
            m_parent = base;
            auto controllers = read_text(base + "/cgroup.controllers").value_or("");
            if (!has_word(controllers, "cpu")) {
                m_unavailable = "cgroup v2 at " + base +
                                " has no 'cpu' controller (cgroup.controllers: '" +
                                trimmed(controllers) +
                                "'); enable the cpu controller or use the sigstop actuator";
                return;
            }
        } else {
            m_version = 1;
            for (const char* dir : {"/cpu", "/cpu,cpuacct"}) {
                if (exists(base + dir + "/cpu.cfs_quota_us")) {
                    m_parent = base + dir;
                    break;
                }
            }
            if (m_parent.empty()) {
                m_unavailable = "no cgroup cpu controller under " + base +
                                " (v1 'cpu' or v2 'cpu.max'); mount it or use the sigstop "
                                "actuator";
                return;
            }
        }
        m_child = m_parent + "/" + child;
        // Root passes any access() check; what root still cannot do (a
        // read-only mount) shows up at the first apply.
        const bool have = exists(m_child);
        if (::access((have ? m_child : m_parent).c_str(), W_OK) != 0)
            m_unavailable = "cannot " + std::string(have ? "write to " : "create ") + m_child +
                            ": " + errno_text(errno) + "; " + k_fix_access;
    }

    std::string quota_file() const {
        return m_child + (m_version == 2 ? "/cpu.max" : "/cpu.cfs_quota_us");
    }

    std::string cpus_text() const {
        return std::to_string(m_cpus) + (m_cpus == 1 ? " CPU" : " CPUs");
    }

    [[noreturn]] void fail(const std::string& what, int e) {
        std::string msg = what + ": " + errno_text(e) + "; " + k_fix_access;
        if (e == EACCES || e == EPERM || e == EROFS) m_unavailable = msg;
        throw Error("throttle/cgroup: " + msg);
    }

    void set(const std::string& file, const std::string& value) {
        if (int e = write_text(file, value)) fail("cannot write '" + value + "' to " + file, e);
    }

    void create() {
        if (m_created) return;
        if (m_version == 2) {
            // The child gets cpu.max only when the parent hands the controller down.
            const std::string sub = m_parent + "/cgroup.subtree_control";
            if (!has_word(read_text(sub).value_or(""), "cpu")) set(sub, "+cpu");
        }
        if (::mkdir(m_child.c_str(), 0755) != 0) {
            int e = errno;
            struct stat st;
            if (e != EEXIST) fail("cannot create " + m_child, e);
            if (::stat(m_child.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                fail("cannot create " + m_child, ENOTDIR);
        }
        if (m_version == 1) set(m_child + "/cpu.cfs_period_us", std::to_string(k_period_us));
        m_created = true;
    }

    // In the quota's own hierarchy: the task's cgroup is below m_parent.
    bool same_hierarchy(const std::string& cgroup) const {
        return cgroup.rfind(m_parent + "/", 0) == 0;
    }

    void set_quota(const std::string& dir, long long quota) {
        const std::string file = dir + (m_version == 2 ? "/cpu.max" : "/cpu.cfs_quota_us");
        if (dir != m_child && !exists(file))
            throw Error("throttle/cgroup: the task cgroup " + dir + " has no " +
                        file.substr(dir.size() + 1) +
                        ": the cpu controller is not enabled for the worker's cgroups; enable it "
                        "(systemd: Delegate=cpu on the site's unit) or use the sigstop "
                        "actuator, which freezes task cgroups");
        if (m_version == 2)
            set(file, std::to_string(quota) + " " + std::to_string(k_period_us));
        else
            set(file, std::to_string(quota));
    }

    void move(const std::vector<ThrottleTask>& tasks) {
        std::set<pid_t> groups;
        std::set<pid_t> seen;
        const std::string procs = m_child + "/cgroup.procs";
        auto join = [&](pid_t pid) {
            seen.insert(pid);
            if (m_moved.count(pid)) return;
            int e = write_text(procs, std::to_string(pid) + "\n", true);
            if (e == ESRCH) return;  // exited since the scan
            if (e) fail("cannot move process " + std::to_string(pid) + " to " + procs, e);
            m_moved.insert(pid);
        };
        std::set<std::string> own;
        for (const auto& t : tasks) {
            if (t.cgroup.empty()) {
                if (t.pgid > 0) groups.insert(t.pgid);
            } else if (same_hierarchy(t.cgroup)) {
                own.insert(t.cgroup);
            } else {
                std::istringstream in(read_text(t.cgroup + "/cgroup.procs").value_or(""));
                for (long long pid; in >> pid;)
                    if (pid > 0) join(static_cast<pid_t>(pid));
            }
        }
        // Task cgroups no longer throttled lose their quota (those gone
        // cannot be written: nothing to undo).
        for (const auto& dir : m_own)
            if (!own.count(dir) && exists(dir)) lift_quota(dir);
        m_own = std::move(own);
        auto found = groups.empty() ? std::map<pid_t, std::vector<pid_t>>{}
                                    : processes_by_group(m_fsroot + "/proc", groups);
        for (const auto& [pgid, pids] : found)
            for (pid_t pid : pids) join(pid);
        // Forget processes of finished tasks, so a reused pid is moved again.
        std::erase_if(m_moved, [&](pid_t p) { return !seen.count(p); });
    }

    void lift_quota(const std::string& dir) {
        const std::string file = dir + (m_version == 2 ? "/cpu.max" : "/cpu.cfs_quota_us");
        if (dir != m_child && !exists(file)) return;
        if (m_version == 2)
            set(file, "max " + std::to_string(k_period_us));
        else
            set(file, "-1");
    }

    void lift() {
        for (const auto& dir : m_own)
            if (exists(dir)) lift_quota(dir);
        lift_quota(m_child);
    }

    std::string m_fsroot;
    unsigned m_cpus;
    int m_version = 0;
    std::string m_parent;  // the cgroup holding ours: the controller's root
    std::string m_child;
    std::optional<std::string> m_unavailable;
    bool m_created = false;
    std::set<pid_t> m_moved;
    std::set<std::string> m_own;  // task cgroups quota'd in place
};

}  // namespace

std::unique_ptr<Actuator> make_cgroup_actuator(const std::string& fsroot, unsigned cpus,
                                               const std::string& child) {
    return std::make_unique<CgroupActuator>(fsroot, cpus, child);
}

std::unique_ptr<Actuator> make_cgroup_actuator(const std::string& fsroot, unsigned cpus) {
    return make_cgroup_actuator(fsroot, cpus, "hearth");
}

}  // namespace hearth
