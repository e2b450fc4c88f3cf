#include "runner/site/site_dispatcher.hpp"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/gpu_table.hpp"
#include "core/result_buffer.hpp"
#include "core/safe_path.hpp"
#include "core/site_state.hpp"
#include "runner/site/site_link.hpp"

namespace fs = std::filesystem;

namespace hearth {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

// Request pacing: results go up within this; a node that wants work asks at
// most this often while the scheduler has none; an idle site still asks
// (renewing its lease) at a third of the lease.
constexpr milliseconds k_result_delay{50};
constexpr milliseconds k_empty_wait{500};
constexpr milliseconds k_default_heartbeat{5000};
constexpr milliseconds k_retry_min{250};
constexpr milliseconds k_retry_max{15000};
constexpr std::uint64_t k_results_per_request = 16ull << 20;  // bytes of JSON
// A job none of whose attempts the site held for this long: its workers
// drop its settings and staged files.
constexpr auto k_forget_after = std::chrono::seconds(60);

struct RankInfo {
    std::string node;
    std::string host;
    std::uint32_t slots = 0;
    std::optional<std::uint32_t> gpus;  // the grid file's `gpus` for its node
};

std::map<int, RankInfo> load_ranks(const SiteDir& dir) {
    std::map<int, RankInfo> ranks;
    std::ifstream in(dir.launch_dir().launch());
    if (!in) return ranks;
    nlohmann::json j = nlohmann::json::parse(in);
    for (const auto& r : j.at("ranks")) {
        RankInfo info{r.at("node").get<std::string>(),
                      r.at("host").get<std::string>(),
                      r.at("slots").get<std::uint32_t>(),
                      {}};
        if (r.contains("gpus")) info.gpus = r.at("gpus").get<std::uint32_t>();
        ranks[r.at("rank").get<int>()] = std::move(info);
    }
    return ranks;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class SiteDispatcher {
public:
    SiteDispatcher(Link& link, SiteDir dir, std::string run)
        : m_link(link),
          m_dir(std::move(dir)),
          m_run(std::move(run)),
          m_settings(load_site_settings(m_dir)),
          m_buffer(m_dir.results(), m_settings.max_buffer_bytes),
          m_server(m_settings.server, m_settings.site, m_settings.timeout_ms) {}

    int run();

private:
    void on_hello(int rank, const std::string& data);
    void on_report(int rank, const std::string& data);
    AttemptResult to_result(int rank, Completion& c);
    bool request_due(Clock::time_point now) const;
    struct Outcome {
        std::vector<AttemptResult> sent;  // results the request carried, in order
        bool uploads_ok = true;
        std::string upload_failure;
        std::vector<std::string> notes;
        SiteLink::Answer answer;
        double round_trip_ms = 0;  // the work request alone, not the uploads
    };
    // What the request thread gets: copies, and the link and the set of
    // uploaded blobs, which only it touches while it runs.
    struct Exchange {
        SiteDir dir;
        SiteLink* link = nullptr;
        std::set<std::string>* uploaded = nullptr;
        WorkRequest req;
        std::vector<AttemptResult> candidates;
        Outcome run();
    };
    void start_exchange();
    void finish_exchange(Outcome o);
    void apply(const WorkReply& reply);
    bool send_job(int rank, const std::string& job, std::string& why);
    const std::string* staged_bytes(const BlobRef& b, std::string& why);
    void fail_unstartable(const TaskGrant& g, const std::string& why);
    void forget_idle_jobs();
    void save_held();
    void say(const std::string& line) { std::cerr << "hearth site " << m_settings.site << ": " << line << std::endl; }

    Link& m_link;
    SiteDir m_dir;
    std::string m_run;
    SiteSettings m_settings;
    ResultBuffer m_buffer;
    SiteLink m_server;
    SiteState m_state;
    std::map<int, RankInfo> m_ranks;
    std::vector<AttemptKey> m_lost;               // to report until a reply confirms it
    std::map<std::string, JobRuntime> m_jobs;     // every job's settings the scheduler sent
    std::map<std::string, std::string> m_staged;  // sha256 -> bytes, for jobs being sent
    std::map<std::string, Clock::time_point> m_job_seen;
    std::set<std::string> m_uploaded;  // blobs the content store has (the request thread's)
    std::future<Outcome> m_inflight;   // the request under way, if any
    milliseconds m_heartbeat = k_default_heartbeat;
    milliseconds m_retry = k_retry_min;
    Clock::time_point m_last_request{};
    Clock::time_point m_next_try{};
    Clock::time_point m_first_result{};
    bool m_last_empty = false;  // the last reply granted nothing
    bool m_link_down = false;
    Clock::time_point m_last_forget{};
};

void SiteDispatcher::on_hello(int rank, const std::string& data) {
    Hello h = decode_hello(data);
    auto it = m_ranks.find(rank);
    NodeConfig cfg;
    cfg.node = it != m_ranks.end() ? it->second.node : "rank" + std::to_string(rank);
    cfg.slots = it != m_ranks.end() ? it->second.slots : 0;
    cfg.slots_are_cores = true;  // every tenant's jobs share the node's cores
    cfg.gpus = node_gpus(it != m_ranks.end() ? it->second.gpus : std::nullopt, h.gpus);
    m_link.send(rank, Tag::config, encode(cfg));
    m_state.add_node(rank, cfg.node, h.host, cfg.slots ? cfg.slots : h.cores, h.mem_total);
    m_state.set_gpus(rank, cfg.gpus);
}

AttemptResult SiteDispatcher::to_result(int rank, Completion& c) {
    AttemptResult r;
    r.key = AttemptKey{c.job, c.task, c.attempt};
    r.node = m_state.node_of(rank);
    r.status = c.status;
    r.exit_code = c.exit_code;
    r.wall_ms = c.wall_ms;
    r.reason = c.reason;
    r.log = std::move(c.log);
    r.energy_state = c.energy_state;
    r.energy_uj = c.energy_uj;
    r.overridden = c.overridden;
    for (const auto& f : c.outputs) {
        if (!is_clean_relative_path(f.path)) {
            r.status = AttemptStatus::collect_failed;
            r.reason = "output name '" + f.path + "' is not a plain relative path; refused";
            r.outputs.clear();
            break;
        }
        // Kept on disk until the result that names it is acknowledged: the
        // upload may have to wait for the link.
        BlobRef b{f.path, sha256_hex(f.data), f.mode & 0777, f.data.size()};
        if (!fs::exists(m_dir.blob(b.sha256))) write_file_atomic(m_dir.blob(b.sha256), f.data, 0600);
        r.outputs.push_back(std::move(b));
    }
    return r;
}

void SiteDispatcher::on_report(int rank, const std::string& data) {
    Report rep = decode_report(data);
    for (auto& c : rep.completions) {
        AttemptKey key{c.job, c.task, c.attempt};
        if (!m_state.release(key)) continue;  // not ours (a stale worker message)
        m_state.on_ended(rank, c.status, c.wall_ms);
        if (m_buffer.size() == 0) m_first_result = Clock::now();
        m_buffer.add(to_result(rank, c));
    }
    m_state.on_report(rank, rep.want, rep.heat, rep.mem_available);
}

bool SiteDispatcher::request_due(Clock::time_point now) const {
    if (now < m_next_try) return false;  // backing off after a failure
    const auto since = now - m_last_request;
    if (!m_lost.empty()) return true;
    bool wants = false;
    for (const auto& n : m_state.nodes(!m_buffer.full())) wants = wants || n.want > 0;
    // Results wait a moment to travel in batches, but not while a slot is
    // free: the request that carries them brings that slot its next task.
    if (m_buffer.size() > 0 && (wants || now - m_first_result >= k_result_delay)) return true;
    if (wants && (!m_last_empty || since >= k_empty_wait)) return true;
    return since >= m_heartbeat;
}

// One request, made on a thread of its own so that the MPI loop goes on
// (workers report, their results are kept) however slow the link is: the
// outputs of the oldest results are uploaded first (each blob once), then the
// request carries the results whose outputs are all in the content store;
// the others are listed as held and wait for the next request.
SiteDispatcher::Outcome SiteDispatcher::Exchange::run() {
    Outcome o;
    for (auto& r : candidates) {
        bool ok = true;
        for (const auto& b : r.outputs) {
            if (uploaded->count(b.sha256)) continue;
            if (!fs::exists(dir.blob(b.sha256))) {
                // Lost from the site's disk: the result goes without it.
                o.notes.push_back("output " + b.name + " of " + r.key.job + " task " +
                                  std::to_string(r.key.task) + " is missing from " + dir.blob(b.sha256));
                continue;
            }
            std::string why = link->put_blob(b.sha256, dir.blob(b.sha256));
            if (!why.empty()) {
                o.upload_failure = why;
                ok = false;
                break;
            }
            uploaded->insert(b.sha256);
        }
        if (!ok) break;
        o.sent.push_back(r);
    }
    o.uploads_ok = o.sent.size() == candidates.size();
    for (std::size_t i = o.sent.size(); i < candidates.size(); ++i) req.held.push_back(candidates[i].key);
    req.results = o.sent;
    const auto sent_at = Clock::now();
    o.answer = link->work(req);
    o.round_trip_ms = std::chrono::duration<double, std::milli>(Clock::now() - sent_at).count();
    return o;
}

void SiteDispatcher::start_exchange() {
    auto x = std::make_shared<Exchange>();
    x->dir = m_dir;
    x->link = &m_server;
    x->uploaded = &m_uploaded;
    x->req.site = m_settings.site;
    x->req.run = m_run;
    x->req.nodes = m_state.nodes(!m_buffer.full());
    x->candidates = m_buffer.oldest(k_results_per_request);
    // Held: what runs or waits here, and what finished but is not among this
    // request's candidates: the scheduler requeues as lost an attempt the
    // site neither holds nor reports. (Candidates not sent are added by run().)
    x->req.held = m_state.held();
    std::set<AttemptKey> candidate;
    for (const auto& r : x->candidates) candidate.insert(r.key);
    for (const auto& k : m_buffer.keys())
        if (!candidate.count(k)) x->req.held.push_back(k);
    x->req.lost = m_lost;
    m_last_request = Clock::now();
    m_inflight = std::async(std::launch::async, [x] { return x->run(); });
}

void SiteDispatcher::finish_exchange(Outcome o) {
    for (const auto& n : o.notes) say(n);
    if (!o.upload_failure.empty() && !m_link_down)
        say("cannot upload an output (" + o.upload_failure + "); will retry");
    SiteLink::Answer& a = o.answer;
    if (!a.reply) {
        if (!m_link_down)
            say("no answer from the scheduler at " + m_settings.server + " (" + a.failure +
                "); running what the site holds, results kept in " + m_dir.results());
        m_link_down = true;
        m_next_try = Clock::now() + m_retry;
        m_retry = std::min(m_retry * 2, k_retry_max);
        return;
    }
    // Answered: its round trip sizes the nodes' prefetch (a failure's time is
    // a timeout's, not the link's).
    m_state.on_round_trip(o.round_trip_ms);
    if (m_link_down) say("the scheduler answers again; delivering " + std::to_string(m_buffer.size()) + " results");
    m_link_down = false;
    m_retry = k_retry_min;
    // Some outputs could not be uploaded: their results wait, and the next try backs off.
    m_next_try = o.uploads_ok ? Clock::time_point{} : Clock::now() + k_retry_min;
    const WorkReply& reply = *a.reply;
    std::vector<AttemptKey> acked;
    for (std::size_t i = 0; i < o.sent.size() && i < reply.acked; ++i) acked.push_back(o.sent[i].key);
    m_buffer.ack(acked);
    // Outputs of acknowledged results are in the content store for good.
    std::set<std::string> live;
    for (const auto& sha : m_buffer.blobs()) live.insert(sha);
    for (const auto& r : o.sent)
        for (const auto& b : r.outputs)
            if (!live.count(b.sha256)) {
                std::error_code ec;
                fs::remove(m_dir.blob(b.sha256), ec);
            }
    m_lost.clear();
    if (reply.lease_ms > 0)
        m_heartbeat = std::max(milliseconds(200), milliseconds(reply.lease_ms / 3));
    apply(reply);
    save_held();
}

const std::string* SiteDispatcher::staged_bytes(const BlobRef& b, std::string& why) {
    auto it = m_staged.find(b.sha256);
    if (it != m_staged.end()) return &it->second;
    // Fetched once per site: the cache serves every later job and node.
    std::string data = read_all(m_dir.cached(b.sha256));
    if (data.size() != b.size || sha256_hex(data) != b.sha256) {
        why = m_server.get_blob(b.sha256, m_dir.cached(b.sha256));
        if (!why.empty()) return nullptr;
        data = read_all(m_dir.cached(b.sha256));
    }
    return &m_staged.emplace(b.sha256, std::move(data)).first->second;
}

bool SiteDispatcher::send_job(int rank, const std::string& job, std::string& why) {
    if (m_state.job_sent(rank, job)) return true;
    auto it = m_jobs.find(job);
    if (it == m_jobs.end()) {
        why = "the scheduler sent no settings for job " + job;
        return false;
    }
    const JobRuntime& rt = it->second;
    JobConfig cfg;
    cfg.job = rt.job;
    cfg.tenant = rt.tenant;
    cfg.timeout_ms = rt.timeout_ms;
    cfg.collect = rt.collect;
    cfg.urgent = rt.urgent;
    cfg.env = rt.env;
    cfg.cores_per_task = rt.cores_per_task;
    cfg.mem_per_task = rt.mem_per_task;
    cfg.gpus_per_task = rt.gpus_per_task;
    if (auto u = m_settings.tenant_users.find(rt.tenant); u != m_settings.tenant_users.end())
        cfg.user = u->second;
    for (const auto& b : rt.stage) {
        const std::string* data = staged_bytes(b, why);
        if (!data) {
            why = "cannot fetch staged input " + b.name + " (" + b.sha256 + "): " + why;
            return false;
        }
        cfg.staged.push_back(FileBlob{b.name, b.mode, *data});
    }
    m_link.send(rank, Tag::job, encode(cfg));
    m_state.mark_job_sent(rank, job);
    return true;
}

void SiteDispatcher::fail_unstartable(const TaskGrant& g, const std::string& why) {
    m_state.release(g.key);
    AttemptResult r;
    r.key = g.key;
    r.node = g.node;
    r.status = AttemptStatus::spawn_failed;
    r.exit_code = 127;
    r.reason = why;
    if (m_buffer.size() == 0) m_first_result = Clock::now();
    m_buffer.add(r);
}

void SiteDispatcher::apply(const WorkReply& reply) {
    for (const auto& j : reply.jobs) {
        m_jobs[j.job] = j;
        m_state.set_job_cores(j.job, j.cores_per_task);
    }
    m_last_empty = reply.tasks.empty();
    auto placement = m_state.place(reply.tasks);
    // Granted to a node this run does not have (it died with the last run):
    // lost, for the scheduler to requeue.
    for (auto& k : placement.unplaced) m_lost.push_back(k);
    const auto now = Clock::now();
    for (auto& [rank, grants] : placement.by_rank) {
        std::vector<Assignment> batch;
        for (const auto& g : grants) {
            m_job_seen[g.key.job] = now;
            std::string why;
            if (!send_job(rank, g.key.job, why)) {
                fail_unstartable(g, why);
                continue;
            }
            batch.push_back(Assignment{g.key.task, g.key.attempt, g.argv, g.key.job, g.overridden,
                                       g.first, g.last});
        }
        if (!batch.empty()) m_link.send(rank, Tag::tasks, encode(batch));
    }
    m_staged.clear();  // sent: the workers keep their copies
    std::map<int, std::vector<AttemptRef>> cancels;
    for (const auto& k : reply.cancel) {
        int rank = m_state.rank_of(k);
        if (rank >= 0) cancels[rank].push_back(AttemptRef{k.job, k.task, k.attempt});
    }
    for (const auto& [rank, refs] : cancels) m_link.send(rank, Tag::cancel, encode(refs));
}

void SiteDispatcher::forget_idle_jobs() {
    const auto now = Clock::now();
    if (now - m_last_forget < std::chrono::seconds(5)) return;
    m_last_forget = now;
    for (const auto& [rank, info] : m_ranks) {
        for (const auto& job : m_state.idle_jobs(rank)) {
            auto seen = m_job_seen.find(job);
            if (seen != m_job_seen.end() && now - seen->second < k_forget_after) continue;
            m_link.send(rank, Tag::forget, encode(Forget{job}));
            m_state.forget_job(rank, job);
        }
    }
}

void SiteDispatcher::save_held() {
    // Rewritten on every exchange; after a power cut the lease requeues what
    // it would have named, so it needs no fsync.
    write_file_atomic(m_dir.held(), held_to_text(m_run, m_state.held()), 0600, Durability::process_crash);
}

int SiteDispatcher::run() {
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    fs::create_directories(m_dir.path + "/blobs");
    fs::create_directories(m_dir.path + "/cache");
    m_ranks = load_ranks(m_dir);
    // What the previous run held and did not finish died with its mpirun:
    // tell the scheduler, which requeues it without counting a failure.
    std::set<AttemptKey> finished;
    for (const auto& r : m_buffer.oldest(UINT64_MAX)) finished.insert(r.key);
    const auto held_before = held_from_text(read_all(m_dir.held()));
    m_lost = lost_attempts(held_before, finished);
    if (std::getenv("HEARTH_SITE_DEBUG"))
        say("previous run held " + std::to_string(held_before.size()) + ": " + read_all(m_dir.held()));
    save_held();
    write_file_atomic(m_dir.run(), m_run + "\n", 0644);
    say("run " + m_run + " up with " + std::to_string(m_link.size() - 1) + " node" +
        (m_link.size() == 2 ? "" : "s") + (m_lost.empty() ? "" : "; " + std::to_string(m_lost.size()) +
        " attempts lost with the last run") + (m_buffer.size() ? "; " + std::to_string(m_buffer.size()) +
        " results to deliver" : ""));

    // Idle, the loop sleeps at most 2 ms: a reply or a worker's report waits
    // no longer than that (20 ms cost every short task 16 ms in bench/run.sh).
    Backoff backoff{200, 2000};
    while (!g_stop) {
        bool active = false;
        while (auto m = m_link.poll()) {
            active = true;
            if (m->tag == Tag::hello) on_hello(m->source, m->data);
            else if (m->tag == Tag::report) on_report(m->source, m->data);
        }
        if (m_inflight.valid() &&
            m_inflight.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
            finish_exchange(m_inflight.get());
            active = true;
        }
        if (!m_inflight.valid() && request_due(Clock::now())) start_exchange();
        forget_idle_jobs();
        m_link.sends_pending();
        if (active) {
            backoff.reset();
        } else {
            backoff.sleep();
            backoff.grow();
        }
    }
    // Stopping: running attempts die with the workers; held.json names them,
    // so the next run reports them lost (saved first: a send to a dead rank
    // may end this process). Results already kept stay kept.
    save_held();
    for (int r = 1; r < m_link.size(); ++r) m_link.send(r, Tag::stop, encode(Stop{true}));
    // A request under way ends within its timeout; what it carried stays in
    // the buffer (acknowledged or not, it is sent again: committed once).
    if (m_inflight.valid()) m_inflight.wait();
    m_link.drain_sends();
    say("stopped");
    return 0;
}

}  // namespace

int run_site_dispatcher(Link& link, const SiteDir& dir, const std::string& run) {
    SiteDispatcher d(link, dir, run);
    return d.run();
}

}  // namespace hearth
