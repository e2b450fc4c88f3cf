// The scheduler's side of POST /v1/sites/NAME/work (core/site_api.hpp):
// results committed exactly once, lost and lapsed attempts requeued without
// a retry, leases, the policy's input built from memory, and grants expanded
// lazily into argv. core/sched_impl.hpp says how the state is held.
#include <algorithm>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/output_owner.hpp"
#include "core/policy_input.hpp"
#include "core/sched_impl.hpp"
#include "core/sched_tenants.hpp"
#include "core/task_memory.hpp"

namespace hearth {

namespace {

AttemptState ended_state(AttemptStatus s) {
    if (s == AttemptStatus::ok) return AttemptState::ok;
    if (s == AttemptStatus::cancelled) return AttemptState::cancelled;
    return AttemptState::failed;
}

}  // namespace

void Scheduler::Impl::charge(const std::string& tenant, double slot_s, std::int64_t now) {
    Usage& u = usage[tenant];
    const double dt_s = static_cast<double>(now - u.updated_ms) / 1000.0;
    u.slot_s = decay_usage(u.slot_s, dt_s, settings.usage_half_life_s) + std::max(0.0, slot_s);
    u.updated_ms = now;
    dirty_tenants.insert(tenant);
}

void Scheduler::Impl::requeue(SchedJob& j, std::uint64_t task, Requeued r) {
    j.requeue(task, r);
    store.put_task(TaskRow{j.row.id, task, TaskRowState::queued, r.last_attempt, r.failures});
}

void Scheduler::Impl::release(SchedJob& j, const AttemptKey& k, std::uint32_t failures) {
    dirty_jobs.insert(j.row.id);
    if (store.is_committed(k.job, k.task)) {
        if (k.attempt > 1) store.delete_task(k.job, k.task);
        return;
    }
    if (failures > j.spec().retries) {
        store.put_task(TaskRow{k.job, k.task, TaskRowState::failed, k.attempt, failures});
        ++j.row.failed;
        return;
    }
    requeue(j, k.task, Requeued{k.attempt, failures});
}

void Scheduler::Impl::record_commit(SchedJob& j, const AttemptResult& r) {
    ++j.row.done;
    j.row.done_wall_ms += r.wall_ms;
    for (const BlobRef& b : r.outputs)
        store.insert_output(j.row.id, r.key.attempt, OutputInfo{b.name, b.sha256, b.size, b.mode, r.key.task});
    dirty_jobs.insert(j.row.id);
}

void Scheduler::Impl::add_energy(SchedJob& j, const AttemptResult& r) {
    j.row.energy_uj += r.energy_uj;
    if (r.energy_state == EnergyState::estimated) j.row.energy_estimated = true;
    dirty_jobs.insert(j.row.id);
}

void Scheduler::Impl::settle(SchedJob& j, std::int64_t now) {
    if (is_final(j.row.state) || j.row.done + j.row.failed < j.row.task_count) return;
    j.row.state = j.row.failed > 0 ? JobState::failed : JobState::finished;
    j.row.finished_ms = now;
    dirty_jobs.insert(j.row.id);
}

std::pair<Scheduler::Impl::Running, SchedJob*> Scheduler::Impl::take_running(std::map<AttemptKey, Running>::iterator it) {
    Running ru = std::move(it->second);
    const AttemptKey k = it->first;
    running.erase(it);
    sites[ru.site].running.erase(k);
    SchedJob* j = load_job(k.job);
    if (j != nullptr && j->running > 0) --j->running;
    return {std::move(ru), j};
}

void Scheduler::Impl::drop_attempt(std::map<AttemptKey, Running>::iterator it, AttemptState why,
                  const std::string& reason, std::int64_t now) {
    const AttemptKey k = it->first;
    auto [ru, j] = take_running(it);
    AttemptRow a{k, ru.site, ru.run, ru.node, why, ru.started_ms, now, 0, 0, reason, 0, false, false};
    store.end_attempt(a);
    charge(ru.tenant, static_cast<double>(now - ru.started_ms) / 1000.0, now);
    if (j == nullptr) return;
    release(*j, k, ru.failures);
    settle(*j, now);
}

std::string Scheduler::Impl::missing_output(const AttemptResult& r) const {
    for (const BlobRef& b : r.outputs)
        if (!blobs.has(b.sha256))
            return "output '" + b.name + "' (sha256 " + b.sha256 +
                   ") was never uploaded; the site must PUT /v1/blobs/SHA256 before reporting";
    return "";
}

std::string Scheduler::Impl::output_clash(const AttemptResult& r) {
    for (const BlobRef& b : r.outputs) {
        std::string why =
            hearth::output_clash(b.name, store.output_owner(r.key.job, b.name), r.key.task);
        if (!why.empty()) return why;
    }
    return "";
}

void Scheduler::Impl::on_result(const std::string& site, const AttemptResult& r, std::int64_t now) {
    auto it = running.find(r.key);
    if (it == running.end() || it->second.site != site) {
        on_late_result(r, now);
        return;
    }
    const AttemptKey k = r.key;
    auto [ru, jp] = take_running(it);
    AttemptStatus status = r.status;
    std::string reason = r.reason;
    bool for_good = false;  // a retry would fail the same way
    if (status == AttemptStatus::ok) {
        reason = missing_output(r);
        if (reason.empty()) {
            reason = output_clash(r);
            for_good = !reason.empty();
        }
        if (!reason.empty()) status = AttemptStatus::collect_failed;
    }
    AttemptRow a{k, ru.site, ru.run, ru.node, ended_state(status), ru.started_ms, now,
                 r.exit_code, r.wall_ms, reason, r.energy_uj,
                 r.energy_state == EnergyState::estimated, r.overridden};
    store.end_attempt(a);
    if (!r.log.empty()) store.put_log(k, r.log);
    // The site measured what ran: a prefetched attempt handed back before
    // it started held no core (wall_ms 0), whatever it waited in a queue.
    const double slot_s = static_cast<double>(r.wall_ms) / 1000.0;
    charge(ru.tenant, slot_s, now);
    if (jp == nullptr) return;
    SchedJob& j = *jp;
    add_energy(j, r);
    if (status == AttemptStatus::ok) {
        // The primary key of commits decides: the first success is the one.
        if (store.commit_task(k, now)) record_commit(j, r);
        if (k.attempt > 1) store.delete_task(k.job, k.task);
    } else {
        // Stopped on request: not the task's fault, not a retry.
        const bool failure = status != AttemptStatus::cancelled;
        release(j, k, for_good ? j.spec().retries + 1 : ru.failures + (failure ? 1 : 0));
    }
    settle(j, now);
}

void Scheduler::Impl::on_late_result(const AttemptResult& r, std::int64_t now) {
    auto row = store.attempt(r.key);
    if (!row || (row->state != AttemptState::lost && row->state != AttemptState::lapsed)) return;
    if (r.status != AttemptStatus::ok || !missing_output(r).empty() || !output_clash(r).empty()) {
        if (!r.log.empty()) store.put_log(r.key, r.log);
        return;
    }
    SchedJob* jp = load_job(r.key.job);
    if (jp == nullptr) return;
    SchedJob& j = *jp;
    row->state = AttemptState::ok;
    row->ended_ms = now;
    row->exit_code = r.exit_code;
    row->wall_ms = r.wall_ms;
    row->reason = "late: delivered after its lease lapsed";
    row->energy_uj = r.energy_uj;
    row->energy_estimated = r.energy_state == EnergyState::estimated;
    store.end_attempt(*row);
    if (!r.log.empty()) store.put_log(r.key, r.log);
    add_energy(j, r);
    if (!store.commit_task(r.key, now)) return;
    record_commit(j, r);
    // The task's other life ends: waiting again, or failed for good.
    auto& waiting = j.requeued();
    if (auto w = waiting.find(r.key.task); w != waiting.end()) {
        waiting.erase(w);
        store.delete_task(r.key.job, r.key.task);
    } else if (auto t = store.task(r.key.job, r.key.task); t && t->state == TaskRowState::failed) {
        if (j.row.failed > 0) --j.row.failed;
        store.delete_task(r.key.job, r.key.task);
    }
    settle(j, now);
}

void Scheduler::Impl::grant(const std::string& site, const WorkRequest& r, WorkReply& reply, std::int64_t now) {
    PolicyInput in;
    in.now_s = static_cast<double>(now) / 1000.0;
    std::vector<SchedJob*> order;
    std::map<std::string, std::uint32_t> tenant_index;
    bool any_queued = false;
    for (auto& [id, jp] : jobs) {
        SchedJob& j = *jp;
        const std::uint64_t queued = j.queued();
        // Jobs with attempts out count against their tenant's share too.
        if (queued == 0 && j.running == 0) continue;
        any_queued = any_queued || queued > 0;
        auto [ti, fresh] = tenant_index.try_emplace(j.row.tenant, static_cast<std::uint32_t>(in.tenants.size()));
        if (fresh) {
            const TenantTerms terms = tenant_terms(grid, j.row.tenant).value_or(TenantTerms{});
            const Usage u = usage.count(j.row.tenant) ? usage.at(j.row.tenant) : Usage{};
            in.tenants.push_back(PolicyTenant{
                j.row.tenant, terms.share,
                decay_usage(u.slot_s, static_cast<double>(now - u.updated_ms) / 1000.0, settings.usage_half_life_s),
                terms.max_running});
        }
        PolicyJob p;
        p.tenant = ti->second;
        p.priority = j.row.priority;
        p.seq = j.row.seq;
        p.urgent = j.spec().urgent;
        p.deadline_s = static_cast<double>(j.spec().deadline_ms) / 1000.0;
        p.queued = queued;
        p.running = j.running;
        p.task_s = j.task_s();
        // Running tasks are on average half done.
        p.remaining_s = 0.5 * static_cast<double>(j.running) * p.task_s;
        p.cores_per_task = j.spec().cores_per_task;
        p.mem_per_task = j.spec().mem_per_task;
        p.gpus_per_task = j.spec().gpus_per_task;
        in.jobs.push_back(p);
        order.push_back(&j);
    }
    // Memory and GPUs granted to the attempts this site holds, per node.
    struct Reserved {
        std::uint64_t mem = 0;
        std::uint32_t gpus = 0;
    };
    std::map<std::string, Reserved> reserved;
    for (const AttemptKey& k : sites[site].running) {
        auto ru = running.find(k);
        auto jo = jobs.find(k.job);
        if (ru == running.end() || jo == jobs.end()) continue;
        Reserved& rs = reserved[ru->second.node];
        rs.mem += jo->second->spec().mem_per_task;
        rs.gpus += jo->second->spec().gpus_per_task;
    }
    bool any_open = false;
    for (const NodeReport& n : r.nodes) {
        auto m = reserved.find(n.node);
        const Reserved rs = m == reserved.end() ? Reserved{} : m->second;
        in.nodes.push_back(policy_node(n, rs.mem, rs.gpus));
        any_open = any_open || in.nodes.back().open;
    }
    if (!any_queued || !any_open) return;

    SiteState& st = sites[site];
    std::uint32_t budget = settings.max_grants_per_reply;
    std::set<std::string> granted;
    for (const Grant& g : policy(in)) {
        if (g.job >= order.size() || g.node >= r.nodes.size())
            throw Error("the scheduling policy granted job " + std::to_string(g.job) + " on node " +
                        std::to_string(g.node) + ", outside its input (a Hearth bug: please report it)");
        SchedJob& j = *order[g.job];
        const std::string& node = r.nodes[g.node].node;
        std::uint64_t count = std::min<std::uint64_t>({g.count, budget, j.queued()});
        for (std::uint64_t c = 0; c < count; ++c) {
            const NextTask t = j.take();
            const AttemptKey k{j.row.id, t.task, t.attempt};
            store.insert_attempt(AttemptRow{k, site, r.run, node, AttemptState::running, now, 0, 0, 0,
                                            "", 0, false, g.overridden});
            if (t.requeued)
                store.put_task(TaskRow{k.job, k.task, TaskRowState::running, t.attempt, t.failures});
            running.emplace(k, Running{site, r.run, node, j.row.tenant, now, t.failures});
            st.running.insert(k);
            ++j.running;
            auto [first, last] = j.first_last(t.task);
            reply.tasks.push_back(TaskGrant{k, node, j.argv(t.task, t.attempt), g.overridden,
                                            std::move(first), std::move(last)});
        }
        if (count == 0) continue;
        budget -= static_cast<std::uint32_t>(count);
        if (j.row.state == JobState::queued) {
            j.row.state = JobState::running;
            j.row.started_ms = now;
        }
        dirty_jobs.insert(j.row.id);
        granted.insert(j.row.id);
        if (budget == 0) break;
    }
    for (const std::string& id : granted) {
        if (!st.sent.insert(id).second) continue;
        const SchedJob& j = *jobs.at(id);
        reply.jobs.push_back(JobRuntime{id, j.row.tenant, j.spec().timeout_ms, j.spec().collect,
                                        j.spec().stage, j.spec().urgent, j.spec().env,
                                        j.spec().cores_per_task, j.spec().mem_per_task,
                                        j.spec().gpus_per_task});
    }
}

std::vector<AttemptKey> Scheduler::Impl::cancels(const std::string& site, const WorkRequest& r) {
    std::set<AttemptKey> out;
    for (const auto& [id, jp] : jobs) {
        if (!is_final(jp->row.state) || jp->running == 0) continue;
        for (auto it = running.lower_bound(AttemptKey{id, 0, 0}); it != running.end() && it->first.job == id; ++it)
            if (it->second.site == site) out.insert(it->first);
    }
    for (const AttemptKey& k : r.held) {
        if (running.count(k)) continue;
        auto it = jobs.find(k.job);
        const bool over = it == jobs.end() ? true : is_final(it->second->row.state);
        if (over || store.is_committed(k.job, k.task)) out.insert(k);
    }
    return {out.begin(), out.end()};
}

WorkReply Scheduler::Impl::work(const std::string& site, const WorkRequest& r) {
    if (r.site != site)
        throw forbidden_error("this token is site '" + site + "''s but the request names site '" +
                              r.site.substr(0, 64) + "'; send each site's requests with its own token");
    if (grid.find_site(site) == nullptr)
        throw not_found_error("no site '" + site.substr(0, 64) +
                              "' in the grid file; add it there or fix 'hearth site --site'");
    for (const NodeReport& n : r.nodes) {
        const GridNode* g = grid.find_node(n.node);
        if (g == nullptr || g->site != site)
            throw usage_error("node '" + n.node.substr(0, 64) + "' is not a node of site '" + site +
                              "' in the grid file; report the site's own nodes only");
    }
    const std::int64_t now = clock.unix_ms();
    return in_transaction([&] {
        WorkReply reply;
        reply.lease_ms = settings.lease_ms;
        SiteState& st = sites[site];
        const bool relaunched = !st.run.empty() && st.run != r.run;
        if (st.run != r.run) {
            st.sent.clear();
            st.run = r.run;
        }
        st.lease_expires_ms = now + settings.lease_ms;
        dirty_sites.insert(site);
        for (const AttemptKey& k : r.lost) {
            auto it = running.find(k);
            if (it != running.end() && it->second.site == site)
                drop_attempt(it, AttemptState::lost, "lost with its node", now);
        }
        for (const AttemptResult& res : r.results) {
            on_result(site, res, now);
            ++reply.acked;
        }
        // The site holds only what it says it holds: an attempt it was
        // granted but neither holds nor reports died with a relaunch, or
        // never arrived (the reply granting it was lost on the way).
        // Requeuing one the site does have costs a rerun, never a second
        // commit.
        std::set<AttemptKey> kept(r.held.begin(), r.held.end());
        for (const AttemptResult& res : r.results) kept.insert(res.key);
        const std::set<AttemptKey> granted = st.running;
        for (const AttemptKey& k : granted) {
            if (kept.count(k)) continue;
            if (auto it = running.find(k); it != running.end())
                drop_attempt(it, AttemptState::lost,
                             relaunched ? "lost when the site relaunched"
                                        : "not held by the site (the reply granting it was lost)",
                             now);
        }
        reply.cancel = cancels(site, r);
        grant(site, r, reply, now);
        std::map<std::string, std::uint32_t> granted_on;
        // In cores, as the nodes' room is counted.
        for (const TaskGrant& g : reply.tasks) {
            auto jo = jobs.find(g.key.job);
            granted_on[g.node] += jo == jobs.end() ? 1 : jo->second->spec().cores_per_task;
        }
        st.rooms.clear();
        st.reported = r.nodes;
        st.last_ms = now;
        st.down.clear();
        for (const NodeReport& n : r.nodes) {
            if (!n.up) st.down.push_back(n.node);
            auto it = granted_on.find(n.node);
            st.rooms.push_back(node_room(n, it == granted_on.end() ? 0 : it->second));
        }
        return reply;
    });
}

bool Scheduler::Impl::held_for_heat(std::int64_t now) const {
    std::vector<NodeRoom> rooms;
    for (const auto& [name, st] : sites)
        if (st.lease_expires_ms >= now) rooms.insert(rooms.end(), st.rooms.begin(), st.rooms.end());
    return hearth::held_for_heat(rooms);
}

std::uint64_t Scheduler::Impl::waiting_for_heat(const SchedJob& j, std::int64_t now) const {
    if (is_final(j.row.state) || j.spec().urgent) return 0;
    const std::uint64_t queued = j.queued();
    return queued > 0 && held_for_heat(now) ? queued : 0;
}

std::string Scheduler::Impl::fits_nowhere(const SchedJob& j, std::int64_t now) const {
    const JobSubmit& s = j.spec();
    if (is_final(j.row.state) || j.queued() == 0 ||
        (s.cores_per_task <= 1 && s.mem_per_task == 0 && s.gpus_per_task == 0))
        return "";
    PolicyJob pj;
    pj.cores_per_task = s.cores_per_task;
    pj.mem_per_task = s.mem_per_task;
    pj.gpus_per_task = s.gpus_per_task;
    std::uint32_t most_gpus = 0;
    std::uint32_t most_cores = 0;
    std::uint64_t most_mem = 0;
    bool any = false;
    for (const auto& [name, st] : sites) {
        if (st.lease_expires_ms < now) continue;
        for (const NodeReport& n : st.reported) {
            if (!n.up) continue;
            any = true;
            PolicyNode pn;
            pn.cap.slots = n.slots;
            if (n.mem_total > 0) pn.mem_total = n.mem_total;
            pn.gpus = n.gpus.value_or(UINT32_MAX);
            if (task_fits_node(pj, pn)) return "";
            most_gpus = std::max(most_gpus, n.gpus.value_or(0));
            most_cores = std::max(most_cores, n.slots);
            most_mem = std::max(most_mem, n.mem_total);
        }
    }
    if (!any) return "";
    const auto mem = [](std::uint64_t b) { return format_byte_size(b / (1 << 20) << 20); };
    return "no node up can hold a task of " + std::to_string(s.cores_per_task) + " cores" +
           (s.mem_per_task ? " and " + mem(s.mem_per_task) : "") +
           (s.gpus_per_task ? " and " + std::to_string(s.gpus_per_task) + " GPUs" : "") +
           ": the largest has " + std::to_string(most_cores) + " cores" +
           (most_mem ? " and " + mem(most_mem) : "") +
           (s.gpus_per_task ? ", the most GPUs " + std::to_string(most_gpus) : "") +
           "; it waits for a node that can, or cancel it and submit smaller tasks";
}

void Scheduler::Impl::tick() {
    const std::int64_t now = clock.unix_ms();
    std::vector<std::string> lapsed;
    for (const auto& [name, st] : sites)
        if (st.lease_expires_ms < now && !st.running.empty()) lapsed.push_back(name);
    if (lapsed.empty()) return;
    in_transaction([&] {
        for (const std::string& name : lapsed) {
            SiteState& st = sites[name];
            const std::string reason = "site '" + name + "' was silent past its lease of " +
                                       std::to_string(settings.lease_ms) + " ms";
            const std::set<AttemptKey> out = st.running;
            for (const AttemptKey& k : out)
                if (auto it = running.find(k); it != running.end())
                    drop_attempt(it, AttemptState::lapsed, reason, now);
            st.sent.clear();
        }
        return 0;
    });
}
}  // namespace hearth
