#include "proc_cpu.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <vector>

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

std::optional<unsigned long long> parse_stat_ticks(const std::string& line) {
    // The command name (field 2) may hold spaces and parentheses: fields are
    // counted from the last ')'. Parsed by hand: the agent reads two of these
    // files per task, ten times a second.
    auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    const char* p = line.c_str() + close + 1;
    // After ')': state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
    unsigned long long sum = 0;
    for (int field = 3; field <= 17; ++field) {
        while (*p == ' ') ++p;
        if (!*p) return std::nullopt;
        const char* start = p;
        while (*p && *p != ' ') ++p;
        if (field >= 14) {
            char* end = nullptr;
            long long v = std::strtoll(start, &end, 10);
            if (end != p) return std::nullopt;
            if (v > 0) sum += static_cast<unsigned long long>(v);
        }
    }
    return sum;
}

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
        auto t = parse_stat_ticks(*stat.text);
        if (!t) continue;
        if (i == 0) root_seen = true;
        ticks += *t;
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
    if (!stat.text) return std::nullopt;
    std::istringstream in(*stat.text);
    std::string label;
    in >> label;
    if (label != "cpu") return std::nullopt;
    // user nice system idle iowait irq softirq steal (guest time is inside user)
    unsigned long long v[8] = {};
    for (auto& x : v)
        if (!(in >> x)) return std::nullopt;
    unsigned long long idle = v[3] + v[4];
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return NodeCpu{static_cast<double>(busy) / ticks_per_second(),
                   static_cast<double>(busy + idle) / ticks_per_second()};
}

}  // namespace hearth
