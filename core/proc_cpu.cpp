#include "proc_cpu.hpp"

#include <unistd.h>

#include <cstdlib>
#include <vector>

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

}  // namespace

ProcFiles::~ProcFiles() {
    for (auto& [path, e] : m_files)
        if (e.fd >= 0) ::close(e.fd);
}

ReadResult ProcFiles::read(const FsRoot& fs, const std::string& abs, std::size_t limit) {
    Entry& e = m_files[abs];
    e.used = true;
    ReadResult r = fs.reread(abs, e.fd, limit);
    if (!r.text) m_files.erase(abs);
    return r;
}

void ProcFiles::sweep() {
    for (auto it = m_files.begin(); it != m_files.end();) {
        if (!it->second.used) {
            if (it->second.fd >= 0) ::close(it->second.fd);
            it = m_files.erase(it);
        } else {
            it->second.used = false;
            ++it;
        }
    }
}

std::optional<double> tree_cpu_seconds(const FsRoot& fs, pid_t root, ProcFiles* files) {
    auto read = [&](const std::string& abs) { return files ? files->read(fs, abs) : fs.read(abs); };
    std::vector<pid_t> todo{root};
    unsigned long long ticks = 0;
    bool root_seen = false;
    for (std::size_t i = 0; i < todo.size() && i < 4096; ++i) {
        std::string base = "/proc/" + std::to_string(todo[i]);
        ReadResult stat = read(base + "/stat");
        if (!stat.text) continue;  // exited since we listed it
        auto st = parse_pid_stat(*stat.text);
        if (!st || !st->cpu_ticks) continue;
        if (i == 0) root_seen = true;
        ticks += *st->cpu_ticks;
        ReadResult kids = read(base + "/task/" + std::to_string(todo[i]) + "/children");
        if (!kids.text) continue;
        const char* p = kids.text->c_str();
        while (*p) {
            char* end = nullptr;
            long long pid = std::strtoll(p, &end, 10);
            if (end == p) break;
            if (pid > 0) todo.push_back(static_cast<pid_t>(pid));
            p = end;
        }
    }
    if (!root_seen) return std::nullopt;
    return static_cast<double>(ticks) / ticks_per_second();
}

std::optional<NodeCpu> node_cpu_seconds(const FsRoot& fs, ProcFiles* files) {
    // Only the first line is needed; on large machines the file runs to
    // tens of kilobytes of interrupt counts.
    ReadResult stat = files ? files->read(fs, "/proc/stat", 4096) : fs.read("/proc/stat");
    auto t = stat.text ? parse_proc_stat(*stat.text) : std::nullopt;
    if (!t) return std::nullopt;
    return NodeCpu{static_cast<double>(t->busy) / ticks_per_second(),
                   static_cast<double>(t->total) / ticks_per_second()};
}

}  // namespace hearth
