// The grid scheduler's service (core/scheduler.hpp): construction and
// recovery, memory and database kept in step, roles, and the clients'
// changes (submit, cancel, resume). Sites are served in core/sched_dispatch,
// the clients' reads in core/sched_reads; core/sched_impl.hpp says how the
// state is held.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"
#include "core/safe_path.hpp"
#include "core/sched_impl.hpp"
#include "core/sched_tenants.hpp"
#include "core/task_memory.hpp"

namespace hearth {

namespace {

constexpr std::size_t k_max_job_list = 10'000;

std::string job_id(std::uint64_t seq) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "j-%06llu", static_cast<unsigned long long>(seq));
    return buf;
}

// The submission as stored and as the wire reader checks it. The writer
// emits "name": "" for no label, which the reader refuses: leave it out.
void make_state_dir(const std::string& dir) {
    std::error_code ec;
    const auto parent = std::filesystem::path(dir).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error("cannot create the state directory " + dir + ": " + std::strerror(errno) +
                    "; create it or give --state a writable place");
}

Error no_such_job(const std::string& id) {
    return not_found_error("no job '" + id.substr(0, 64) + "'; list yours with 'hearth jobs'");
}

}  // namespace

Scheduler::Impl::Impl(const std::string& dir, Grid g, const Clock& c, PolicyFn p, SchedulerSettings s)
    : grid(std::move(g)),
      clock(c),
      policy(std::move(p)),
      settings(s),
      blobs((make_state_dir(dir), dir)),
      store(dir + "/queue.db") {
    if (!policy) throw Error("the scheduler was given no policy (a Hearth bug: please report it)");
    if (settings.group_commit) {
        store.defer_sync();
        group = std::make_unique<GroupSync>(store.path() + "-wal");
    }
    load();
}

std::unique_ptr<SchedJob> Scheduler::Impl::build(const JobRow& row) {
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

SchedJob* Scheduler::Impl::load_job(const std::string& id, bool with_tasks) {
    auto it = jobs.find(id);
    if (it != jobs.end()) return it->second.get();
    auto row = store.job(id);
    if (!row) return nullptr;
    SchedJob* j = jobs.emplace(id, build(*row)).first->second.get();
    if (with_tasks) restore_tasks(*j);
    return j;
}

void Scheduler::Impl::restore_tasks(SchedJob& j) {
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

void Scheduler::Impl::load() {
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
        sites[s.name] = SiteState{
            s.run, std::max(s.lease_expires_ms, now + settings.lease_ms), {}, {}, {}, 0, {}, {}};
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

void Scheduler::Impl::flush() {
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

void Scheduler::Impl::evict() {
    for (auto it = jobs.begin(); it != jobs.end();) {
        if (is_final(it->second->row.state) && it->second->running == 0) it = jobs.erase(it);
        else ++it;
    }
}

void Scheduler::Impl::check_reader(const Role& who) {
    if (who.kind == RoleKind::facility)
        throw forbidden_error("a facility token manages heat, not jobs; use a tenant or "
                              "operator token");
}

bool Scheduler::Impl::may_see(const Role& who, const std::string& tenant) {
    return who.kind == RoleKind::operator_ || (who.kind == RoleKind::tenant && who.scope == tenant);
}

JobRow Scheduler::Impl::visible(const Role& who, const std::string& id) {
    check_reader(who);
    if (!is_safe_name(id)) throw no_such_job(id);
    std::optional<JobRow> row;
    if (auto it = jobs.find(id); it != jobs.end()) row = it->second->row;
    else row = store.job(id);
    if (!row || !may_see(who, row->tenant)) throw no_such_job(id);
    return *row;
}

JobInfo Scheduler::Impl::info(const JobRow& row) {
    JobInfo i;
    JobSubmit spec;
    std::uint32_t out = 0;
    if (auto it = jobs.find(row.id); it != jobs.end()) {
        spec = it->second->spec();
        out = it->second->running;
        i.waiting_for_heat = waiting_for_heat(*it->second, clock.unix_ms());
        i.waiting = fits_nowhere(*it->second, clock.unix_ms());
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
    i.cores_per_task = spec.cores_per_task;
    i.mem_per_task = spec.mem_per_task;
    i.gpus_per_task = spec.gpus_per_task;
    return i;
}

namespace {

// A job whose tasks no node of the grid file could ever hold would wait
// forever: refused at once, naming the field and the largest node. Memory
// only where every node with the cores says how much it has (a node that
// does not say may have enough: the job waits for the policy then).
// GPUs likewise, where every node says how many it has (a node that does not
// say has what its agent finds).
void check_gpus_fit_grid(const Grid& grid, const JobSubmit& s) {
    if (s.gpus_per_task == 0) return;
    const GridNode* most = nullptr;
    for (const GridNode& n : grid.nodes) {
        if (!n.gpus) return;
        if (most == nullptr || *n.gpus > *most->gpus) most = &n;
    }
    if (most != nullptr && s.gpus_per_task > *most->gpus)
        throw usage_error("'gpus_per_task' " + std::to_string(s.gpus_per_task) +
                          " is more than any node has: the most, '" + most->name + "', has " +
                          std::to_string(*most->gpus) + " (gpus in the grid file); give " +
                          std::to_string(*most->gpus) + " or fewer");
}

void check_fits_grid(const Grid& grid, const JobSubmit& s) {
    if (grid.nodes.empty()) return;
    const GridNode* widest = &grid.nodes.front();
    for (const GridNode& n : grid.nodes)
        if (n.slots > widest->slots) widest = &n;
    if (s.cores_per_task > widest->slots)
        throw usage_error("'cores_per_task' " + std::to_string(s.cores_per_task) +
                          " is more than any node has: the largest, '" + widest->name + "', has " +
                          std::to_string(widest->slots) + " cores (slots in the grid file); give " +
                          std::to_string(widest->slots) + " or fewer");
    check_gpus_fit_grid(grid, s);
    if (s.mem_per_task == 0) return;
    const GridNode* largest = nullptr;
    for (const GridNode& n : grid.nodes) {
        if (n.slots < s.cores_per_task) continue;
        if (n.memory == 0) return;  // not said: it may fit there
        if (largest == nullptr || n.memory > largest->memory) largest = &n;
    }
    if (largest != nullptr && s.mem_per_task > largest->memory)
        throw usage_error("'mem_per_task' " + format_byte_size(s.mem_per_task) +
                          " is more than any node has: the largest, '" + largest->name + "', has " +
                          format_byte_size(largest->memory) +
                          " (memory in the grid file); give that or less");
}

}  // namespace

JobInfo Scheduler::Impl::submit(const Role& who, const JobSubmit& given) {
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
    if (!tenant_terms(grid, s.tenant)) {
        if (!is_tenant_name(s.tenant) || grid.tenants.empty())
            throw usage_error("unknown tenant '" + s.tenant.substr(0, 64) +
                              "': a tenant's name is 1-64 of a-z, 0-9, '_' and '-'");
        std::string known;
        for (const auto& t : grid.tenants) known += (known.empty() ? "" : ", ") + t.name;
        throw usage_error("unknown tenant '" + s.tenant + "': the grid's tenants are " + known +
                          "; use one of them or add a [[tenant]] to the grid file");
    }
    // The wire reader is the one definition of a valid submission:
    // ranges, sizes, names (core/jobs_api).
    const nlohmann::json spec_json = to_json(s);
    s = job_submit_from_json(spec_json);
    check_fits_grid(grid, s);
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

std::vector<JobInfo> Scheduler::Impl::list(const Role& who, const JobFilter& f) {
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

JobInfo Scheduler::Impl::cancel(const Role& who, const std::string& id) {
    // Refused before the transaction: a refusal then costs no reload.
    const JobRow row = visible(who, id);
    if (row.state == JobState::finished || row.state == JobState::failed)
        throw conflict_error("job " + id + " is already " + to_string(row.state) +
                             "; there is nothing to cancel");
    const std::int64_t now = clock.unix_ms();
    return in_transaction([&] {
        SchedJob& j = *load_job(id);
        if (j.row.state != JobState::cancelled) {
            j.row.state = JobState::cancelled;
            j.row.finished_ms = now;
            dirty_jobs.insert(id);
        }
        return info(j.row);
    });
}

JobInfo Scheduler::Impl::resume(const Role& who, const std::string& id) {
    if (visible(who, id).state == JobState::finished)
        throw conflict_error("job " + id + " finished with every task done; there is nothing to resume");
    const std::int64_t now = clock.unix_ms();
    return in_transaction([&] {
        SchedJob& j = *load_job(id);
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
GridOverview Scheduler::overview(const Role& who) {
    return m->overview(who);
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
std::uint64_t Scheduler::last_commit() const {
    return m->group ? m->group->last() : 0;
}
void Scheduler::wait_durable(std::uint64_t commit) const {
    if (m->group) m->group->wait_durable(commit);
}

}  // namespace hearth
