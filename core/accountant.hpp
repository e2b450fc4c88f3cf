#pragma once
// The agent's bookkeeping: closes an interval at every periodic sample and at
// every task start and end (so short tasks are not smeared over their
// neighbours), measures the node's energy and each task's CPU in it, and
// splits the energy with attribute_interval(). Each closed interval becomes a
// ledger record; each task keeps a running total the worker gets back.
#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup.hpp"
#include "clock.hpp"
#include "cycle_meter.hpp"
#include "energy_source.hpp"
#include "fsroot.hpp"
#include "ledger.hpp"
#include "proc_cpu.hpp"
#include "units.hpp"

namespace hearth {

struct AccountantConfig {
    std::string node, site;
    Watts idle{};
    unsigned cores = 1;
};

struct TaskKey {
    std::string tenant, job;
    std::int64_t task = 0;
    std::uint32_t attempt = 1;
};

bool operator==(const TaskKey& a, const TaskKey& b);

struct Registration {
    TaskKey key;
    pid_t pid = 0;
    unsigned cores = 1;
    // The pid's start time (/proc/PID/stat field 22, clock ticks since boot),
    // which tells the process apart from a later one given the same pid.
    // 0: not known yet; register_task() reads it.
    std::uint64_t start_ticks = 0;
    // The GPUs the task was given (NVML indices): it carries their energy.
    std::vector<unsigned> gpus{};
};

// Field 22 of /proc/PID/stat; nullopt when the process is gone or the line unreadable.
std::optional<std::uint64_t> process_start_ticks(const FsRoot& fs, pid_t pid);

struct TaskTotals {
    Microjoules energy{};
    bool estimated = false;
};

struct TaskView {
    std::uint64_t id = 0;
    Registration reg;
    TaskTotals totals;
    // Where its CPU time is read: its cgroup's directory, or "" for /proc
    // (the registered process and its live descendants).
    std::string cgroup;
    bool cgroup_v2 = true;
};

class Accountant {
public:
    // cycles: optional per-task cycle counting; when every running task is
    // counted, dynamic energy is split by cycles instead of CPU time.
    Accountant(EnergySource& source, std::shared_ptr<const FsRoot> fs,
               std::shared_ptr<const Clock> clock, AccountantConfig cfg,
               CycleMeter* cycles = nullptr);

    IntervalRecord sample();
    // Energy the source reported at its first read: what a resumed source
    // measured while no agent ran. As a 'gap' interval charged to the house
    // (nobody's tasks were registered then); nullopt when there is none.
    std::optional<IntervalRecord> startup_gap(std::int64_t since_ms) const;
    // Both close the current interval first and return its record.
    std::uint64_t register_task(const Registration& r, IntervalRecord& closed);
    // final_cpu_s: the task's CPU seconds as its parent saw at reaping (wait4),
    // which covers what /proc can no longer show once it has exited; a task
    // cgroup still readable is read instead (a worker reuses its cgroups, so
    // the cgroup's figure includes earlier tasks').
    TaskTotals unregister_task(std::uint64_t id, std::optional<double> final_cpu_s,
                               IntervalRecord& closed);
    bool has_task(std::uint64_t id) const { return m_tasks.count(id) != 0; }
    // The task registered for this attempt (and this pid, when given).
    std::optional<std::uint64_t> find_task(const TaskKey& key,
                                           std::optional<pid_t> pid = std::nullopt) const;

    // After an agent restart: takes back a task an earlier run registered,
    // from what it saved (id, registration with start_ticks, totals charged
    // so far). Only while its pid is still the same process (alive, same
    // start time): false otherwise, and for a bad or taken id. Its CPU time
    // is counted from now: what it used while no agent ran is in the gap the
    // house pays. Closes no interval.
    bool adopt_task(const TaskView& saved);
    // The id the next registration gets; ids below `next` are never handed
    // out again (a worker may still hold them from before a restart).
    std::uint64_t next_id() const { return m_next_id; }
    void reserve_ids(std::uint64_t next) { m_next_id = std::max(m_next_id, next); }

    std::vector<TaskView> tasks() const;
    std::size_t task_count() const { return m_tasks.size(); }
    // Tasks whose process is gone, or whose pid now names another process
    // (start time changed); tasks whose start time is unknown are never
    // listed. Reads each task's /proc/PID/stat through a file kept open.
    std::vector<std::uint64_t> dead_tasks();
    Watts last_power() const { return m_last_power; }
    Microjoules total_energy() const { return m_total; }
    const AccountantConfig& config() const { return m_cfg; }
    std::vector<std::string> take_warnings();

private:
    struct Tracked {
        Registration reg;
        double cpu_prev = 0;
        std::optional<double> cycles_prev;  // set while the task's cycles are counted
        Clock::TimePoint since{};
        TaskTotals totals;
        // The task's own cgroup: its CPU counts every process the task
        // started, setsid() or double fork, dead ones too. Unset: /proc.
        std::optional<CgroupDir> cgroup;
        KeptFile stat;  // /proc/PID/stat of the registered process: is it alive?
    };
    // Finds t's cgroup and reads its CPU now (into cpu_prev).
    void start_cpu(Tracked& t);
    std::optional<double> cpu_of(const Tracked& t);
    IntervalRecord close_interval(std::optional<std::pair<std::uint64_t, double>> final_cpu);

    EnergySource& m_source;
    std::shared_ptr<const FsRoot> m_fs;
    std::shared_ptr<const Clock> m_clock;
    AccountantConfig m_cfg;
    std::map<std::uint64_t, Tracked> m_tasks;
    std::uint64_t m_next_id = 1;
    Microjoules m_last_reading{};
    std::optional<Microjoules> m_last_parts;  // the parts' last total, when read
    bool m_warned_parts = false;              // "the parts read more than the meter", once
    std::vector<Microjoules> m_last_gpus;     // each GPU's last total
    Microjoules m_first_reading{};
    Clock::TimePoint m_last_time{};
    std::int64_t m_last_unix_ms = 0;
    double m_node_busy_prev = 0;
    Watts m_last_power{};
    Microjoules m_total{};
    std::vector<std::string> m_warnings;
    CycleMeter* m_cycles = nullptr;
    ProcFiles m_proc;  // tasks' /proc files, kept open between intervals
    // close_interval's working lists, kept so that an interval allocates
    // nothing for them once they have grown to the number of tasks.
    std::vector<std::uint64_t> m_order;
    std::vector<std::optional<double>> m_cycle_work;
    std::vector<double> m_holders;
    bool m_said_no_cgroup = false;
};

}  // namespace hearth
