// hearth site against a scheduler: until hearth serve lands, a small fake
// scheduler in this process (cpp-httplib) that speaks core/site_api: it
// grants the tasks of two tenants' jobs to the nodes that want work, commits
// each task once, requeues what a site reports lost, and can play a dropped
// link. The site is real: hearth site, mpirun, a dispatcher and two workers.
#include <boost/test/unit_test.hpp>

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <regex>

#include "core/auth.hpp"
#include "core/site_api.hpp"
#include "harness.hpp"

using namespace hearth;
using namespace hearth::test;

namespace {

std::string hex_sha(const std::string& data) { return to_hex(sha256(data)); }

class FakeScheduler {
public:
    FakeScheduler() {
        m_server.Post(R"(/v1/sites/([^/]+)/work)", [this](const httplib::Request& rq, httplib::Response& rs) {
            if (down) {
                rs.status = 503;
                return;
            }
            std::lock_guard<std::mutex> lock(m_mu);
            try {
                WorkReply reply = work(work_request_from_json(nlohmann::json::parse(rq.body)));
                rs.set_content(to_json(reply).dump(), "application/json");
            } catch (const std::exception& e) {
                // The site shows the reason: a request this fake cannot read is a bug there.
                rs.status = 400;
                rs.set_content(nlohmann::json{{"error", e.what()}}.dump(), "application/json");
            }
        });
        m_server.Put(R"(/v1/blobs/([0-9a-f]{64}))", [this](const httplib::Request& rq, httplib::Response& rs) {
            if (down || hex_sha(rq.body) != rq.matches[1].str()) {
                rs.status = down ? 503 : 400;
                return;
            }
            std::lock_guard<std::mutex> lock(m_mu);
            blobs[rq.matches[1]] = rq.body;
            rs.status = 204;
        });
        m_server.Get(R"(/v1/blobs/([0-9a-f]{64}))", [this](const httplib::Request& rq, httplib::Response& rs) {
            std::lock_guard<std::mutex> lock(m_mu);
            auto it = blobs.find(rq.matches[1]);
            if (it == blobs.end()) {
                rs.status = 404;
                return;
            }
            ++blob_gets;
            rs.set_content(it->second, "application/octet-stream");
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
    }
    ~FakeScheduler() {
        m_server.stop();
        m_thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

    void add_job(const std::string& id, const std::string& tenant, std::uint64_t tasks,
                 const std::string& script, const std::string& input) {
        std::lock_guard<std::mutex> lock(m_mu);
        JobRuntime rt;
        rt.job = id;
        rt.tenant = tenant;
        rt.collect = {"out-*.txt"};
        const std::string sha = hex_sha(input);
        blobs[sha] = input;
        rt.stage = {BlobRef{"input.txt", sha, 0644, input.size()}};
        m_jobs[id] = Job{rt, script};
        for (std::uint64_t t = 0; t < tasks; ++t) m_waiting.push_back(AttemptKey{id, t, 1});
        m_total += tasks;
    }

    std::size_t committed() {
        std::lock_guard<std::mutex> lock(m_mu);
        return commits.size();
    }
    bool all_done() {
        std::lock_guard<std::mutex> lock(m_mu);
        return commits.size() == m_total;
    }

    std::atomic<bool> down{false};
    // Guarded by m_mu (read them once the site is stopped).
    std::map<std::pair<std::string, std::uint64_t>, AttemptResult> commits;
    std::map<std::pair<std::string, std::uint64_t>, int> ok_results;  // deliveries, duplicates too
    std::set<std::string> runs;
    std::size_t lost_reported = 0;
    std::size_t max_held = 0;
    int blob_gets = 0;
    std::map<std::string, std::string> blobs;
    std::uint32_t max_slots_seen = 0;

private:
    struct Job {
        JobRuntime rt;
        std::string script;
    };

    void requeue(const AttemptKey& k) {
        if (commits.count({k.job, k.task})) return;
        m_waiting.push_front(AttemptKey{k.job, k.task, k.attempt + 1});
    }

    WorkReply work(const WorkRequest& rq) {
        WorkReply reply;
        reply.lease_ms = 3000;
        runs.insert(rq.run);
        for (const auto& r : rq.results) {
            m_out.erase(r.key);
            if (r.status == AttemptStatus::ok) {
                ++ok_results[{r.key.job, r.key.task}];
                commits.emplace(std::make_pair(r.key.job, r.key.task), r);
            } else {
                requeue(r.key);
            }
        }
        reply.acked = static_cast<std::uint32_t>(rq.results.size());
        for (const auto& k : rq.lost) {
            ++lost_reported;
            if (m_out.erase(k)) requeue(k);
        }
        max_held = std::max(max_held, rq.held.size());
        std::set<std::string> sent;
        for (const auto& n : rq.nodes) {
            max_slots_seen = std::max(max_slots_seen, n.slots);
            for (std::uint32_t i = 0; i < n.want && !m_waiting.empty(); ++i) {
                // Interleave the tenants: take from the job granted least.
                AttemptKey k = m_waiting.front();
                m_waiting.pop_front();
                TaskGrant g;
                g.key = k;
                g.node = n.node;
                g.argv = {"/bin/sh", "-c", m_jobs[k.job].script, "task", k.job, std::to_string(k.task)};
                reply.tasks.push_back(g);
                m_out[k] = n.node;
                if (sent.insert(k.job).second) reply.jobs.push_back(m_jobs[k.job].rt);
            }
        }
        return reply;
    }

    httplib::Server m_server;
    std::thread m_thread;
    int m_port = 0;
    std::mutex m_mu;
    std::map<std::string, Job> m_jobs;
    std::deque<AttemptKey> m_waiting;
    std::map<AttemptKey, std::string> m_out;  // granted, no result yet
    std::uint64_t m_total = 0;
};

// Two nodes of one slot each, both on this machine.
void write_grid(const fs::path& p) {
    std::ofstream(p) << "[[site]]\nname = \"plant\"\nkind = \"room\"\ntarget = 21\n\n"
                        "[[node]]\nname = \"n1\"\nsite = \"plant\"\nhost = \"localhost\"\nslots = 1\n\n"
                        "[[node]]\nname = \"n2\"\nsite = \"plant\"\nhost = \"127.0.0.1\"\nslots = 1\n";
}

// A task: its staged input and its name into out-JOB-TASK.txt, its start and
// end (ns) appended to the shared spans file, and a pause.
// The tasks run as their tenants' users (the site is root here): the spans
// file is made writable to them, and its directory reachable.
std::string script(const fs::path& spans, double seconds) {
    fs::permissions(spans.parent_path(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    if (!fs::exists(spans)) std::ofstream(spans).close();
    fs::permissions(spans, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                               fs::perms::group_write | fs::perms::others_read |
                               fs::perms::others_write);
    return "echo \"s $(date +%s%N)\" >> " + quote(spans.string()) +
           "; cat input.txt > out-$1-$2.txt; echo \"$1 $2\" >> out-$1-$2.txt; sleep " +
           std::to_string(seconds) + "; echo \"e $(date +%s%N)\" >> " + quote(spans.string());
}

// The most tasks running at once, from the spans file.
int max_overlap(const fs::path& spans) {
    std::vector<std::pair<long long, int>> ev;
    std::ifstream in(spans);
    std::string kind;
    long long ns;
    while (in >> kind >> ns) ev.emplace_back(ns, kind == "s" ? 1 : -1);
    std::sort(ev.begin(), ev.end());  // an end before a start at the same instant
    int now = 0, most = 0;
    for (const auto& [t, d] : ev) most = std::max(most, now += d);
    return most;
}

template <class F>
bool wait_for(F&& f, int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return f();
}

std::vector<pid_t> children(pid_t pid) {
    std::vector<pid_t> v;
    std::stringstream ss(sh_out("cat /proc/" + std::to_string(pid) + "/task/*/children 2>/dev/null"));
    pid_t c;
    while (ss >> c) v.push_back(c);
    return v;
}

// hearth site in the background, stopped (SIGTERM) at the end of the test
// whatever happens, so a failed check leaves no site running.
struct SiteProcess {
    pid_t pid = -1;
    ~SiteProcess() {
        if (pid <= 0) return;
        ::kill(pid, SIGTERM);
        wait_exit(pid);
    }
};

void stop_site(SiteProcess& site, const TempDir& t) {
    ::kill(site.pid, SIGTERM);
    int code = wait_exit(site.pid);
    site.pid = -1;
    BOOST_TEST(code == 0, "hearth site exited " << code << ": " << slurp(t / ".bg.err"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(site)

BOOST_AUTO_TEST_CASE(two_tenants_jobs_run_once_each_within_the_nodes_slots_across_a_link_drop) {
    TempDir t;
    FakeScheduler sched;
    write_grid(t / "grid.toml");
    sched.add_job("bank-1", "bank", 6, script(t / "spans", 0.3), "bank input\n");
    sched.add_job("studio-1", "studio", 6, script(t / "spans", 0.3), "studio input\n");
    SiteProcess site;
    site.pid = start_hearth({"site", "--grid", (t / "grid.toml").string(), "--site", "plant",
                               "--server", sched.url(), "--state", (t / "state").string()},
                              t.path);
    BOOST_REQUIRE_MESSAGE(wait_for([&] { return sched.committed() >= 3; }, 60),
                          "no results: " << slurp(t / ".bg.err") << slurp(t / "state/mpirun.log"));
    // The link drops: the site keeps running what it holds and keeps its results.
    sched.down = true;
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const std::size_t during = sched.committed();
    sched.down = false;
    BOOST_TEST_REQUIRE(wait_for([&] { return sched.all_done(); }, 90),
                       "committed " << sched.committed() << "/12: " << slurp(t / ".bg.err"));
    stop_site(site, t);
    BOOST_TEST(during < 12u);
    for (const auto& [task, r] : sched.commits) {
        BOOST_TEST_CONTEXT(task.first << " task " << task.second) {
            BOOST_TEST(sched.ok_results[task] == 1);  // delivered once, the drop included
            BOOST_TEST_REQUIRE(r.outputs.size() == 1u);
            const std::string want = (task.first == "bank-1" ? "bank input\n" : "studio input\n") +
                                     task.first + " " + std::to_string(task.second) + "\n";
            BOOST_TEST(sched.blobs[r.outputs[0].sha256] == want);
            BOOST_TEST(r.outputs[0].name == "out-" + task.first + "-" + std::to_string(task.second) + ".txt");
        }
    }
    // Two nodes of one slot: never more than two tasks at once, whichever job.
    BOOST_TEST(max_overlap(t / "spans") <= 2);
    BOOST_TEST(max_overlap(t / "spans") >= 1);
    BOOST_TEST(sched.max_slots_seen == 1u);
    BOOST_TEST(sched.blob_gets <= 2);  // each staged input fetched once by the site
    BOOST_TEST(sched.runs.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_dead_rank_relaunches_the_site_and_its_attempts_are_reported_lost) {
    TempDir t;
    FakeScheduler sched;
    write_grid(t / "grid.toml");
    sched.add_job("bank-2", "bank", 6, script(t / "spans", 1.0), "in\n");
    SiteProcess site;
    site.pid = start_hearth({"site", "--grid", (t / "grid.toml").string(), "--site", "plant",
                               "--server", sched.url(), "--state", (t / "state").string()},
                              t.path);
    BOOST_REQUIRE_MESSAGE(wait_for([&] { return sched.committed() >= 1; }, 60),
                          "no results: " << slurp(t / ".bg.err") << slurp(t / "state/mpirun.log"));
    // A worker rank dies (as with its host): Open MPI aborts the whole run.
    auto mpirun = children(site.pid);
    BOOST_REQUIRE(!mpirun.empty());
    auto ranks = children(mpirun[0]);
    BOOST_REQUIRE(ranks.size() == 3u);
    std::sort(ranks.begin(), ranks.end());  // started in rank order: the last is a worker
    ::kill(ranks.back(), SIGKILL);
    BOOST_TEST_REQUIRE(wait_for([&] { return sched.all_done(); }, 120),
                       "committed " << sched.committed() << "/6: " << slurp(t / ".bg.err"));
    stop_site(site, t);
    BOOST_TEST(sched.runs.size() >= 2u);  // relaunched with a new run id
    BOOST_TEST(sched.lost_reported >= 1u);
    BOOST_TEST(sched.commits.size() == 6u);
}

BOOST_AUTO_TEST_SUITE_END()
