#include "proc_cpu.hpp"

#include <unistd.h>

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
    // counted from the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream in(line.substr(close + 1));
    std::string field;
    std::vector<std::string> f;
    while (in >> field && f.size() < 15) f.push_back(field);
    // After ')': state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
    if (f.size() < 15) return std::nullopt;
    try {
        unsigned long long sum = 0;
        for (int i = 11; i <= 14; ++i) {
            long long v = std::stoll(f[static_cast<std::size_t>(i)]);
            if (v > 0) sum += static_cast<unsigned long long>(v);
        }
        return sum;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<double> tree_cpu_seconds(const FsRoot& fs, pid_t root) {
    std::vector<pid_t> todo{root};
    unsigned long long ticks = 0;
    bool root_seen = false;
    for (std::size_t i = 0; i < todo.size() && i < 4096; ++i) {
        std::string base = "/proc/" + std::to_string(todo[i]);
        ReadResult stat = fs.read(base + "/stat");
        if (!stat.text) continue;  // exited since we listed it
        auto t = parse_stat_ticks(*stat.text);
        if (!t) continue;
        if (i == 0) root_seen = true;
        ticks += *t;
        ReadResult kids = fs.read(base + "/task/" + std::to_string(todo[i]) + "/children");
        if (!kids.text) continue;
        std::istringstream in(*kids.text);
        long long pid;
        while (in >> pid)
            if (pid > 0) todo.push_back(static_cast<pid_t>(pid));
    }
    if (!root_seen) return std::nullopt;
    return static_cast<double>(ticks) / ticks_per_second();
}

std::optional<NodeCpu> node_cpu_seconds(const FsRoot& fs) {
    ReadResult stat = fs.read("/proc/stat");
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
