// The grid scheduler's service (core/scheduler.hpp). SQLite (core/sched_store)
// is the durable log; memory holds what the dispatch path needs without a
// scan of the database: the jobs that can still run (their lazy task queues,
// core/sched_job), the attempts out at sites, the sites' leases and the
// tenants' usage. Every mutating call is one transaction; if it fails, the
// memory is rebuilt from the database, so the two never disagree.
#include "core/scheduler.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "core/content_store.hpp"
#include "core/error.hpp"
#include "core/safe_path.hpp"
#include "core/sched_job.hpp"
#include "core/sched_store.hpp"

namespace hearth {

namespace {

constexpr std::size_t k_max_task_page = 10'000;
constexpr std::size_t k_max_job_list = 10'000;
constexpr std::uint64_t k_no_end = std::numeric_limits<std::int64_t>::max();

// The tenants the grid knows and their shares. The grid file's tenant table
// ([[tenant]] name, share, max_running) is not in core/grid yet: until it
// is, every well-formed name is a tenant with share 1. This is the one place
// to switch when it lands.
struct TenantTerms {
    double share = 1;
    std::uint32_t max_running = 0;
};

bool is_tenant_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
}

std::optional<TenantTerms> tenant_terms(const Grid&, const std::string& name) {
    if (!is_tenant_name(name)) return std::nullopt;
    return TenantTerms{};
}

// Exponential decay with a half-life: the rule of decay_usage in
// core/sched_policy, whose definition lands with the policy; call it then.
double decayed(double usage, double dt_s, double half_life_s) {
    if (half_life_s <= 0 || dt_s <= 0) return usage;
    return usage * std::exp2(-dt_s / half_life_s);
}

std::string job_id(std::uint64_t seq) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "j-%06llu", static_cast<unsigned long long>(seq));
    return buf;
}

// The submission as stored and as the wire reader checks it. The writer
// emits "name": "" for no label, which the reader refuses: leave it out.
nlohmann::json submit_json(const JobSubmit& s) {
    nlohmann::json j = to_json(s);
    if (s.name.empty()) j.erase("name");
    return j;
}

void make_state_dir(const std::string& dir) {
    std::error_code ec;
    const auto parent = std::filesystem::path(dir).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error("cannot create the state directory " + dir + ": " + std::strerror(errno) +
                    "; create it or give --state a writable place");
}

// An attempt out at a site.
struct Running {
    std::string site, run, node, tenant;
    std::int64_t started_ms = 0;
    std::uint32_t failures = 0;  // of its task before it, against the job's retries
};

struct SiteState {
    std::string run;
    std::int64_t lease_expires_ms = 0;
    std::set<AttemptKey> running;
    std::set<std::string> sent;  // jobs whose JobRuntime this run of the site has
};

struct Usage {
    double slot_s = 0;
    std::int64_t updated_ms = 0;
};

AttemptState ended_state(AttemptStatus s) {
    if (s == AttemptStatus::ok) return AttemptState::ok;
    if (s == AttemptStatus::cancelled) return AttemptState::cancelled;
    return AttemptState::failed;
}

Error no_such_job(const std::string& id) {
    return not_found_error("no job '" + id.substr(0, 64) + "'; list yours with 'hearth jobs'");
}

}  // namespace

struct Scheduler::Impl {
    Impl(const std::string& dir, Grid g, const Clock& c, PolicyFn p, SchedulerSettings s)
        : grid(std::move(g)),
          clock(c),
          policy(std::move(p)),
          settings(s),
          blobs((make_state_dir(dir), dir)),
          store(dir + "/queue.db") {
        load();
    }

    Grid grid;
    const Clock& clock;
    PolicyFn policy;
    SchedulerSettings settings;
    ContentStore blobs;
    SchedStore store;

    std::map<std::string, std::unique_ptr<SchedJob>> jobs;  // active, or with attempts out
    std::map<AttemptKey, Running> running;
    std::map<std::string, SiteState> sites;
    std::map<std::string, Usage> usage;
    std::uint64_t last_seq = 0;
    std::set<std::string> dirty_jobs, dirty_tenants, dirty_sites;

    // ---- memory <-> database ----

    std::unique_ptr<SchedJob> build(const JobRow& row) {
        JobSubmit spec;
        try {
            spec = job_submit_from_json(nlohmann::json::parse(row.spec));
        } catch (const std::exception& e) {
            throw Error("queue: the spec of job " + row.id + " is unreadable (" + e.what() +
                        "); restore queue.db from a backup");
        }
        auto items = make_submit_items(
            spec, spec.split == SplitKind::items ? blobs.path(spec.items_sha256) : "");
        return std::make_unique<SchedJob>(row, std::move(spec), std::move(items));
    }

    // The job in the cache, loaded from the database when absent (it stays
    // until evict()). Null when no such job exists.
    SchedJob* load_job(const std::string& id, bool with_tasks = true) {
        auto it = jobs.find(id);
        if (it != jobs.end()) return it->second.get();
        auto row = store.job(id);
        if (!row) return nullptr;
        SchedJob* j = jobs.emplace(id, build(*row)).first->second.get();
        if (with_tasks) restore_tasks(*j);
        return j;
    }

    // The tasks off the cursor's path that wait again (a task marked running
    // whose attempt is no longer out waits too).
    void restore_tasks(SchedJob& j) {
        const std::string& id = j.row.id;
        for (const TaskRow& t : store.task_rows(id, 0, k_no_end)) {
            bool waiting = t.state == TaskRowState::queued;
            if (t.state == TaskRowState::running) {
                auto it = running.lower_bound(AttemptKey{id, t.task, 0});
                waiting = it == running.end() || it->first.job != id || it->first.task != t.task;
            }
            if (waiting) j.requeue(t.task, Requeued{t.attempts, t.failures});
        }
    }

    void load() {
        jobs.clear();
        running.clear();
        sites.clear();
        usage.clear();
        dirty_jobs.clear();
        dirty_tenants.clear();
        dirty_sites.clear();
        last_seq = store.max_seq();
        const std::int64_t now = clock.unix_ms();
        for (const JobRow& row : store.active_jobs()) jobs.emplace(row.id, build(row));
        // Sites get a fresh lease on a restart: the scheduler was away, not
        // they, and what they hold may still be delivered.
        for (const SiteRow& s : store.sites())
            sites[s.name] = SiteState{s.run, std::max(s.lease_expires_ms, now + settings.lease_ms), {}, {}};
        for (const AttemptRow& a : store.running_attempts()) {
            SchedJob* j = load_job(a.key.job, false);
            if (j == nullptr) continue;  // an attempt of no job: nothing to run it for
            std::uint32_t failures = 0;
            if (a.key.attempt > 1)
                if (auto t = store.task(a.key.job, a.key.task)) failures = t->failures;
            running[a.key] = Running{a.site, a.run, a.node, j->row.tenant, a.started_ms, failures};
            auto [it, fresh] = sites.try_emplace(a.site);
            if (fresh) it->second.lease_expires_ms = now + settings.lease_ms;
            it->second.running.insert(a.key);
            ++j->running;
        }
        for (auto& [id, j] : jobs) restore_tasks(*j);
        for (const UsageRow& u : store.usage()) usage[u.tenant] = Usage{u.usage_slot_s, u.updated_ms};
    }

    void flush() {
        for (const std::string& id : dirty_jobs)
            if (auto it = jobs.find(id); it != jobs.end()) store.update_job(it->second->row);
        for (const std::string& t : dirty_tenants)
            store.put_usage(UsageRow{t, usage[t].slot_s, usage[t].updated_ms});
        for (const std::string& s : dirty_sites)
            store.put_site(SiteRow{s, sites[s].run, sites[s].lease_expires_ms});
        dirty_jobs.clear();
        dirty_tenants.clear();
        dirty_sites.clear();
    }

    // Final jobs with nothing out leave memory: the database answers for them.
    void evict() {
        for (auto it = jobs.begin(); it != jobs.end();) {
            if (is_final(it->second->row.state) && it->second->running == 0) it = jobs.erase(it);
            else ++it;
        }
    }

    // Runs f in one transaction. On any failure the transaction is rolled
    // back and memory rebuilt from the database, so a refused or failed call
    // changes nothing.
    template <class F>
    auto in_transaction(F&& f) {
        try {
            SchedStore::Transaction t(store);
            auto result = f();
            flush();
            t.commit();
            evict();
            return result;
        } catch (...) {
            try {
                load();
            } catch (...) {
                // The original error says more; the next call reloads again.
            }
            throw;
        }
    }

    // ---- roles ----

    static void check_reader(const Role& who) {
        if (who.kind == RoleKind::facility)
            throw forbidden_error("a facility token manages heat, not jobs; use a tenant or "
                                  "operator token");
    }
    static bool may_see(const Role& who, const std::string& tenant) {
        return who.kind == RoleKind::operator_ || (who.kind == RoleKind::tenant && who.scope == tenant);
    }
    // The job's row if the caller may see it; otherwise 404, as if absent.
    JobRow visible(const Role& who, const std::string& id) {
        check_reader(who);
        if (!is_safe_name(id)) throw no_such_job(id);
        std::optional<JobRow> row;
        if (auto it = jobs.find(id); it != jobs.end()) row = it->second->row;
        else row = store.job(id);
        if (!row || !may_see(who, row->tenant)) throw no_such_job(id);
        return *row;
    }

    JobInfo info(const JobRow& row) {
        JobInfo i;
        JobSubmit spec;
        std::uint32_t out = 0;
        if (auto it = jobs.find(row.id); it != jobs.end()) {
            spec = it->second->spec();
            out = it->second->running;
        } else {
            spec = job_submit_from_json(nlohmann::json::parse(row.spec));
        }
        i.id = row.id;
        i.tenant = row.tenant;
        i.name = row.name;
        i.state = row.state;
        i.priority = row.priority;
        i.urgent = spec.urgent;
        i.deadline_ms = spec.deadline_ms;
        i.split = to_string(spec.split);
        i.split_text = spec.split_text;
        i.chunk = spec.chunk;
        i.command = spec.command;
        i.collect = spec.collect;
        i.total = row.task_count;
        i.committed = row.done;
        i.failed = row.failed;
        i.running = out;
        i.submitted_ms = row.created_ms;
        i.started_ms = row.started_ms;
        i.finished_ms = row.finished_ms;
        i.energy_uj = row.energy_uj;
        i.energy_estimated = row.energy_estimated;
        return i;
    }

    // ---- task bookkeeping (inside a transaction) ----

    void charge(const std::string& tenant, double slot_s, std::int64_t now) {
        Usage& u = usage[tenant];
        const double dt_s = static_cast<double>(now - u.updated_ms) / 1000.0;
        u.slot_s = decayed(u.slot_s, dt_s, settings.usage_half_life_s) + std::max(0.0, slot_s);
        u.updated_ms = now;
        dirty_tenants.insert(tenant);
    }

    void requeue(SchedJob& j, std::uint64_t task, Requeued r) {
        j.requeue(task, r);
        store.put_task(TaskRow{j.row.id, task, TaskRowState::queued, r.last_attempt, r.failures});
    }

    // The task of an attempt that ended without committing it: it waits
    // again, or fails for good once failures exceed the job's retries. A
    // task committed meanwhile by another attempt needs nothing.
    void release(SchedJob& j, const AttemptKey& k, std::uint32_t failures) {
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

    void record_commit(SchedJob& j, const AttemptResult& r) {
        ++j.row.done;
        j.row.done_wall_ms += r.wall_ms;
        for (const BlobRef& b : r.outputs)
            store.insert_output(j.row.id, r.key.attempt, OutputInfo{b.name, b.sha256, b.size, b.mode, r.key.task});
        dirty_jobs.insert(j.row.id);
    }

    void add_energy(SchedJob& j, const AttemptResult& r) {
        j.row.energy_uj += r.energy_uj;
        if (r.energy_state == EnergyState::estimated) j.row.energy_estimated = true;
        dirty_jobs.insert(j.row.id);
    }

    // A job whose every task is committed or failed for good is over.
    void settle(SchedJob& j, std::int64_t now) {
        if (is_final(j.row.state) || j.row.done + j.row.failed < j.row.task_count) return;
        j.row.state = j.row.failed > 0 ? JobState::failed : JobState::finished;
        j.row.finished_ms = now;
        dirty_jobs.insert(j.row.id);
    }

    // Takes an attempt out of the running set; the job stays cached.
    std::pair<Running, SchedJob*> take_running(std::map<AttemptKey, Running>::iterator it) {
        Running ru = std::move(it->second);
        const AttemptKey k = it->first;
        running.erase(it);
        sites[ru.site].running.erase(k);
        SchedJob* j = load_job(k.job);
        if (j != nullptr && j->running > 0) --j->running;
        return {std::move(ru), j};
    }

    // Lost with its node, or its site's lease lapsed: not a failure.
    void drop_attempt(std::map<AttemptKey, Running>::iterator it, AttemptState why,
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

    // An output the site says it uploaded must be in the content store
    // before the task commits: otherwise the user could never fetch it.
    std::string missing_output(const AttemptResult& r) const {
        for (const BlobRef& b : r.outputs)
            if (!blobs.has(b.sha256))
                return "output '" + b.name + "' (sha256 " + b.sha256 +
                       ") was never uploaded; the site must PUT /v1/blobs/SHA256 before reporting";
        return "";
    }

    void on_result(const std::string& site, const AttemptResult& r, std::int64_t now) {
        auto it = running.find(r.key);
        if (it == running.end() || it->second.site != site) {
            on_late_result(r, now);
            return;
        }
        const AttemptKey k = r.key;
        auto [ru, jp] = take_running(it);
        AttemptStatus status = r.status;
        std::string reason = r.reason;
        if (status == AttemptStatus::ok) {
            reason = missing_output(r);
            if (!reason.empty()) status = AttemptStatus::collect_failed;
        }
        AttemptRow a{k, ru.site, ru.run, ru.node, ended_state(status), ru.started_ms, now,
                     r.exit_code, r.wall_ms, reason, r.energy_uj,
                     r.energy_state == EnergyState::estimated, r.overridden};
        store.end_attempt(a);
        if (!r.log.empty()) store.put_log(k, r.log);
        const double slot_s = r.wall_ms > 0 ? static_cast<double>(r.wall_ms) / 1000.0
                                            : static_cast<double>(now - ru.started_ms) / 1000.0;
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
            release(j, k, ru.failures + (failure ? 1 : 0));
        }
        settle(j, now);
    }

    // A result of an attempt no longer out: a duplicate of one recorded
    // already (ignored), or the late result of an attempt that was lost or
    // lapsed, whose success still commits the task if no other did.
    void on_late_result(const AttemptResult& r, std::int64_t now) {
        auto row = store.attempt(r.key);
        if (!row || (row->state != AttemptState::lost && row->state != AttemptState::lapsed)) return;
        if (r.status != AttemptStatus::ok || !missing_output(r).empty()) {
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

    // ---- the dispatch path ----

    PolicyNode policy_node(const NodeReport& n) const {
        PolicyNode p;
        p.cap.slots = n.slots;
        p.cap.allowed = n.heat.known ? std::min(n.heat.allowed, n.slots) : n.slots;
        p.cap.waste = n.heat.known ? static_cast<double>(n.heat.waste_mk) / 1000.0 : 0.0;
        p.cap.usable = n.up;
        // The site asks for `want` attempts there: the slots beyond it count
        // as busy, so the policy offers no more than the site will start.
        const std::uint32_t room = p.cap.allowed > n.running ? p.cap.allowed - n.running : 0;
        p.busy = n.running + (n.want < room ? room - n.want : 0);
        p.open = n.up && n.want > 0;
        return p;
    }

    void grant(const std::string& site, const WorkRequest& r, WorkReply& reply, std::int64_t now) {
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
                    decayed(u.slot_s, static_cast<double>(now - u.updated_ms) / 1000.0, settings.usage_half_life_s),
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
            in.jobs.push_back(p);
            order.push_back(&j);
        }
        bool any_open = false;
        for (const NodeReport& n : r.nodes) {
            in.nodes.push_back(policy_node(n));
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
                reply.tasks.push_back(TaskGrant{k, node, j.argv(t.task, t.attempt), g.overridden});
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
                                            j.spec().stage, j.spec().urgent});
        }
    }

    // Attempts the site should stop: those of jobs that are over (cancelled,
    // or finished while a duplicate ran), and held ones whose task is
    // committed or whose job is gone.
    std::vector<AttemptKey> cancels(const std::string& site, const WorkRequest& r) {
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

    WorkReply work(const std::string& site, const WorkRequest& r) {
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
            return reply;
        });
    }

    void tick() {
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

    // ---- clients ----

    JobInfo submit(const Role& who, const JobSubmit& given) {
        check_reader(who);
        JobSubmit s = given;
        if (who.kind == RoleKind::tenant) {
            if (s.tenant.empty()) s.tenant = who.scope;
            if (s.tenant != who.scope)
                throw forbidden_error("a tenant token submits as its own tenant ('" + who.scope +
                                      "') only; leave 'tenant' out or use an operator token");
        } else if (s.tenant.empty()) {
            throw usage_error("'tenant' is missing: an operator submits on a tenant's behalf; name the tenant");
        }
        if (!tenant_terms(grid, s.tenant))
            throw usage_error("unknown tenant '" + s.tenant.substr(0, 64) +
                              "': a tenant's name is 1-64 of a-z, 0-9, '_' and '-'");
        // The wire reader is the one definition of a valid submission:
        // ranges, sizes, names (core/jobs_api).
        const nlohmann::json spec_json = submit_json(s);
        s = job_submit_from_json(spec_json);
        const std::string spec_text = spec_json.dump();
        if (spec_text.size() > k_max_spec_bytes)
            throw usage_error("the job's spec is " + std::to_string(spec_text.size()) + " bytes, over the " +
                              std::to_string(k_max_spec_bytes) +
                              " allowed; stage long argument lists as a file instead");
        for (const std::string& c : s.collect) check_relative_path(c, "'collect'");
        for (const BlobRef& b : s.stage)
            if (!blobs.has(b.sha256))
                throw usage_error("staged file '" + b.name + "' (sha256 " + b.sha256 +
                                  ") is not in the content store; upload it first (PUT /v1/blobs/SHA256)");
        if (s.split == SplitKind::items && !blobs.has(s.items_sha256))
            throw usage_error("the items file (sha256 " + s.items_sha256 +
                              ") is not in the content store; upload it first (PUT /v1/blobs/SHA256)");
        JobRow row;
        row.tenant = s.tenant;
        row.name = s.name;
        row.spec = spec_text;
        row.priority = s.priority;
        row.created_ms = clock.unix_ms();
        // Parses the range and the command template: bad ones throw here,
        // before anything is written.
        auto job = std::make_unique<SchedJob>(
            row, s, make_submit_items(s, s.split == SplitKind::items ? blobs.path(s.items_sha256) : ""));
        job->row.task_count = job->planned_tasks();
        if (job->row.task_count > settings.max_tasks_per_job)
            throw usage_error("the job splits into " + std::to_string(job->row.task_count) +
                              " tasks, over the " + std::to_string(settings.max_tasks_per_job) +
                              " allowed; raise 'chunk' to put more items in a task");
        return in_transaction([&] {
            const std::uint64_t seq = last_seq + 1;
            job->row.seq = seq;
            job->row.id = job_id(seq);
            store.insert_job(job->row);
            last_seq = seq;
            const std::string id = job->row.id;
            jobs.emplace(id, std::move(job));
            return info(jobs.at(id)->row);
        });
    }

    std::vector<JobInfo> list(const Role& who, const JobFilter& f) {
        check_reader(who);
        std::optional<std::string> tenant = f.tenant;
        if (who.kind == RoleKind::tenant) {
            if (tenant && *tenant != who.scope) return {};  // others' jobs do not exist for it
            tenant = who.scope;
        }
        std::vector<JobInfo> out;
        for (const JobRow& row : store.jobs(tenant, f.state, std::min(f.limit, k_max_job_list)))
            out.push_back(info(row));
        return out;
    }

    JobInfo cancel(const Role& who, const std::string& id) {
        visible(who, id);
        const std::int64_t now = clock.unix_ms();
        return in_transaction([&] {
            SchedJob& j = *load_job(id);
            if (j.row.state == JobState::finished || j.row.state == JobState::failed)
                throw conflict_error("job " + id + " is already " + to_string(j.row.state) +
                                     "; there is nothing to cancel");
            if (j.row.state != JobState::cancelled) {
                j.row.state = JobState::cancelled;
                j.row.finished_ms = now;
                dirty_jobs.insert(id);
            }
            return info(j.row);
        });
    }

    JobInfo resume(const Role& who, const std::string& id) {
        visible(who, id);
        const std::int64_t now = clock.unix_ms();
        return in_transaction([&] {
            SchedJob& j = *load_job(id);
            if (j.row.state == JobState::finished)
                throw conflict_error("job " + id + " finished with every task done; there is nothing to resume");
            // Failed tasks get a fresh set of retries.
            for (const TaskRow& t : store.task_rows(id, 0, k_no_end))
                if (t.state == TaskRowState::failed) requeue(j, t.task, Requeued{t.attempts, 0});
            j.row.failed = 0;
            if (is_final(j.row.state)) {
                j.row.state = j.row.started_ms > 0 ? JobState::running : JobState::queued;
                j.row.finished_ms = 0;
            }
            dirty_jobs.insert(id);
            settle(j, now);
            return info(j.row);
        });
    }

    // A temporary view of a job for reads: the cached one, or one built from
    // the database that is not kept.
    struct JobView {
        SchedJob* job = nullptr;
        std::unique_ptr<SchedJob> owned;
    };
    JobView view(const JobRow& row) {
        JobView v;
        if (auto it = jobs.find(row.id); it != jobs.end()) {
            v.job = it->second.get();
        } else {
            v.owned = build(row);
            v.job = v.owned.get();
        }
        return v;
    }

    std::vector<TaskInfo> task_list(const Role& who, const std::string& id, std::uint64_t from,
                                    std::size_t limit) {
        const JobRow row = visible(who, id);
        if (from >= row.task_count) return {};
        const std::uint64_t to = from + std::min<std::uint64_t>({limit, k_max_task_page, row.task_count - from});
        JobView v = view(row);
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
            else ti.state = TaskState::waiting;
            out.push_back(std::move(ti));
        }
        return out;
    }

    std::string task_log(const Role& who, const std::string& id, std::uint64_t task,
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

    std::vector<OutputInfo> outputs(const Role& who, const std::string& id) {
        visible(who, id);
        return store.outputs(id);
    }
};

Scheduler::Scheduler(const std::string& state_dir, Grid grid, const Clock& clock, PolicyFn policy,
                     SchedulerSettings settings)
    : m(std::make_unique<Impl>(state_dir, std::move(grid), clock, std::move(policy), settings)) {}

Scheduler::~Scheduler() = default;

JobInfo Scheduler::submit(const Role& who, const JobSubmit& s) { return m->submit(who, s); }
std::vector<JobInfo> Scheduler::jobs(const Role& who, const JobFilter& f) { return m->list(who, f); }
JobInfo Scheduler::job(const Role& who, const std::string& id) { return m->info(m->visible(who, id)); }
JobInfo Scheduler::cancel(const Role& who, const std::string& id) { return m->cancel(who, id); }
JobInfo Scheduler::resume(const Role& who, const std::string& id) { return m->resume(who, id); }
std::vector<TaskInfo> Scheduler::tasks(const Role& who, const std::string& id, std::uint64_t from,
                                       std::size_t limit) {
    return m->task_list(who, id, from, limit);
}
std::string Scheduler::task_log(const Role& who, const std::string& id, std::uint64_t task,
                                std::optional<std::uint32_t> attempt) {
    return m->task_log(who, id, task, attempt);
}
std::vector<OutputInfo> Scheduler::outputs(const Role& who, const std::string& id) {
    return m->outputs(who, id);
}
void Scheduler::put_blob(const std::string& sha256, const std::string& data) { m->blobs.put(sha256, data); }
std::string Scheduler::get_blob(const std::string& sha256) const { return m->blobs.get(sha256); }
std::string Scheduler::blob_path(const std::string& sha256) const { return m->blobs.path(sha256); }
bool Scheduler::has_blob(const std::string& sha256) const { return m->blobs.has(sha256); }
WorkReply Scheduler::work(const std::string& site, const WorkRequest& r) { return m->work(site, r); }
void Scheduler::tick() { m->tick(); }
const Grid& Scheduler::grid() const { return m->grid; }

}  // namespace hearth
