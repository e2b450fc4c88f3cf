#include "core/cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace hearth {

std::optional<CgroupMount> find_cgroup_mount(const std::string& mounts) {
    std::istringstream in(mounts);
    std::string line;
    std::optional<CgroupMount> v1;
    while (std::getline(in, line)) {
        std::istringstream w(line);
        std::string dev, dir, type, opts;
        if (!(w >> dev >> dir >> type >> opts)) continue;
        if (type == "cgroup2") return CgroupMount{dir, true};
        if (type == "cgroup" && !v1) {
            std::istringstream o(opts);
            std::string opt;
            while (std::getline(o, opt, ','))
                if (opt == "cpuacct") v1 = CgroupMount{dir, false};
        }
    }
    return v1;
}

std::optional<std::string> own_cgroup_path(const std::string& proc_cgroup, bool v2) {
    std::istringstream in(proc_cgroup);
    std::string line;
    while (std::getline(in, line)) {
        // "0::/path" (v2) or "2:cpu,cpuacct:/path" (v1)
        const auto a = line.find(':');
        const auto b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        const std::string id = line.substr(0, a), ctl = line.substr(a + 1, b - a - 1);
        bool match = v2 ? (id == "0" && ctl.empty()) : false;
        if (!v2) {
            std::istringstream c(ctl);
            std::string one;
            while (std::getline(c, one, ','))
                if (one == "cpuacct") match = true;
        }
        if (match) return line.substr(b + 1);
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_usage_usec(const std::string& cpu_stat) {
    std::istringstream in(cpu_stat);
    std::string key;
    std::uint64_t v = 0;
    while (in >> key >> v)
        if (key == "usage_usec") return v;
    return std::nullopt;
}

std::unique_ptr<CgroupTree> CgroupTree::open(std::shared_ptr<const FsRoot> fs, pid_t self,
                                             std::string* why) {
    auto fail = [&](const std::string& w) -> std::unique_ptr<CgroupTree> {
        if (why) *why = w;
        return nullptr;
    };
    auto mounts = fs->read("/proc/self/mounts");
    auto mount = mounts.text ? find_cgroup_mount(*mounts.text) : std::nullopt;
    if (!mount) return fail("no cgroup2 (nor v1 cpuacct) hierarchy is mounted");
    auto cg = fs->read("/proc/self/cgroup");
    auto own = cg.text ? own_cgroup_path(*cg.text, mount->v2) : std::nullopt;
    if (!own) return fail("this process's cgroup is unknown (/proc/self/cgroup)");
    std::string base = mount->path + (*own == "/" ? "" : *own);
    // A worker that ended without removing its tree (killed, or _exit after
    // MPI) left it empty: removed here (rmdir refuses a cgroup still in use).
    for (const auto& name : fs->list(base)) {
        if (name.rfind("hearth-w", 0) != 0) continue;
        const std::string pid = name.substr(8);
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos ||
            fs->exists("/proc/" + pid))
            continue;
        const std::string stale = base + "/" + name;
        for (const auto& task : fs->list(stale))
            if (task.rfind('t', 0) == 0) ::rmdir(fs->path(stale + "/" + task).c_str());
        ::rmdir(fs->path(stale).c_str());
    }
    std::string dir = base + "/hearth-w" + std::to_string(self);
    if (::mkdir(fs->path(dir).c_str(), 0755) != 0 && errno != EEXIST)
        return fail("cannot create " + dir + ": " + std::strerror(errno));
    return std::unique_ptr<CgroupTree>(new CgroupTree(std::move(fs), dir, mount->v2));
}

CgroupTree::~CgroupTree() {
    ::rmdir(m_fs->path(m_dir).c_str());
}

TaskCgroup::TaskCgroup(const CgroupTree& tree, const std::string& name)
    : m_tree(tree), m_dir(tree.dir() + "/" + name) {
    if (::mkdir(tree.fs().path(m_dir).c_str(), 0755) != 0 && errno != EEXIST)
        throw Error("cannot create the task's cgroup " + m_dir + ": " + std::strerror(errno));
}

TaskCgroup::~TaskCgroup() {
    // What a task left behind (setsid, double fork) dies with it. The
    // cgroup can be removed once empty: the kernel empties it at once for
    // a kill, a few milliseconds at most.
    for (int i = 0; i < 200; ++i) {
        if (::rmdir(m_tree.fs().path(m_dir).c_str()) == 0 || errno == ENOENT) return;
        kill();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

int TaskCgroup::open_procs() const {
    return ::open(m_tree.fs().path(m_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
}

std::vector<pid_t> TaskCgroup::pids() const {
    std::vector<pid_t> out;
    auto r = m_tree.fs().read(m_dir + "/cgroup.procs");
    if (!r.text) return out;
    std::istringstream in(*r.text);
    pid_t p;
    while (in >> p) out.push_back(p);
    return out;
}

void TaskCgroup::kill() const {
    if (m_tree.v2()) {
        int fd = ::open(m_tree.fs().path(m_dir + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            const bool ok = ::write(fd, "1", 1) == 1;
            ::close(fd);
            if (ok) return;
        }
    }
    // v1, or a kernel before 5.14 (no cgroup.kill): one pid at a time, until
    // none is left that a fork raced in.
    for (int round = 0; round < 10; ++round) {
        auto ps = pids();
        if (ps.empty()) return;
        for (pid_t p : ps)
            if (p > 0) ::kill(p, SIGKILL);
    }
}

std::optional<double> TaskCgroup::cpu_seconds() const {
    if (m_tree.v2()) {
        auto r = m_tree.fs().read(m_dir + "/cpu.stat");
        auto us = r.text ? parse_usage_usec(*r.text) : std::nullopt;
        if (us) return static_cast<double>(*us) / 1e6;
        return std::nullopt;
    }
    auto r = m_tree.fs().read(m_dir + "/cpuacct.usage");
    std::uint64_t ns = 0;
    if (r.text &&
        std::from_chars(r.text->data(), r.text->data() + r.text->size(), ns).ec == std::errc())
        return static_cast<double>(ns) / 1e9;
    return std::nullopt;
}

}  // namespace hearth
