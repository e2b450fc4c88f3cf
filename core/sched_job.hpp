#pragma once
// A job as the scheduler holds it in memory: its durable row, its parsed
// submission, and its lazy task queue. Nothing is materialised per task:
// the tasks never started are the cursor range [next_task, task_count),
// the tasks waiting again are a small ordered map, and a task's argv is
// expanded from the command template when the task is handed out, exactly as
// `hearth run` expands it (core/split, core/placeholder).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/jobs_api.hpp"
#include "core/placeholder.hpp"
#include "core/sched_store.hpp"
#include "core/split.hpp"

namespace hearth {

// The items a submission describes: frames, a seed range, a count, or the
// lines of the items file (items_path: where the content store keeps it).
// Throws usage_error naming the bad range and the fix.
std::unique_ptr<ItemSource> make_submit_items(const JobSubmit& s, const std::string& items_path);

// A task waiting again after an attempt ended without committing it.
struct Requeued {
    std::uint32_t last_attempt = 0;
    std::uint32_t failures = 0;  // counted against the job's retries
};

// What take() hands out.
struct NextTask {
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
    std::uint32_t failures = 0;
    bool requeued = false;  // came from the requeued map (it has a tasks row)
};

class SchedJob {
public:
    SchedJob(JobRow row, JobSubmit spec, std::unique_ptr<ItemSource> items);

    JobRow row;  // the durable counters, written back after each change
    const JobSubmit& spec() const { return m_spec; }
    std::map<std::uint64_t, Requeued>& requeued() { return m_requeued; }
    std::uint32_t running = 0;  // attempts out at sites now

    // Tasks waiting to start (0 once the job is final: nothing more starts).
    std::uint64_t queued() const;
    bool runnable() const { return queued() > 0; }
    // The next task to start: requeued ones first (lowest index), then the
    // cursor. queued() must be > 0.
    NextTask take();
    void requeue(std::uint64_t task, Requeued r) { m_requeued[task] = r; }

    std::vector<std::string> argv(std::uint64_t task, std::uint32_t attempt);
    // The task's first and last items, in the user's terms ("21", "22").
    std::pair<std::string, std::string> first_last(std::uint64_t task);
    // Tasks the items and chunk make (the row's task_count once submitted).
    std::uint64_t planned_tasks() const { return m_plan.tasks(); }
    // Mean wall time of a committed task, seconds (0 = none yet).
    double task_s() const;

private:
    std::vector<std::string> items_of(std::uint64_t task);

    JobSubmit m_spec;
    CommandTemplate m_template;
    std::unique_ptr<ItemSource> m_items;
    ChunkPlan m_plan;
    std::map<std::uint64_t, Requeued> m_requeued;
};

}  // namespace hearth
