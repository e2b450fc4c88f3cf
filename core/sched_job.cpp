#include "core/sched_job.hpp"

#include "core/error.hpp"
#include "core/frameset.hpp"
#include "core/line_items.hpp"

namespace hearth {

std::unique_ptr<ItemSource> make_submit_items(const JobSubmit& s, const std::string& items_path) {
    return make_items(s.split, s.split_text, items_path);
}

SchedJob::SchedJob(JobRow r, JobSubmit spec, std::unique_ptr<ItemSource> items)
    : row(std::move(r)),
      m_spec(std::move(spec)),
      m_template(CommandTemplate::parse(m_spec.command, m_spec.chunk)),
      m_items(std::move(items)),
      m_plan{m_items->size(), m_spec.chunk} {}

std::uint64_t SchedJob::queued() const {
    if (is_final(row.state)) return 0;
    return row.task_count - row.next_task + m_requeued.size();
}

NextTask SchedJob::take() {
    if (!m_requeued.empty()) {
        auto it = m_requeued.begin();
        NextTask n{it->first, it->second.last_attempt + 1, it->second.failures, true};
        m_requeued.erase(it);
        return n;
    }
    if (row.next_task >= row.task_count)
        throw Error("job " + row.id + " has no task left to start (a Hearth bug: please report it)");
    return NextTask{row.next_task++, 1, 0, false};
}

std::vector<std::string> SchedJob::items_of(std::uint64_t task) {
    return task_items(*m_items, m_plan, task);
}

std::vector<std::string> SchedJob::argv(std::uint64_t task, std::uint32_t attempt) {
    TaskValues v;
    v.items = items_of(task);
    v.task = task;
    v.attempt = attempt;
    v.tenant = row.tenant;
    v.job = row.id;
    return m_template.expand(v);
}

std::pair<std::string, std::string> SchedJob::first_last(std::uint64_t task) {
    const std::uint64_t b = m_plan.begin(task), e = m_plan.end(task);
    return {m_items->item(b), m_items->item(e - 1)};
}

double SchedJob::task_s() const {
    return row.done == 0 ? 0.0 : static_cast<double>(row.done_wall_ms) / 1000.0 / static_cast<double>(row.done);
}

}  // namespace hearth
