#include "core/cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
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
    // A worker that ended without removing its tree (SIGKILLed, or _exit
    // after MPI) left it behind, perhaps with tasks still in it: they are
    // killed and the tree removed here, so a relaunched site leaves nothing
    // of the last one running.
    for (const auto& name : fs->list(base)) {
        if (name.rfind("hearth-w", 0) != 0) continue;
        const std::string pid = name.substr(8);
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos ||
            fs->exists("/proc/" + pid))
            continue;
        kill_cgroup_tree_signal_safe(fs->path(base + "/" + name).c_str(), mount->v2);
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
    m_dir_fd = ::open(tree.fs().path(m_dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

TaskCgroup::~TaskCgroup() {
    if (m_dir_fd >= 0) ::close(m_dir_fd);
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

bool TaskCgroup::known_empty() const {
    if (m_tree.v2()) {
        auto r = m_tree.fs().read(m_dir + "/cgroup.events");
        if (!r.text) return false;
        std::istringstream in(*r.text);
        std::string key;
        int v = -1;
        while (in >> key >> v)
            if (key == "populated") return v == 0;
        return false;
    }
    auto r = m_tree.fs().read(m_dir + "/cgroup.procs");
    return r.text && r.text->find_first_of("0123456789") == std::string::npos;
}

void TaskCgroup::kill() const {
    int dfd = ::open(m_tree.fs().path(m_dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    kill_cgroup_signal_safe(dfd, m_tree.v2());
    ::close(dfd);
}

namespace {

// Writes a short text to a control file of the cgroup at dirfd.
bool write_control(int dirfd, const char* name, const char* text, std::size_t n) {
    int fd = ::openat(dirfd, name, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text, n) == static_cast<ssize_t>(n);
    ::close(fd);
    return ok;
}

// SIGKILL to each pid cgroup.procs lists; how many it listed.
int kill_listed(int dirfd) {
    int fd = ::openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[4096];
    int listed = 0;
    long pid = -1;  // digits carried over a read boundary
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                pid = (pid < 0 ? 0 : pid * 10) + (buf[i] - '0');
            } else if (pid >= 0) {
                if (pid > 0 && ::kill(static_cast<pid_t>(pid), SIGKILL) == 0) ++listed;
                pid = -1;
            }
        }
    }
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), SIGKILL) == 0) ++listed;
    ::close(fd);
    return listed;
}

// Calls f(name) for each entry of the directory at dirfd that names a task
// cgroup ("t" and digits), without allocating.
template <class F>
void each_task_dir(int dirfd, F f) {
    ::lseek(dirfd, 0, SEEK_SET);
    alignas(8) char buf[4096];
    for (;;) {
        const long n = ::syscall(SYS_getdents64, dirfd, buf, sizeof buf);
        if (n <= 0) return;
        for (long off = 0; off < n;) {
            struct Dirent64 {
                std::uint64_t ino;
                std::int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[1];
            };
            const auto* d = reinterpret_cast<const Dirent64*>(buf + off);
            // "t0", "t1"...; not v1's "tasks" file
            if (d->name[0] == 't' && d->name[1] >= '0' && d->name[1] <= '9') f(d->name);
            off += d->reclen;
        }
    }
}

void pause_ms(long ms) {
    timespec ts{0, ms * 1000000L};
    ::nanosleep(&ts, nullptr);
}

}  // namespace

void kill_cgroup_signal_safe(int dirfd, bool v2) {
    if (v2 && write_control(dirfd, "cgroup.kill", "1", 1)) return;
    // v1, or a kernel before 5.14 (no cgroup.kill): frozen first where v2
    // can freeze it, so no fork races the kill (SIGKILL reaches a frozen
    // process), then one pid at a time until none is left.
    const bool frozen = v2 && write_control(dirfd, "cgroup.freeze", "1", 1);
    for (int round = 0; round < 50 && kill_listed(dirfd) > 0; ++round) pause_ms(1);
    if (frozen) write_control(dirfd, "cgroup.freeze", "0", 1);
}

int kill_cgroup_tree_signal_safe(const char* tree_dir, bool v2) {
    int dfd = ::open(tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return 0;
    each_task_dir(dfd, [&](const char* name) {
        int t = ::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t < 0) return;
        kill_cgroup_signal_safe(t, v2);
        ::close(t);
    });
    // The kernel empties a killed cgroup within milliseconds; rmdir
    // refuses it until then.
    // Removing entries while reading the directory may skip some: read it
    // again until a pass finds none.
    int left = 0;
    for (int pass = 0; pass < 3; ++pass) {
        int seen = 0;
        left = 0;
        each_task_dir(dfd, [&](const char* name) {
            ++seen;
            for (int i = 0; i < 200; ++i) {
                if (::unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return;
                int t = ::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (t >= 0) {
                    kill_cgroup_signal_safe(t, v2);
                    ::close(t);
                }
                pause_ms(5);
            }
            ++left;
        });
        if (seen == 0 || left > 0) break;
    }
    ::close(dfd);
    ::rmdir(tree_dir);
    return left;
}

std::optional<double> TaskCgroup::cpu_seconds() const {
    return cgroup_cpu_seconds(m_tree.fs(), CgroupDir{m_dir, m_tree.v2()});
}

std::optional<double> cgroup_cpu_seconds(const FsRoot& fs, const CgroupDir& cg) {
    if (cg.v2) {
        auto r = fs.read(cg.dir + "/cpu.stat");
        auto us = r.text ? parse_usage_usec(*r.text) : std::nullopt;
        if (us) return static_cast<double>(*us) / 1e6;
        return std::nullopt;
    }
    auto r = fs.read(cg.dir + "/cpuacct.usage");
    std::uint64_t ns = 0;
    if (r.text &&
        std::from_chars(r.text->data(), r.text->data() + r.text->size(), ns).ec == std::errc())
        return static_cast<double>(ns) / 1e9;
    return std::nullopt;
}

bool is_task_cgroup_path(const std::string& path) {
    auto digits = [](const std::string& s, std::size_t from) {
        return s.size() > from && s.find_first_not_of("0123456789", from) == std::string::npos;
    };
    const auto last = path.rfind('/');
    if (last == std::string::npos || last == 0) return false;
    const auto prev = path.rfind('/', last - 1);
    if (prev == std::string::npos) return false;
    const std::string task = path.substr(last + 1), tree = path.substr(prev + 1, last - prev - 1);
    return task[0] == 't' && digits(task, 1) && tree.rfind("hearth-w", 0) == 0 && digits(tree, 8);
}

std::optional<CgroupDir> task_cgroup_of(const FsRoot& fs, pid_t pid, std::string* why) {
    auto fail = [&](const std::string& w) -> std::optional<CgroupDir> {
        if (why) *why = w;
        return std::nullopt;
    };
    auto mounts = fs.read("/proc/self/mounts");
    auto mount = mounts.text ? find_cgroup_mount(*mounts.text) : std::nullopt;
    if (!mount) return fail("no cgroup2 (nor v1 cpuacct) hierarchy is mounted");
    auto cg = fs.read("/proc/" + std::to_string(pid) + "/cgroup");
    auto path = cg.text ? own_cgroup_path(*cg.text, mount->v2) : std::nullopt;
    if (!path) return fail("pid " + std::to_string(pid) + " is gone or in no cgroup");
    if (!is_task_cgroup_path(*path))
        return fail("pid " + std::to_string(pid) + " is not in a task cgroup of its own (" + *path +
                    "; its worker could make none)");
    CgroupDir dir{mount->path + *path, mount->v2};
    // Mounted but not readable here (a container, a faked /sys): /proc it is.
    if (!cgroup_cpu_seconds(fs, dir))
        return fail("cannot read the CPU usage of " + dir.dir +
                    " (is the cgroup tree mounted here?)");
    return dir;
}

}  // namespace hearth
