#include "proc_cpu.hpp"

#include <unistd.h>

#include <cstdlib>

#include "core/proc_stat.hpp"

namespace hearth {
namespace {

double ticks_per_second() {
    static const double hz = [] {
        long t = ::sysconf(_SC_CLK_TCK);
        return t > 0 ? static_cast<double>(t) : 100.0;
    }();
    return hz;
}

// Only the first line of /proc/stat is needed; on large machines the file
// runs to tens of kilobytes of interrupt counts.
constexpr std::size_t k_proc_stat_head = 4096;

}  // namespace

ProcFiles::PidFiles& ProcFiles::of(pid_t pid) {
    auto it = m_pids.find(pid);
    if (it == m_pids.end()) {
        // The paths are built once per process, not at every read.
        const std::string base = "/proc/" + std::to_string(pid);
        PidFiles f;
        f.stat = KeptFile(base + "/stat");
        f.children = KeptFile(base + "/task/" + std::to_string(pid) + "/children");
        it = m_pids.emplace(pid, std::move(f)).first;
    }
    it->second.used = true;
    return it->second;
}

int ProcFiles::read_stat(const FsRoot& fs, pid_t pid, std::string& text) {
    return of(pid).stat.read(fs, text);
}

int ProcFiles::read_children(const FsRoot& fs, pid_t pid, std::string& text) {
    return of(pid).children.read(fs, text);
}

int ProcFiles::read_proc_stat(const FsRoot& fs, std::string& text) {
    return m_proc_stat.read(fs, text, k_proc_stat_head);
}

void ProcFiles::sweep() {
    for (auto it = m_pids.begin(); it != m_pids.end();) {
        if (!it->second.used) {
            it = m_pids.erase(it);  // KeptFile closes
        } else {
            it->second.used = false;
            ++it;
        }
    }
}

std::optional<double> tree_cpu_seconds(const FsRoot& fs, pid_t root, ProcFiles* files) {
    ProcFiles local;
    ProcFiles& pf = files ? *files : local;
    std::string& text = pf.buffer();
    std::vector<pid_t>& todo = pf.todo();
    todo.assign(1, root);
    unsigned long long ticks = 0;
    bool root_seen = false;
    for (std::size_t i = 0; i < todo.size() && i < 4096; ++i) {
        const pid_t pid = todo[i];
        if (pf.read_stat(fs, pid, text) != 0) continue;  // exited since we listed it
        auto st = parse_pid_stat(text);
        if (!st || !st->cpu_ticks) continue;
        if (i == 0) root_seen = true;
        ticks += *st->cpu_ticks;
        if (pf.read_children(fs, pid, text) != 0) continue;
        const char* p = text.c_str();
        while (*p) {
            char* end = nullptr;
            long long child = std::strtoll(p, &end, 10);
            if (end == p) break;
            if (child > 0) todo.push_back(static_cast<pid_t>(child));
            p = end;
        }
    }
    if (!root_seen) return std::nullopt;
    return static_cast<double>(ticks) / ticks_per_second();
}

std::optional<NodeCpu> node_cpu_seconds(const FsRoot& fs, ProcFiles* files) {
    ProcFiles local;
    ProcFiles& pf = files ? *files : local;
    std::string& text = pf.buffer();
    if (pf.read_proc_stat(fs, text) != 0) return std::nullopt;
    auto t = parse_proc_stat(text);
    if (!t) return std::nullopt;
    return NodeCpu{static_cast<double>(t->busy) / ticks_per_second(),
                   static_cast<double>(t->total) / ticks_per_second()};
}

}  // namespace hearth
