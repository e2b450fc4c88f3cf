#include "runner/mpi/dispatcher.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "core/append_file.hpp"
#include "core/dispatch.hpp"
#include "core/error.hpp"
#include "core/gpu_table.hpp"
#include "core/journal.hpp"
#include "core/journal_writer.hpp"
#include "core/local_policy.hpp"
#include "core/output_owner.hpp"
#include "core/placeholder.hpp"
#include "core/safe_path.hpp"
#include "runner/job/job_dir.hpp"
#include "runner/job/job_items.hpp"
#include "runner/mpi/scratch.hpp"

namespace fs = std::filesystem;

namespace hearth {
namespace {

struct RankInfo {
    std::string node;
    std::uint32_t slots = 0;
    std::optional<std::uint32_t> gpus;  // the grid file's `gpus` for its node
};

std::map<int, RankInfo> load_launch(const JobDir& dir) {
    std::ifstream in(dir.launch());
    nlohmann::json j;
    in >> j;
    std::map<int, RankInfo> ranks;
    for (const auto& r : j.at("ranks")) {
        RankInfo info{r.at("node").get<std::string>(), r.at("slots").get<std::uint32_t>(), {}};
        if (r.contains("gpus")) info.gpus = r.at("gpus").get<std::uint32_t>();
        ranks[r.at("rank").get<int>()] = std::move(info);
    }
    return ranks;
}

std::vector<FileBlob> load_staged(const JobDir& dir) {
    std::vector<FileBlob> blobs;
    if (!fs::exists(dir.stage())) return blobs;
    // 'hearth run' copied regular files here (links resolved at submit); a
    // symlink found now was planted since, and is not followed.
    for (const auto& e : fs::recursive_directory_iterator(dir.stage())) {
        if (e.symlink_status().type() != fs::file_type::regular) continue;
        FileBlob b;
        b.path = fs::relative(e.path(), dir.stage()).string();
        unsigned mode = 0644;
        b.data = read_file_beneath(dir.stage(), b.path, &mode);
        b.mode = mode;
        blobs.push_back(std::move(b));
    }
    return blobs;
}

class Dispatcher {
public:
    Dispatcher(Link& link, JobDir dir)
        : m_link(link),
          m_dir(std::move(dir)),
          m_spec(load_spec(m_dir)),
          m_items(make_item_source(m_spec, m_dir.items())),
          m_plan{m_items->size(), m_spec.chunk},
          m_template(CommandTemplate::parse(m_spec.command, m_spec.chunk)),
          m_journal(m_dir.journal()),
          m_logs((fs::create_directories(m_dir.file("logs")), m_dir.logs())) {}

    int run();

private:
    void lock_job();
    void on_hello(int rank, const std::string& data);
    void on_report(int rank, const std::string& data);
    void on_completion(int rank, Completion& c);
    void assign();
    std::map<int, LocalGrant> grants();
    void finish(const char* state, bool kill);
    std::string node_of(int rank) const;

    Link& m_link;
    JobDir m_dir;
    JobSpec m_spec;
    std::unique_ptr<ItemSource> m_items;
    ChunkPlan m_plan;
    CommandTemplate m_template;
    JournalWriter m_journal;
    AppendFile m_logs;
    std::unique_ptr<DispatchState> m_state;
    std::map<std::string, std::uint64_t> m_owners;  // collected name -> task
    std::map<int, RankInfo> m_ranks;
    std::vector<FileBlob> m_staged;
    std::map<int, bool> m_said_hello;
    int m_lock_fd = -1;
    // Per worker rank: its task slots and its agent's last budget.
    std::map<int, std::uint32_t> m_slots;
    std::map<int, HeatReport> m_heat;
    // Finished attempts' wall time, for the deadline's mean task time.
    std::uint64_t m_done = 0, m_done_wall_ms = 0;
    std::chrono::steady_clock::time_point m_last_plan{};
};

std::string Dispatcher::node_of(int rank) const {
    auto it = m_ranks.find(rank);
    return it != m_ranks.end() ? it->second.node : "rank" + std::to_string(rank);
}

void Dispatcher::lock_job() {
    m_lock_fd = ::open(m_dir.lock().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_lock_fd < 0 || ::flock(m_lock_fd, LOCK_EX | LOCK_NB) != 0)
        throw Error("job " + m_spec.id + " is already being run by another dispatcher");
}

void Dispatcher::on_hello(int rank, const std::string& data) {
    Hello h = decode_hello(data);
    m_said_hello[rank] = true;
    NodeConfig node;
    node.node = node_of(rank);
    node.slots = m_spec.slots;
    auto it = m_ranks.find(rank);
    if (it != m_ranks.end() && it->second.slots) node.slots = it->second.slots;
    // --cores-per-task N: the node's cores (its hostfile slots, else hwloc's
    // count) make cores / N slots of N cores each; a node with fewer than N
    // runs one task at a time on all it has. --slots says tasks at once itself.
    if (m_spec.cores_per_task > 1 && m_spec.slots == 0)
        node.slots =
            std::max<std::uint32_t>(1, (node.slots ? node.slots : h.cores) / m_spec.cores_per_task);
    node.gpus = node_gpus(it != m_ranks.end() ? it->second.gpus : std::nullopt, h.gpus);
    // The worker is the site's kind, that runs any number of jobs: here one.
    JobConfig cfg;
    cfg.job = m_spec.id;
    cfg.tenant = m_spec.tenant;
    cfg.timeout_ms = m_spec.timeout_ms;
    cfg.collect = m_spec.collect;
    cfg.staged = m_staged;
    cfg.urgent = m_spec.urgent;
    cfg.env = m_spec.env;
    cfg.cores_per_task = m_spec.cores_per_task;
    cfg.mem_per_task = m_spec.mem_per_task;
    cfg.gpus_per_task = m_spec.gpus_per_task;
    cfg.user = m_spec.user;
    std::uint32_t slots = node.slots ? node.slots : h.cores;
    m_link.send(rank, Tag::config, encode(node));
    m_link.send(rank, Tag::job, encode(cfg));
    m_journal.node_up(node.node, h.host, slots, h.cores);
    // A GPU job is never granted to a node without its GPUs (with none
    // granted anywhere, the job ends stalled).
    const std::string short_of = gpu_shortfall(node.node, node.gpus, m_spec.gpus_per_task);
    if (!short_of.empty()) {
        m_journal.node_blocked(node.node, short_of);
        return;
    }
    m_state->add_worker(rank);
    m_slots[rank] = slots;
}

void Dispatcher::on_completion(int rank, Completion& c) {
    const std::string node = node_of(rank);
    Attempt a{c.task, c.attempt};
    // The energy the node's agent charged to this attempt: the tenant pays for
    // failed attempts too, so it is journaled with either outcome.
    JournalOutcome rec;
    rec.task = c.task;
    rec.attempt = c.attempt;
    rec.node = node;
    rec.wall_ms = c.wall_ms;
    if (c.energy_state != EnergyState::unknown)
        rec.energy = JournalEnergy{c.energy_uj, c.energy_state == EnergyState::estimated};
    if (!c.log.empty()) rec.log = {m_logs.append(c.log), c.log.size()};

    bool permanent = false;
    if (c.status == AttemptStatus::ok && !m_state->is_committed(c.task)) {
        for (const auto& f : c.outputs) {
            // A worker names outputs inside its scratch directory; anything
            // else (a bug, a tampered node) must not write outside out/.
            if (!is_clean_relative_path(f.path)) {
                c.status = AttemptStatus::collect_failed;
                c.reason = "output name '" + f.path + "' is not a plain relative path; refused";
                permanent = true;
                break;
            }
            auto owner = m_owners.find(f.path);
            std::string clash = output_clash(
                f.path, owner == m_owners.end() ? std::nullopt : std::optional(owner->second),
                c.task);
            if (!clash.empty()) {
                c.status = AttemptStatus::collect_failed;
                c.reason = std::move(clash);
                permanent = true;
                break;
            }
        }
        if (c.status == AttemptStatus::ok) {
            // Outputs first, durable and in place; the journal line that follows
            // is the commit. A crash between the two reruns the task, whose
            // rerun rewrites its own files.
            for (const auto& f : c.outputs) {
                try {
                    write_file_beneath(m_dir.out(), f.path, f.data, f.mode);
                } catch (const Error&) {
                    // A full disk stops the job: first commit what completed
                    // before, whose outputs are in place (logs first, as the
                    // journal's lines point into them), if there is room.
                    try {
                        m_logs.sync();
                        m_journal.sync();
                    } catch (const Error&) {
                    }
                    throw;
                }
                m_owners[f.path] = c.task;
            }
        }
    }
    if (c.status == AttemptStatus::cancelled) {
        m_state->on_requeue(rank, a);
        return;
    }
    if (c.status == AttemptStatus::ok) {
        Outcome o = m_state->on_success(rank, a);
        if (o == Outcome::duplicate) return;  // already committed by another attempt
        for (const auto& f : c.outputs) rec.outputs.push_back(f.path);
        rec.overridden = c.overridden;  // ran past the site's heat budget
        ++m_done;
        m_done_wall_ms += c.wall_ms;
        m_journal.done(rec);
        return;
    }
    Outcome o = m_state->on_failure(rank, a, permanent);
    if (o == Outcome::duplicate) return;
    rec.why = to_string(c.status);
    rec.exit_code = c.exit_code;
    rec.reason = c.reason;
    rec.final = o == Outcome::failed;
    m_journal.fail(rec);
    for (int w : m_state->take_newly_blocked())
        m_journal.node_blocked(node_of(w), "3 tasks failed on it");
}

void Dispatcher::on_report(int rank, const std::string& data) {
    Report rep = decode_report(data);
    for (auto& c : rep.completions) on_completion(rank, c);
    m_heat[rank] = rep.heat;
    if (rep.want) m_state->want(rank, rep.want);
}

// How many attempts each worker gets is the grid's scheduling policy's call
// (core/local_policy over core/sched_policy, as `hearth serve` decides for a
// site's nodes): free heat-allowed slots first, least waste first; for a
// deadline, slots past the budgets where least heat is wasted and only as
// many as it lacks (sent flagged overridden: the worker starts them past its
// budget); then each worker's queue ahead. Asked only when a worker wants
// work, or for deadline work every 200 ms (the policy may open slots that no
// worker asked for).
std::map<int, LocalGrant> Dispatcher::grants() {
    const bool deadline_work = m_spec.urgent || m_spec.deadline_ms > 0;
    bool wants = false;
    for (const auto& [rank, slots] : m_slots) wants = wants || m_state->wanted(rank) > 0;
    const auto now = std::chrono::steady_clock::now();
    if (!wants && !(deadline_work && now - m_last_plan >= std::chrono::milliseconds(200)))
        return {};
    LocalJob job;
    job.queued = m_state->queued();
    if (job.queued == 0) return {};
    if (deadline_work) m_last_plan = now;
    const std::map<int, std::uint32_t> in_flight = m_state->in_flight_by_worker();
    job.running = static_cast<std::uint32_t>(m_state->in_flight());
    job.urgent = m_spec.urgent;
    job.deadline_ms = m_spec.deadline_ms;
    job.task_s =
        m_done ? static_cast<double>(m_done_wall_ms) / 1000.0 / static_cast<double>(m_done) : 0;
    std::vector<int> ranks;
    std::vector<LocalWorker> workers;
    for (const auto& [rank, slots] : m_slots) {
        LocalWorker w;
        w.slots = slots;
        auto f = in_flight.find(rank);
        w.in_flight = f == in_flight.end() ? 0 : f->second;
        w.want = m_state->wanted(rank);
        // Not reported yet: its budget is unknown, so nothing is placed there.
        auto h = m_heat.find(rank);
        if (h != m_heat.end()) w.heat = h->second;
        w.usable = h != m_heat.end() && m_state->usable(rank);
        ranks.push_back(rank);
        workers.push_back(w);
    }
    const PolicyInput in = local_policy_input(job, workers, unix_ms_now());
    const std::vector<LocalGrant> per = local_grants(in, schedule(in), job, workers);
    std::map<int, LocalGrant> out;
    for (std::size_t i = 0; i < ranks.size(); ++i)
        if (per[i].count > 0) out[ranks[i]] = per[i];
    return out;
}

void Dispatcher::assign() {
    const std::map<int, LocalGrant> granted = grants();
    if (granted.empty()) return;
    std::map<int, std::uint32_t> counts;
    for (const auto& [rank, g] : granted) counts[rank] = g.count;
    std::map<int, std::vector<Attempt>> got = m_state->take_assignments(counts);
    // The last `overridden` of a worker's share go past its heat budget.
    std::map<int, std::vector<bool>> past;
    bool short_of = false;
    for (const auto& [rank, count] : counts) {
        const std::vector<Attempt>& a = got[rank];
        const std::uint32_t overridden = granted.at(rank).overridden;
        for (std::size_t i = 0; i < a.size(); ++i) past[rank].push_back(a.size() - i <= overridden);
        short_of = short_of || a.size() < count;
    }
    if (short_of && m_state->queued() > 0) {
        // A retry avoids the nodes it failed on while another can take it,
        // so a count on such a node can find nothing to send: the other
        // workers take what is left, as much as they asked for.
        std::map<int, std::uint32_t> asked;
        for (const auto& [rank, slots] : m_slots)
            if (m_state->wanted(rank) > 0) asked[rank] = m_state->wanted(rank);
        for (auto& [rank, more] : m_state->take_assignments(asked)) {
            got[rank].insert(got[rank].end(), more.begin(), more.end());
            past[rank].resize(got[rank].size(), false);
        }
    }
    for (auto& [rank, attempts] : got) {
        if (attempts.empty()) continue;
        std::vector<Assignment> batch;
        for (std::size_t i = 0; i < attempts.size(); ++i) {
            const Attempt& a = attempts[i];
            TaskValues v;
            v.items = task_items(*m_items, m_plan, a.task);
            v.task = a.task;
            v.attempt = a.attempt;
            v.tenant = m_spec.tenant;
            v.job = m_spec.id;
            v.cores = m_spec.cores_per_task;
            std::string first = v.items.front(), last = v.items.back();
            batch.push_back(Assignment{a.task, a.attempt, m_template.expand(v), m_spec.id,
                                       past[rank][i], std::move(first), std::move(last)});
            m_journal.start(a.task, a.attempt, node_of(rank));
        }
        m_link.send(rank, Tag::tasks, encode(batch));
    }
}

void Dispatcher::finish(const char* state, bool kill) {
    for (int r = 1; r < m_link.size(); ++r) m_link.send(r, Tag::stop, encode(Stop{kill}));
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    m_journal.end(
        JournalEnd{state, m_state->committed(), m_state->failed(), m_state->total(), ru.ru_maxrss});
    m_logs.sync();
    m_journal.sync();
}

int Dispatcher::run() {
    lock_job();
    JournalState js = read_journal(m_dir.journal());
    m_owners = std::move(js.outputs);
    DispatchLimits limits;
    limits.retries = m_spec.retries;
    m_state = std::make_unique<DispatchState>(m_plan.tasks(), std::move(js.committed),
                                              std::move(js.attempts), limits);
    m_ranks = load_launch(m_dir);
    m_staged = load_staged(m_dir);
    m_journal.launch(js.launches + 1, m_link.size() - 1, m_plan.tasks());
    m_journal.sync();

    Backoff backoff{20, 2000};
    auto last_cancel_check = std::chrono::steady_clock::now();
    if (m_link.size() < 2) {
        finish("stalled", false);
        return 3;
    }
    for (;;) {
        bool active = false;
        while (auto m = m_link.poll()) {
            active = true;
            if (m->tag == Tag::hello) on_hello(m->source, m->data);
            else if (m->tag == Tag::report) on_report(m->source, m->data);
        }
        assign();
        if (m_logs.pending()) m_logs.sync();
        if (m_journal.pending()) m_journal.sync();
        if (m_state->finished()) {
            finish("finished", false);
            break;
        }
        bool all_hello = static_cast<int>(m_said_hello.size()) == m_link.size() - 1;
        if (all_hello && m_state->stalled()) {
            finish("stalled", false);
            break;
        }
        auto now = std::chrono::steady_clock::now();
        if (now - last_cancel_check > std::chrono::milliseconds(200)) {
            last_cancel_check = now;
            if (fs::exists(m_dir.cancel())) {
                finish("cancelled", true);
                break;
            }
        }
        m_link.sends_pending();
        if (active) {
            backoff.reset();
        } else {
            backoff.sleep();
            backoff.grow();
        }
    }
    m_link.drain_sends();
    return 0;
}

}  // namespace

int run_dispatcher(Link& link, const std::string& job_dir) {
    Dispatcher d(link, JobDir{job_dir});
    return d.run();
}

}  // namespace hearth
