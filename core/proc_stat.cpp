#include "core/proc_stat.hpp"

#include <charconv>
#include <string>

namespace hearth {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// Splits off the next blank-separated word of a line; "" at its end.
std::string_view next_word(std::string_view& rest) {
    std::size_t b = 0;
    while (b < rest.size() && is_blank(rest[b])) ++b;
    std::size_t e = b;
    while (e < rest.size() && !is_blank(rest[e]) && rest[e] != '\n') ++e;
    const std::string_view word = rest.substr(b, e - b);
    rest.remove_prefix(e);
    return word;
}

template <class T>
std::optional<T> number(std::string_view word) {
    T v{};
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
    if (word.empty() || ec != std::errc{} || end != word.data() + word.size()) return std::nullopt;
    return v;
}

// Parsed by hand, without streams: the agent reads these files for every
// task ten times a second.
std::optional<CpuTicks> aggregate_line(std::string_view rest) {
    // user nice system idle iowait irq softirq steal
    std::uint64_t v[8] = {};
    for (auto& x : v) {
        auto n = number<std::uint64_t>(next_word(rest));
        if (!n) return std::nullopt;
        x = *n;
    }
    CpuTicks t;
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    t.total = t.busy + v[3] + v[4];
    return t;
}

}  // namespace

std::optional<CpuTicks> parse_proc_stat(std::string_view text) {
    std::optional<CpuTicks> out;
    unsigned cores = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.substr(0, 3) != "cpu") continue;
        const std::string_view label = next_word(line);
        if (label == "cpu") {
            out = aggregate_line(line);
            if (!out) return std::nullopt;
        } else if (label.size() > 3 && label[3] >= '0' && label[3] <= '9') {
            ++cores;
        }
    }
    if (out) out->cores = cores;
    return out;
}

std::optional<CpuTicks> read_proc_stat(const FsRoot& fs, int* error) {
    ReadResult r = fs.read("/proc/stat");
    if (error) *error = r.text ? 0 : r.error;
    return r.text ? parse_proc_stat(*r.text) : std::nullopt;
}

std::optional<PidStat> parse_pid_stat(std::string_view line) {
    const auto close = line.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = line.substr(close + 1);
    PidStat st;
    const std::string_view state = next_word(rest);
    auto ppid = number<pid_t>(next_word(rest));
    auto pgrp = number<pid_t>(next_word(rest));
    if (state.size() != 1 || !ppid || !pgrp) return std::nullopt;
    st.state = state[0];
    st.ppid = *ppid;
    st.pgrp = *pgrp;
    std::uint64_t ticks = 0;
    bool ticks_ok = true;
    for (int field = 6; field <= 22; ++field) {
        const std::string_view word = next_word(rest);
        if (word.empty()) break;
        if (field >= 14 && field <= 17) {
            // cutime and cstime are signed in the kernel's format.
            auto v = number<long long>(word);
            if (!v)
                ticks_ok = false;
            else if (*v > 0)
                ticks += static_cast<std::uint64_t>(*v);
            if (field == 17 && ticks_ok) st.cpu_ticks = ticks;
        }
        if (field == 22) st.start_ticks = number<std::uint64_t>(word);
    }
    return st;
}

std::optional<PidStat> read_pid_stat(const FsRoot& fs, pid_t pid) {
    if (pid <= 0) return std::nullopt;
    ReadResult r = fs.read("/proc/" + std::to_string(pid) + "/stat");
    return r.text ? parse_pid_stat(*r.text) : std::nullopt;
}

}  // namespace hearth
