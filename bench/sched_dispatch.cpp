// The scheduler's dispatch path and its scale, measured in-process (no HTTP):
//
//   sched_dispatch dispatch STATE_DIR TASKS SITES NODES SLOTS PEER_SQL
//     One job of TASKS tasks; SITES simulated sites of NODES nodes of SLOTS
//     slots each ask for work as fast as they can, every attempt they hold
//     finishing at once and reported in their next request (so every request
//     commits a batch and grants a batch: the scheduler's steady state). The
//     real policy (hearth::schedule) decides; every request is one durable
//     SQLite transaction. Prints assignments/s and writes PEER_SQL: the same
//     rows, in the same transactions, for the sqlite3 shell to insert (the
//     peer, timed by bench/sched.sh).
//
//   sched_dispatch http URL TASKS SITES NODES SLOTS PEER_SQL
//     The same through a running `hearth serve --no-auth` at URL (its grid
//     names site0..site{SITES-1}): every request a real HTTP round trip on
//     loopback with its JSON (libcurl, one connection a site).
//
//   sched_dispatch scale STATE_DIR JOBS TASKS_PER_JOB
//     JOBS jobs submitted one by one (two tenants): each submit's latency
//     (p50, p99, max), then the process's peak RSS, then one site request
//     with every job queued (the policy over all of them).
//
// Output: `key value` lines that bench/sched.sh reads.
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <functional>
#include <memory>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/scheduler.hpp"
#include "core/site_api.hpp"

namespace {

using hearth::AttemptKey;
using hearth::AttemptResult;
using hearth::Grid;
using hearth::NodeReport;
using hearth::Role;
using hearth::Scheduler;
using hearth::WorkReply;
using hearth::WorkRequest;
using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point t0) {
    return std::chrono::duration<double>(Steady::now() - t0).count();
}

Grid make_grid(unsigned sites, unsigned nodes, unsigned slots) {
    Grid g;
    for (unsigned s = 0; s < sites; ++s) {
        hearth::Site site;
        site.name = "site" + std::to_string(s);
        g.sites.push_back(site);
        for (unsigned n = 0; n < nodes; ++n) {
            hearth::GridNode node;
            node.name = site.name + "-n" + std::to_string(n);
            node.site = site.name;
            node.host = node.name;
            node.slots = slots;
            g.nodes.push_back(node);
        }
    }
    return g;
}

Role operator_role() {
    Role r;
    r.kind = hearth::RoleKind::operator_;
    return r;
}

long peak_rss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

std::string sql_text(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

// Where requests go: the scheduler in this process, or one over HTTP.
struct Backend {
    std::function<std::string(const hearth::JobSubmit&)> submit;  // the job's id
    std::function<WorkReply(const WorkRequest&)> work;
    std::function<hearth::JobInfo(const std::string&)> job;
};

int dispatch_loop(Backend& b, const Grid& grid, std::uint64_t tasks, unsigned sites, unsigned nodes,
                  unsigned slots, const std::string& peer_sql) {
    hearth::SystemClock clock;
    hearth::JobSubmit sub;
    sub.tenant = "bench";
    sub.split = hearth::SplitKind::count;
    sub.split_text = std::to_string(tasks);
    sub.command = {"true"};
    const std::string job = b.submit(sub);

    std::ofstream sql(peer_sql);
    sql << "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n"
           "CREATE TABLE attempts(job TEXT, task INTEGER, attempt INTEGER, site TEXT, node TEXT,"
           " state TEXT, started_ms INTEGER, ended_ms INTEGER, exit_code INTEGER,"
           " PRIMARY KEY(job, task, attempt));\n"
           "CREATE TABLE commits(job TEXT, task INTEGER, attempt INTEGER, PRIMARY KEY(job, task));\n";

    // One thread a site, as sites are separate machines: each holds what it
    // was granted and reports it finished in its next request.
    std::mutex sql_mu;
    std::atomic<std::uint64_t> granted{0}, committed{0}, requests{0};
    std::atomic<bool> failed{false};
    const auto t0 = Steady::now();
    auto site_loop = [&](unsigned s) {
        try {
            std::vector<hearth::TaskGrant> held;
            while (committed.load() < tasks && !failed.load()) {
                WorkRequest req;
                req.site = grid.sites[s].name;
                req.run = "bench-run";
                for (unsigned n = 0; n < nodes; ++n) {
                    NodeReport nr;
                    nr.node = grid.nodes[s * nodes + n].name;
                    nr.host = nr.node;
                    nr.slots = slots;
                    nr.running = 0;  // everything held finished: it is all in `results`
                    nr.want = slots;
                    req.nodes.push_back(nr);
                }
                for (const auto& g : held) {
                    AttemptResult r;
                    r.key = g.key;
                    r.node = g.node;
                    r.wall_ms = 1;
                    req.results.push_back(r);
                }
                const std::int64_t now_ms = clock.unix_ms();
                WorkReply rep = b.work(req);
                ++requests;
                committed += rep.acked;
                granted += rep.tasks.size();
                {
                    // The peer: the same rows in one transaction per request.
                    std::ostringstream tx;
                    tx << "BEGIN;\n";
                    for (const auto& r : req.results)
                        tx << "UPDATE attempts SET state='ok', ended_ms=" << now_ms << ", exit_code=0"
                           << " WHERE job=" << sql_text(r.key.job) << " AND task=" << r.key.task
                           << " AND attempt=" << r.key.attempt << ";\n"
                           << "INSERT INTO commits VALUES(" << sql_text(r.key.job) << "," << r.key.task
                           << "," << r.key.attempt << ");\n";
                    for (const auto& g : rep.tasks)
                        tx << "INSERT INTO attempts VALUES(" << sql_text(g.key.job) << "," << g.key.task
                           << "," << g.key.attempt << "," << sql_text(req.site) << ","
                           << sql_text(g.node) << ",'running'," << now_ms << ",NULL,NULL);\n";
                    tx << "COMMIT;\n";
                    std::lock_guard lock(sql_mu);
                    sql << tx.str();
                }
                held = std::move(rep.tasks);
                // Nothing granted, nothing held: the other sites hold the rest.
                if (held.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                if (seconds_since(t0) > 600) throw hearth::Error("no end after 600 s");
            }
        } catch (const std::exception& e) {
            std::cerr << "sched_dispatch: " << grid.sites[s].name << ": " << e.what() << "\n";
            failed = true;
        }
    };
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < sites; ++s) threads.emplace_back(site_loop, s);
    for (auto& t : threads) t.join();
    if (failed) return 1;
    const double secs = seconds_since(t0);
    const auto info = b.job(job);
    std::cout << "tasks " << tasks << "\nrequests " << requests.load() << "\ngranted " << granted.load()
              << "\ncommitted " << committed.load() << "\njob_state " << hearth::to_string(info.state)
              << "\njob_committed " << info.committed << "\nseconds " << secs
              << "\nassignments_per_s " << static_cast<double>(granted.load()) / secs << "\npeak_rss_kb " << peak_rss_kb()
              << "\n";
    return info.committed == tasks ? 0 : 1;
}

int dispatch(const std::string& dir, std::uint64_t tasks, unsigned sites, unsigned nodes,
             unsigned slots, const std::string& peer_sql) {
    hearth::SystemClock clock;
    const Grid grid = make_grid(sites, nodes, slots);
    Scheduler sched(dir, grid, clock, hearth::schedule);
    Backend b;
    b.submit = [&](const hearth::JobSubmit& s) { return sched.submit(operator_role(), s).id; };
    std::mutex mu;  // as hearth serve: one call at a time
    b.work = [&](const WorkRequest& r) {
        std::lock_guard lock(mu);
        return sched.work(r.site, r);
    };
    b.job = [&](const std::string& id) { return sched.job(operator_role(), id); };
    return dispatch_loop(b, grid, tasks, sites, nodes, slots, peer_sql);
}

// One libcurl handle a site (keep-alive), as a site's dispatcher holds one.
class HttpLink {
public:
    explicit HttpLink(std::string base) : m_base(std::move(base)), m_curl(curl_easy_init(), curl_easy_cleanup) {
        if (!m_curl) throw hearth::Error("curl_easy_init failed");
    }
    nlohmann::json call(const char* method, const std::string& path, const nlohmann::json* body) {
        CURL* c = m_curl.get();
        std::string out, in = body ? body->dump() : std::string();
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
        curl_easy_setopt(c, CURLOPT_URL, (m_base + path).c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        if (body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, in.c_str());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(in.size()));
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        } else {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        }
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t sz, size_t n, void* u) {
            static_cast<std::string*>(u)->append(p, sz * n);
            return sz * n;
        });
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
        const CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(headers);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK) throw hearth::Error(m_base + path + ": " + curl_easy_strerror(rc));
        if (status / 100 != 2)
            throw hearth::Error(m_base + path + ": HTTP " + std::to_string(status) + " " + out);
        return nlohmann::json::parse(out);
    }

private:
    std::string m_base;
    std::unique_ptr<CURL, void (*)(CURL*)> m_curl;
};

int dispatch_http(const std::string& url, std::uint64_t tasks, unsigned sites, unsigned nodes,
                  unsigned slots, const std::string& peer_sql) {
    const Grid grid = make_grid(sites, nodes, slots);
    HttpLink client(url);
    std::vector<std::unique_ptr<HttpLink>> links;
    for (unsigned s = 0; s < sites; ++s) links.push_back(std::make_unique<HttpLink>(url));
    std::map<std::string, HttpLink*> by_site;
    for (unsigned s = 0; s < sites; ++s) by_site[grid.sites[s].name] = links[s].get();
    Backend b;
    b.submit = [&](const hearth::JobSubmit& s) {
        const nlohmann::json body = hearth::to_json(s);
        return hearth::job_info_from_json(client.call("POST", "/v1/jobs", &body)).id;
    };
    b.work = [&](const WorkRequest& r) {
        const nlohmann::json body = hearth::to_json(r);
        return hearth::work_reply_from_json(by_site.at(r.site)->call("POST", "/v1/sites/" + r.site + "/work", &body));
    };
    b.job = [&](const std::string& id) {
        return hearth::job_info_from_json(client.call("GET", "/v1/jobs/" + id, nullptr));
    };
    return dispatch_loop(b, grid, tasks, sites, nodes, slots, peer_sql);
}

int scale(const std::string& dir, unsigned jobs, std::uint64_t per_job) {
    hearth::SystemClock clock;
    Grid grid = make_grid(1, 4, 16);
    Scheduler sched(dir, grid, clock, hearth::schedule);
    std::vector<double> lat_ms;
    for (unsigned j = 0; j < jobs; ++j) {
        hearth::JobSubmit sub;
        sub.tenant = j % 2 ? "studio" : "bank";
        sub.split = hearth::SplitKind::count;
        sub.split_text = std::to_string(per_job);
        sub.command = {"/bin/echo", "{task}"};
        sub.priority = static_cast<std::int32_t>(j % 7);
        const auto t0 = Steady::now();
        sched.submit(operator_role(), sub);
        lat_ms.push_back(seconds_since(t0) * 1000);
    }
    std::sort(lat_ms.begin(), lat_ms.end());
    auto pct = [&](double p) {
        return lat_ms[std::min(lat_ms.size() - 1, static_cast<std::size_t>(p * lat_ms.size()))];
    };
    WorkRequest req;
    req.site = "site0";
    req.run = "bench-run";
    for (const auto& n : grid.nodes) {
        NodeReport nr;
        nr.node = n.name;
        nr.host = n.host;
        nr.slots = n.slots;
        nr.want = n.slots;
        req.nodes.push_back(nr);
    }
    const auto t0 = Steady::now();
    const auto rep = sched.work(req.site, req);
    const double work_ms = seconds_since(t0) * 1000;
    std::cout << "jobs " << jobs << "\ntasks_total " << jobs * per_job << "\nsubmit_p50_ms "
              << pct(0.5) << "\nsubmit_p99_ms " << pct(0.99) << "\nsubmit_max_ms "
              << lat_ms.back() << "\nwork_ms " << work_ms << "\nwork_granted " << rep.tasks.size()
              << "\npeak_rss_kb " << peak_rss_kb() << "\n";
    return rep.tasks.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> a(argv + 1, argv + argc);
        if (a.size() == 7 && a[0] == "dispatch")
            return dispatch(a[1], std::stoull(a[2]), std::stoul(a[3]), std::stoul(a[4]),
                            std::stoul(a[5]), a[6]);
        if (a.size() == 7 && a[0] == "http")
            return dispatch_http(a[1], std::stoull(a[2]), std::stoul(a[3]), std::stoul(a[4]),
                                 std::stoul(a[5]), a[6]);
        if (a.size() == 4 && a[0] == "scale")
            return scale(a[1], std::stoul(a[2]), std::stoull(a[3]));
        std::cerr << "usage: sched_dispatch dispatch DIR TASKS SITES NODES SLOTS PEER_SQL\n"
                     "       sched_dispatch http URL TASKS SITES NODES SLOTS PEER_SQL\n"
                     "       sched_dispatch scale DIR JOBS TASKS_PER_JOB\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "sched_dispatch: " << e.what() << "\n";
        return 1;
    }
}
