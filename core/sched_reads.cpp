// The clients' reads of one job (core/scheduler.hpp): its tasks in the
// user's own terms, a task's log, its outputs. core/sched_impl.hpp says how
// the state is held.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/error.hpp"
#include "core/sched_impl.hpp"

namespace hearth {

namespace {

constexpr std::size_t k_max_task_page = 10'000;

}  // namespace

Scheduler::Impl::JobView Scheduler::Impl::view(const JobRow& row) {
    JobView v;
    if (auto it = jobs.find(row.id); it != jobs.end()) {
        v.job = it->second.get();
    } else {
        v.owned = build(row);
        v.job = v.owned.get();
    }
    return v;
}

std::vector<TaskInfo> Scheduler::Impl::task_list(const Role& who, const std::string& id, std::uint64_t from,
                                std::size_t limit) {
    const JobRow row = visible(who, id);
    if (from >= row.task_count) return {};
    const std::uint64_t to = from + std::min<std::uint64_t>({limit, k_max_task_page, row.task_count - from});
    JobView v = view(row);
    const bool heat_held = waiting_for_heat(*v.job, clock.unix_ms()) > 0;
    const auto done = store.committed(id, from, to);
    const std::set<std::uint64_t> committed(done.begin(), done.end());
    std::set<std::uint64_t> failed;
    for (const TaskRow& t : store.task_rows(id, from, to))
        if (t.state == TaskRowState::failed) failed.insert(t.task);
    std::map<std::uint64_t, std::vector<AttemptRow>> tried;
    for (AttemptRow& a : store.attempts(id, from, to)) tried[a.key.task].push_back(std::move(a));
    std::vector<TaskInfo> out;
    for (std::uint64_t t = from; t < to; ++t) {
        TaskInfo ti;
        ti.task = t;
        std::tie(ti.first, ti.last) = v.job->first_last(t);
        auto it = tried.find(t);
        bool out_now = false;
        if (it != tried.end()) {
            const auto& as = it->second;
            ti.attempts = as.back().key.attempt;
            ti.site = as.back().site;
            ti.node = as.back().node;
            ti.wall_ms = as.back().wall_ms;
            ti.exit_code = as.back().exit_code;
            for (const AttemptRow& a : as) {
                if (a.state == AttemptState::running) out_now = true;
                if (a.state == AttemptState::failed) ti.reason = a.reason;
            }
        }
        if (committed.count(t)) ti.state = TaskState::done;
        else if (out_now) ti.state = TaskState::running;
        else if (failed.count(t)) ti.state = TaskState::failed;
        else
            ti.state = heat_held ? TaskState::waiting_for_heat : TaskState::waiting;
        out.push_back(std::move(ti));
    }
    return out;
}

std::string Scheduler::Impl::task_log(const Role& who, const std::string& id, std::uint64_t task,
                     std::optional<std::uint32_t> attempt) {
    const JobRow row = visible(who, id);
    if (task >= row.task_count)
        throw not_found_error("job " + id + " has no task " + std::to_string(task) + " (tasks 0-" +
                              std::to_string(row.task_count == 0 ? 0 : row.task_count - 1) + ")");
    std::optional<AttemptRow> a =
        attempt ? store.attempt(AttemptKey{id, task, *attempt}) : store.last_attempt(id, task);
    if (!a)
        throw not_found_error("task " + std::to_string(task) + " of job " + id +
                              (attempt ? " has no attempt " + std::to_string(*attempt)
                                       : std::string(" has not started yet")) +
                              "; list its attempts with 'hearth status " + id + "'");
    return store.log(a->key).value_or("");
}

GridOverview Scheduler::Impl::overview(const Role& who) {
    if (who.kind != RoleKind::operator_)
        throw forbidden_error("role " + to_string(who) +
                              " may not see the grid's overview (an operator token can)");
    const std::int64_t now = clock.unix_ms();
    std::vector<SiteSeen> seen;
    for (const Site& g : grid.sites) {
        SiteSeen s;
        s.name = g.name;
        if (auto it = sites.find(g.name); it != sites.end()) {
            s.last_ms = it->second.last_ms;
            s.lease_expires_ms = it->second.lease_expires_ms;
            s.down = it->second.down;
            for (const NodeRoom& n : it->second.rooms) {
                s.slots += n.slots;
                s.running += n.running;
            }
            // Known from before a restart: asked, but not yet since.
            if (s.last_ms == 0 && !it->second.run.empty())
                s.last_ms = s.lease_expires_ms - settings.lease_ms;
        }
        seen.push_back(std::move(s));
    }
    return make_overview(store.ended_attempts(overview_week_start_ms(now)), seen, now,
                         grid.gas_kgco2_per_kwh);
}

std::vector<OutputInfo> Scheduler::Impl::outputs(const Role& who, const std::string& id) {
    visible(who, id);
    return store.outputs(id);
}
}  // namespace hearth
