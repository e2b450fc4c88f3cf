#pragma once
// The one reader of the kernel's CPU accounting files, /proc/stat and
// /proc/PID/stat (proc(5)), for the accountant, the model energy source,
// the agent's core count and the throttle's process groups. Pure parsers
// plus readers through the FsRoot seam, so tests hand in their own files.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/fsroot.hpp"

namespace hearth {

// The aggregate "cpu" line of /proc/stat, in clock ticks, and the number of
// per-CPU lines ("cpu0", "cpu1", ...) in the text given.
struct CpuTicks {
    std::uint64_t busy = 0;   // user nice system irq softirq steal (guest is inside user)
    std::uint64_t total = 0;  // busy + idle + iowait
    unsigned cores = 0;
};
// nullopt when there is no complete "cpu" line.
std::optional<CpuTicks> parse_proc_stat(std::string_view text);
// /proc/stat under fs; on failure nullopt and *error = the read's errno, or 0
// when the file was read but holds no "cpu" line.
std::optional<CpuTicks> read_proc_stat(const FsRoot& fs, int* error = nullptr);

// The fields of /proc/PID/stat that Hearth uses.
struct PidStat {
    char state = '?';  // field 3: R, S, T, Z, ...
    pid_t ppid = 0;    // field 4
    pid_t pgrp = 0;    // field 5
    // utime + stime + cutime + cstime (fields 14-17; negative ones count 0),
    // when the line has them.
    std::optional<std::uint64_t> cpu_ticks;
    // starttime (field 22), ticks after boot: with the pid, it names one
    // process even after the pid is reused.
    std::optional<std::uint64_t> start_ticks;
};
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'. nullopt without it or without fields 3-5.
std::optional<PidStat> parse_pid_stat(std::string_view line);
std::optional<PidStat> read_pid_stat(const FsRoot& fs, pid_t pid);

}  // namespace hearth
