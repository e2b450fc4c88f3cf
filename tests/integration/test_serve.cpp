// hearth serve, the real program on loopback with a tokens file (two
// tenants, an operator, a facility, a site), and its clients: submissions
// over HTTP and through `hearth submit`, `hearth jobs`, the roles on every
// kind of route, refusals as JSON naming the field, a site simulated by the
// test itself (it POSTs WorkRequests with results, as `hearth site` does),
// `hearth fetch` byte for byte, and a SIGKILL of the scheduler mid-job.
#include <boost/test/unit_test.hpp>

#include <random>

#include "core/auth.hpp"
#include "core/jobs_api.hpp"
#include "core/site_api.hpp"
#include "harness.hpp"
#include "serve_http.hpp"

using namespace hearth::test;

namespace {

std::string sha256_of(const std::string& data) { return hearth::to_hex(hearth::sha256(data)); }

// A scheduler of the test, killed at the end.
class Serve {
public:
    Serve(const TempDir& t, const fs::path& state, std::vector<std::string> extra = {})
        : m_t(t), m_state(state), m_extra(std::move(extra)) {
        start();
    }
    ~Serve() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            wait_exit(m_pid);
        }
    }
    void start() {
        fs::create_directories(m_t / "serve");
        fs::remove(m_t / "serve" / ".bg.err");
        std::vector<std::string> args{"serve",       "--grid",         (m_t / "grid.toml").string(),
                                      "--state",     m_state.string(), "--listen",
                                      "127.0.0.1:0", "--tokens",       (m_t / "tokens").string()};
        args.insert(args.end(), m_extra.begin(), m_extra.end());
        m_pid = start_hearth(args, m_t / "serve");
        const std::string port = listening_port(m_t / "serve");
        BOOST_TEST_REQUIRE(!port.empty(),
                           "hearth serve did not start: " + slurp(m_t / "serve" / ".bg.err"));
        m_url = "http://127.0.0.1:" + port;
    }
    int kill(int sig) {
        ::kill(m_pid, sig);
        const int code = wait_exit(m_pid);
        m_pid = -1;
        return code;
    }
    const std::string& url() const { return m_url; }
    std::string log() const { return slurp(m_t / "serve" / ".bg.err"); }

private:
    const TempDir& m_t;
    fs::path m_state;
    std::vector<std::string> m_extra;
    pid_t m_pid = -1;
    std::string m_url;
};

// The grid file, and a tokens file made by `hearth token new`.
struct Grid {
    std::map<std::string, std::string> token;  // role -> token
    explicit Grid(const TempDir& t) {
        std::ofstream(t / "grid.toml") << k_home_grid;
        for (const char* role : {"tenant:bank", "tenant:studio", "operator", "facility", "site:home"}) {
            Result r = run_hearth({"token", "new", "--role", role, "--tokens", (t / "tokens").string()}, t.path);
            BOOST_TEST_REQUIRE(r.code == 0, r.err);
            token[role] = r.out.substr(0, r.out.find('\n'));
        }
    }
};

// hearth as a client of the server, with the token of a role.
Result client(const TempDir& t, const std::vector<std::string>& args, const std::string& token,
              const std::string& server) {
    fs::create_directories(t / "client" / "home");
    return run_hearth(args, t / "client",
                      "env -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT HOME=" +
                          quote((t / "client" / "home").string()) + " HEARTH_TOKEN=" + quote(token) +
                          " HEARTH_SERVER=" + quote(server));
}

hearth::NodeReport node_n1(std::uint32_t want) {
    hearth::NodeReport n;
    n.node = "n1";
    n.host = "localhost";
    n.slots = 4;
    n.want = want;
    return n;
}

// The site `home`, as its dispatcher would be: asks for work, runs nothing,
// returns each granted attempt's result (a log and one output, uploaded
// first) with its next request.
class FakeSite {
public:
    FakeSite(const TempDir& t, std::string token) : m_t(t), m_token(std::move(token)) {}

    // One request; its reply. Results of the attempts granted before go with it.
    hearth::WorkReply ask(const std::string& server, std::uint32_t want, const std::string& run = "run-1") {
        hearth::WorkRequest req;
        req.site = "home";
        req.run = run;
        req.nodes.push_back(node_n1(want));
        req.results = m_results;
        Reply r = http(m_t, "POST", server + "/v1/sites/home/work", m_token, to_json(req).dump());
        BOOST_TEST_REQUIRE(r.code == 200, r.body);
        hearth::WorkReply reply = hearth::work_reply_from_json(r.json());
        BOOST_TEST(reply.acked == m_results.size());
        m_results.clear();
        for (const auto& rt : reply.jobs) m_runtimes[rt.job] = rt;
        for (const auto& g : reply.tasks) finish(server, g);
        return reply;
    }
    std::map<std::string, std::string> outputs;  // name -> bytes, of every result sent
    std::map<std::string, hearth::JobRuntime> m_runtimes;

private:
    void finish(const std::string& server, const hearth::TaskGrant& g) {
        // Binary, with zero bytes and high bytes: byte for byte means every byte.
        std::mt19937 rng(static_cast<unsigned>(g.key.task * 7919 + 1));
        std::string data = "task " + std::to_string(g.key.task) + "\n";
        data += std::string(1, '\0');
        for (int i = 0; i < 70000; ++i) data += static_cast<char>(rng() & 0xff);
        const std::string name = "out" + std::to_string(g.key.task) + ".bin";
        const fs::path file = m_t / ("site-" + name);
        std::ofstream(file, std::ios::binary) << data;
        const std::string sha = sha256_of(data);
        Reply put = http(m_t, "PUT", server + "/v1/blobs/" + sha, m_token, std::nullopt, file);
        BOOST_TEST_REQUIRE((put.code == 201 || put.code == 200), put.body);
        hearth::AttemptResult res;
        res.key = g.key;
        res.node = g.node;
        res.wall_ms = 5;
        res.log = "hello from task " + std::to_string(g.key.task) + "\n";
        hearth::BlobRef b;
        b.name = name;
        b.sha256 = sha;
        b.size = data.size();
        b.mode = 0644;
        res.outputs.push_back(b);
        m_results.push_back(res);
        outputs[name] = data;
    }

    const TempDir& m_t;
    std::string m_token;
    std::vector<hearth::AttemptResult> m_results;
};

// Asks for work until the job ends (the policy may grant in several batches).
hearth::JobInfo run_to_end(const TempDir& t, FakeSite& site, const std::string& server, const std::string& job,
                           const std::string& op_token, const std::string& run = "run-1") {
    hearth::JobInfo j;
    for (int i = 0; i < 200; ++i) {
        site.ask(server, 4, run);
        Reply r = http(t, "GET", server + "/v1/jobs/" + job, op_token);
        BOOST_TEST_REQUIRE(r.code == 200, r.body);
        j = hearth::job_info_from_json(r.json());
        if (hearth::is_final(j.state)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return j;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(serve)

BOOST_AUTO_TEST_CASE(bad_setups_are_refused_before_anything_starts) {
    TempDir t;
    std::ofstream(t / "grid.toml") << k_home_grid;
    const std::string grid = (t / "grid.toml").string(), state = (t / "state").string();
    Result r = run_hearth({"serve", "--grid", grid, "--state", state, "--listen", "0.0.0.0:0", "--no-auth"}, t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("loopback") != std::string::npos, r.err);
    r = run_hearth({"serve", "--grid", grid, "--state", state, "--listen", "127.0.0.1:0"}, t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("--tokens") != std::string::npos, r.err);
    r = run_hearth({"serve", "--grid", (t / "missing.toml").string(), "--state", state, "--no-auth"}, t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(!fs::exists(t / "state"));
    // The client side: no server named is a usage error, not a local run.
    r = run_hearth({"submit", "--tenant", "bank", "--count", "2", "--", "echo"}, t.path, "env -u HEARTH_SERVER");
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("--server") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(tenants_see_their_own_jobs_operators_all_facilities_none) {
    TempDir t;
    Grid g(t);
    Serve s(t, t / "state");
    const std::string bank = g.token["tenant:bank"], studio = g.token["tenant:studio"], op = g.token["operator"],
                      fac = g.token["facility"], site = g.token["site:home"];
    BOOST_TEST(http(t, "GET", s.url() + "/v1/health", "").code == 200);
    Reply who = http(t, "GET", s.url() + "/v1/whoami", site);
    BOOST_TEST(who.code == 200);
    BOOST_TEST(who.json().value("role", "") == "site:home");

    // Over HTTP: 201 and the job, the tenant taken from the token.
    Reply sub = http(t, "POST", s.url() + "/v1/jobs", bank,
                     R"({"split":"count","split_text":"3","command":["echo","{item}"]})");
    BOOST_TEST_REQUIRE(sub.code == 201, sub.body);
    const std::string id = sub.json().value("id", "");
    BOOST_TEST(sub.json().value("tenant", "") == "bank");
    BOOST_TEST(sub.json().value("total", 0) == 3);

    // Through hearth submit: the id alone on stdout, and the job still queued
    // when it returns (no site has asked for work: it did not wait for any).
    Result cli = client(t, {"submit", "--count", "5", "--name", "cli", "--", "echo", "{item}"}, bank, s.url());
    BOOST_TEST_REQUIRE(cli.code == 0, cli.err);
    const std::string cli_id = cli.out.substr(0, cli.out.find('\n'));
    BOOST_TEST(count_lines(cli.out) == 1u);
    Reply cj = http(t, "GET", s.url() + "/v1/jobs/" + cli_id, bank);
    BOOST_TEST_REQUIRE(cj.code == 200, cj.body);
    BOOST_TEST(cj.json().value("state", "") == "queued");
    BOOST_TEST(cj.json().value("total", 0) == 5);

    // hearth jobs: a tenant's own, in a table and as JSON.
    Result jobs = client(t, {"jobs"}, bank, s.url());
    BOOST_TEST_REQUIRE(jobs.code == 0, jobs.err);
    BOOST_TEST(jobs.out.find(id) != std::string::npos, jobs.out);
    BOOST_TEST(jobs.out.find(cli_id) != std::string::npos, jobs.out);
    BOOST_TEST(jobs.out.find("queued") != std::string::npos, jobs.out);
    Result other = client(t, {"jobs", "--json"}, studio, s.url());
    BOOST_TEST_REQUIRE(other.code == 0, other.err);
    BOOST_TEST(nlohmann::json::parse(other.out).at("jobs").empty(), other.out);
    Result all = client(t, {"jobs", "--json", "--tenant", "bank"}, op, s.url());
    BOOST_TEST_REQUIRE(all.code == 0, all.err);
    BOOST_TEST(nlohmann::json::parse(all.out).at("jobs").size() == 2u, all.out);

    // Another tenant: 404, as for a job that does not exist; a facility or a
    // site: 403; no token: 401. Each a JSON error.
    for (const std::string& path : {"/v1/jobs/" + id, "/v1/jobs/" + id + "/tasks", "/v1/jobs/" + id + "/outputs"}) {
        Reply r = http(t, "GET", s.url() + path, studio);
        BOOST_TEST(r.code == 404, path << ": " << r.body);
        BOOST_TEST(r.json().contains("error"), r.body);
        BOOST_TEST(http(t, "GET", s.url() + path, fac).code == 403, path);
        BOOST_TEST(http(t, "GET", s.url() + path, site).code == 403, path);
        BOOST_TEST(http(t, "GET", s.url() + path, "").code == 401, path);
        BOOST_TEST(http(t, "GET", s.url() + path, op).code == 200, path);
    }
    BOOST_TEST(http(t, "GET", s.url() + "/v1/jobs/" + id + "/events", studio).code == 404);
    BOOST_TEST(http(t, "GET", s.url() + "/v1/jobs?tenant=bank", studio).code == 403);
    // Blobs: tenants and sites move them, a facility does not.
    std::ofstream(t / "blob") << "some input";
    const std::string blob_url = s.url() + "/v1/blobs/" + sha256_of("some input");
    BOOST_TEST(http(t, "PUT", blob_url, fac, std::nullopt, t / "blob").code == 403);
    BOOST_TEST(http(t, "PUT", blob_url, bank, std::nullopt, t / "blob").code == 201);
    BOOST_TEST(http(t, "PUT", blob_url, site, std::nullopt, t / "blob").code == 200);  // there already
    BOOST_TEST(http(t, "GET", blob_url, fac).code == 403);
    BOOST_TEST(http(t, "GET", blob_url, "").code == 401);
    BOOST_TEST(http(t, "GET", blob_url, site).body == "some input");
    BOOST_TEST(http(t, "GET", s.url() + "/v1/jobs", fac).code == 403);
    Reply steal = http(t, "POST", s.url() + "/v1/jobs/" + id + "/cancel", studio, "{}");
    BOOST_TEST(steal.code == 404, steal.body);
    Result steal_cli = client(t, {"cancel", id}, studio, s.url());
    BOOST_TEST(steal_cli.code == 2, steal_cli.err);
    // A tenant token may not ask for a site's work, nor one site for another's.
    const std::string work = R"({"site":"home","run":"r","nodes":[]})";
    BOOST_TEST(http(t, "POST", s.url() + "/v1/sites/home/work", bank, work).code == 403);
    BOOST_TEST(http(t, "POST", s.url() + "/v1/sites/pool/work", site,
                    R"({"site":"pool","run":"r","nodes":[]})").code == 403);

    // The owner cancels through the client; the job says so.
    Result cancel = client(t, {"cancel", cli_id}, bank, s.url());
    BOOST_TEST(cancel.code == 0, cancel.err);
    Result st = client(t, {"status", cli_id, "--json"}, bank, s.url());
    BOOST_TEST_REQUIRE(st.code == 0, st.err);
    BOOST_TEST(nlohmann::json::parse(st.out).value("state", "") == "cancelled", st.out);
}

BOOST_AUTO_TEST_CASE(bad_submissions_are_refused_naming_the_field_and_queue_nothing) {
    TempDir t;
    Grid g(t);
    Serve s(t, t / "state");
    const std::string bank = g.token["tenant:bank"];
    struct Case {
        std::string body, field;
    };
    for (const Case& c : std::vector<Case>{
             {R"({"split":"count","split_text":"10","command":["echo"],"chunk":0})", "chunk"},
             {R"({"split":"count","split_text":"10","command":[]})", "command"},
             {R"({"split":"planets","split_text":"10","command":["echo"]})", "split"},
             {R"({"split":"count","split_text":"10","command":["echo"],"priority":5000})", "priority"},
             {R"({"split":"count","split_text":"10","command":["echo"],"colour":"red"})", "colour"},
             {R"({"split":"count","split_text":"10","command":["echo"],"stage":[{"name":"../x","sha256":"00"}]})", "'name'"},
             {R"(not json)", "JSON"},
         }) {
        Reply r = http(t, "POST", s.url() + "/v1/jobs", bank, c.body);
        BOOST_TEST(r.code == 400, c.body << ": " << r.body);
        const auto j = r.json();
        BOOST_TEST_REQUIRE(j.is_object(), r.body);
        BOOST_TEST(j.value("error", "").find(c.field) != std::string::npos, c.body << ": " << r.body);
    }
    // Refused by the client before anything is sent, or by the server (a
    // word over its limit): exit 2 either way, with the reason.
    Result r = client(t, {"submit", "--count", "4", "--priority", "5000", "--", "echo"}, bank, s.url());
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("--priority") != std::string::npos, r.err);
    r = client(t, {"submit", "--count", "4", "--hosts", "h", "--", "echo"}, bank, s.url());
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("--hosts") != std::string::npos, r.err);
    r = client(t, {"submit", "--count", "4", "--", "echo", std::string(70 * 1024, 'x')}, bank, s.url());
    BOOST_TEST(r.code == 2, r.err);
    BOOST_TEST(r.err.find("command") != std::string::npos, r.err);
    r = client(t, {"jobs", "--state", "sleeping"}, bank, s.url());
    BOOST_TEST(r.code == 2, r.err);
    // Nothing was queued by any of them.
    Reply list = http(t, "GET", s.url() + "/v1/jobs", g.token["operator"]);
    BOOST_TEST_REQUIRE(list.code == 200, list.body);
    BOOST_TEST(list.json().at("jobs").empty(), list.body);
    // A corrupt upload is refused and not kept; an unknown route is a JSON 404.
    std::ofstream(t / "blob") << "the real bytes";
    const std::string wrong = sha256_of("other bytes");
    Reply put = http(t, "PUT", s.url() + "/v1/blobs/" + wrong, bank, std::nullopt, t / "blob");
    BOOST_TEST(put.code == 400, put.body);
    BOOST_TEST(put.json().value("error", "").find("SHA-256") != std::string::npos, put.body);
    BOOST_TEST(http(t, "GET", s.url() + "/v1/blobs/" + wrong, bank).code == 404);
    Reply nowhere = http(t, "GET", s.url() + "/v1/planets", bank);
    BOOST_TEST(nowhere.code == 404);
    BOOST_TEST(nowhere.json().contains("error"), nowhere.body);
}

BOOST_AUTO_TEST_CASE(a_site_completes_the_tasks_and_fetch_downloads_the_outputs_byte_for_byte) {
    TempDir t;
    Grid g(t);
    Serve s(t, t / "state");
    const std::string bank = g.token["tenant:bank"], op = g.token["operator"];
    fs::create_directories(t / "client");
    std::string input = "scene data\n";
    input += std::string(3, '\0') + "\xff\xfe binary input";
    std::ofstream(t / "client" / "scene.pov", std::ios::binary) << input;
    Result sub = client(t,
                        {"submit", "--count", "3", "--stage", "scene.pov", "--collect", "out*.bin", "--", "render",
                         "{item}"},
                        bank, s.url());
    BOOST_TEST_REQUIRE(sub.code == 0, sub.err);
    const std::string id = sub.out.substr(0, sub.out.find('\n'));

    FakeSite site(t, g.token["site:home"]);
    const hearth::JobInfo end = run_to_end(t, site, s.url(), id, op);
    BOOST_TEST(to_string(end.state) == std::string("finished"));
    BOOST_TEST(end.committed == 3u);
    // The staged input reached the site as uploaded: named, and the same bytes.
    BOOST_TEST_REQUIRE(site.m_runtimes.count(id) == 1u);
    const auto& stage = site.m_runtimes[id].stage;
    BOOST_TEST_REQUIRE(stage.size() == 1u);
    BOOST_TEST(stage[0].name == "scene.pov");
    BOOST_TEST(stage[0].sha256 == sha256_of(input));
    Reply blob = http(t, "GET", s.url() + "/v1/blobs/" + stage[0].sha256, g.token["site:home"]);
    BOOST_TEST(blob.code == 200);
    BOOST_TEST(blob.body == input);

    // The client: status, a task's log, the outputs byte for byte.
    Result st = client(t, {"status", id, "--json"}, bank, s.url());
    BOOST_TEST_REQUIRE(st.code == 0, st.err);
    const auto sj = nlohmann::json::parse(st.out);
    BOOST_TEST(sj.value("state", "") == "finished");
    BOOST_TEST(sj.value("done", 0) == 3);
    BOOST_TEST(sj.value("tasks", 0) == 3);
    Result log = client(t, {"logs", id, "1"}, bank, s.url());
    BOOST_TEST(log.code == 0, log.err);
    BOOST_TEST(log.out.find("hello from task 1") != std::string::npos, log.out);
    BOOST_TEST(log.out.rfind("== task 1 attempt 1 on ", 0) == 0,
               log.out);  // the heading, as a local job's
    Result fetch = client(t, {"fetch", id}, bank, s.url());
    BOOST_TEST_REQUIRE(fetch.code == 0, fetch.err);
    BOOST_TEST(site.outputs.size() == 3u);
    for (const auto& [name, data] : site.outputs) {
        const fs::path got = t / "client" / id / "out" / name;
        BOOST_TEST_REQUIRE(fs::exists(got), got);
        BOOST_TEST((slurp(got) == data), name << " differs from what the site sent");
    }
    // Another tenant fetches nothing of it.
    Result steal = client(t, {"fetch", id, "--out", "stolen"}, g.token["tenant:studio"], s.url());
    BOOST_TEST(steal.code == 2);
    BOOST_TEST(!fs::exists(t / "client" / "stolen"));
    // The event stream of a finished job: its last state, then the end.
    const std::string events = sh_out("curl -s -N --max-time 20 -H " + quote("Authorization: Bearer " + bank) + " " +
                                      quote(s.url() + "/v1/jobs/" + id + "/events"));
    BOOST_TEST(events.find("event: job") != std::string::npos, events);
    BOOST_TEST(events.find("\"state\":\"finished\"") != std::string::npos, events);
}

BOOST_AUTO_TEST_CASE(queued_work_no_heat_budget_allows_shows_as_waiting_for_heat) {
    TempDir t;
    Grid g(t);
    Serve s(t, t / "state");
    const std::string bank = g.token["tenant:bank"], site = g.token["site:home"];
    Result sub = client(t, {"submit", "--count", "6", "--", "render", "{item}"}, bank, s.url());
    BOOST_TEST_REQUIRE(sub.code == 0, sub.err);
    const std::string id = sub.out.substr(0, sub.out.find('\n'));
    // The site's only node: 4 slots, its agent's heat budget allows one.
    std::vector<hearth::AttemptKey> held;  // what the site runs: every grant, none ends here
    auto ask = [&](std::uint32_t allowed, std::uint32_t running, std::uint32_t want) {
        hearth::WorkRequest req;
        req.site = "home";
        req.run = "run-1";
        req.held = held;
        hearth::NodeReport n = node_n1(want);
        n.running = running;
        n.heat = hearth::HeatReport{true, allowed, 4, 0};
        req.nodes.push_back(n);
        Reply r = http(t, "POST", s.url() + "/v1/sites/home/work", site, to_json(req).dump());
        BOOST_TEST_REQUIRE(r.code == 200, r.body);
        hearth::WorkReply reply = hearth::work_reply_from_json(r.json());
        for (const auto& g : reply.tasks) held.push_back(g.key);
        return reply;
    };
    const hearth::WorkReply first = ask(1, 0, 1);
    BOOST_TEST_REQUIRE(first.tasks.size() == 1u);
    ask(1, 1, 0);  // it runs the one; the budget is spent, 3 slots idle
    Result st = client(t, {"status", id, "--json"}, bank, s.url());
    BOOST_TEST_REQUIRE(st.code == 0, st.err);
    const auto sj = nlohmann::json::parse(st.out);
    BOOST_TEST(sj.value("state", "") == "running");  // the names scripts read are kept
    BOOST_TEST(sj.value("waiting_for_heat", -1) == 5);
    BOOST_TEST(sj.value("pending", -1) == 5);
    Result human = client(t, {"status", id}, bank, s.url());
    BOOST_TEST(human.out.find("5 waiting for heat") != std::string::npos, human.out);
    Reply job = http(t, "GET", s.url() + "/v1/jobs/" + id, bank);
    BOOST_TEST(job.json().value("waiting_for_heat", -1) == 5, job.body);
    Reply tasks = http(t, "GET", s.url() + "/v1/jobs/" + id + "/tasks", bank);
    BOOST_TEST_REQUIRE(tasks.code == 200, tasks.body);
    std::map<std::string, int> states;
    const nlohmann::json listed = tasks.json();
    for (const auto& task : listed["tasks"]) ++states[task.value("state", "")];
    BOOST_TEST(states["running"] == 1);
    BOOST_TEST(states["waiting_for_heat"] == 5, tasks.body);
    // The budget opens: granted, and what is left is plain queued (the
    // node has heat-allowed room; the site asks for what it wants).
    ask(4, 1, 1);
    job = http(t, "GET", s.url() + "/v1/jobs/" + id, bank);
    BOOST_TEST(job.json().value("waiting_for_heat", -1) == 0, job.body);
    tasks = http(t, "GET", s.url() + "/v1/jobs/" + id + "/tasks", bank);
    BOOST_TEST(tasks.body.find("waiting_for_heat") == std::string::npos, tasks.body);
}

BOOST_AUTO_TEST_CASE(a_site_silent_past_the_lease_loses_its_tasks_without_using_a_retry) {
    TempDir t;
    Grid g(t);
    // Out of range or unreadable: refused at start, one line, exit 2.
    for (const char* bad : {"500ms", "2d", "soon"}) {
        Result r = run_hearth({"serve", "--grid", (t / "grid.toml").string(), "--state",
                               (t / "bad").string(), "--no-auth", "--lease", bad},
                              t.path);
        BOOST_TEST(r.code == 2, bad << ": " << r.err);
        BOOST_TEST(r.err.find("--lease") != std::string::npos, r.err);
        BOOST_TEST(!fs::exists(t / "bad"));
    }
    Serve s(t, t / "state", {"--lease", "2s"});
    BOOST_TEST(s.log().find("site lease 2s") != std::string::npos, s.log());
    const std::string bank = g.token["tenant:bank"], op = g.token["operator"];
    Result sub = client(t, {"submit", "--count", "2", "--retries", "0", "--", "render", "{item}"},
                        bank, s.url());
    BOOST_TEST_REQUIRE(sub.code == 0, sub.err);
    const std::string id = sub.out.substr(0, sub.out.find('\n'));
    // The site takes both tasks and goes silent.
    hearth::WorkRequest req;
    req.site = "home";
    req.run = "run-1";
    req.nodes.push_back(node_n1(2));
    Reply r =
        http(t, "POST", s.url() + "/v1/sites/home/work", g.token["site:home"], to_json(req).dump());
    BOOST_TEST_REQUIRE(r.code == 200, r.body);
    const hearth::WorkReply taken = hearth::work_reply_from_json(r.json());
    BOOST_TEST_REQUIRE(taken.tasks.size() == 2u);
    BOOST_TEST(taken.lease_ms == 2000);
    // Past the lease (the scheduler looks every second): both queued again.
    hearth::JobInfo j;
    const bool requeued = wait_for(
        [&] {
            j = hearth::job_info_from_json(http(t, "GET", s.url() + "/v1/jobs/" + id, op).json());
            return j.running == 0;
        },
        std::chrono::seconds(15));
    BOOST_TEST_REQUIRE(requeued, "still running after 15 s with a 2 s lease");
    BOOST_TEST(j.failed == 0u);
    BOOST_TEST((j.state != hearth::JobState::failed));
    // With --retries 0 a failure would end the job: a lapse is no failure,
    // the tasks run again (attempt 2) and the job finishes.
    FakeSite site(t, g.token["site:home"]);
    const hearth::JobInfo end = run_to_end(t, site, s.url(), id, op, "run-2");
    BOOST_TEST(to_string(end.state) == std::string("finished"));
    BOOST_TEST(end.committed == 2u);
    BOOST_TEST(end.failed == 0u);
    Reply tasks = http(t, "GET", s.url() + "/v1/jobs/" + id + "/tasks", op);
    const nlohmann::json listed = tasks.json();
    for (const auto& task : listed["tasks"]) BOOST_TEST(task.value("attempts", 0) == 2, tasks.body);
}

BOOST_AUTO_TEST_CASE(a_sigkilled_scheduler_restarts_with_its_jobs_and_committed_tasks) {
    TempDir t;
    Grid g(t);
    auto s = std::make_unique<Serve>(t, t / "state");
    const std::string bank = g.token["tenant:bank"], op = g.token["operator"];
    Result sub = client(t, {"submit", "--count", "6", "--collect", "out*.bin", "--", "render", "{item}"}, bank,
                        s->url());
    BOOST_TEST_REQUIRE(sub.code == 0, sub.err);
    const std::string id = sub.out.substr(0, sub.out.find('\n'));

    // Two tasks granted and their results delivered (acknowledged: committed).
    FakeSite site(t, g.token["site:home"]);
    site.ask(s->url(), 2);
    site.ask(s->url(), 0);
    Reply before = http(t, "GET", s->url() + "/v1/jobs/" + id, bank);
    BOOST_TEST_REQUIRE(before.code == 200, before.body);
    const auto committed = before.json().value("committed", std::uint64_t{0});
    BOOST_TEST(committed >= 1u);

    BOOST_TEST(s->kill(SIGKILL) == 128 + SIGKILL);
    s->start();  // the same --state
    Reply after = http(t, "GET", s->url() + "/v1/jobs/" + id, bank);
    BOOST_TEST_REQUIRE(after.code == 200, after.body + " / " + s->log());
    BOOST_TEST(after.json().value("committed", std::uint64_t{0}) == committed);
    BOOST_TEST(after.json().value("total", 0) == 6);
    Reply outs = http(t, "GET", s->url() + "/v1/jobs/" + id + "/outputs", bank);
    BOOST_TEST_REQUIRE(outs.code == 200, outs.body);
    BOOST_TEST(outs.json().at("outputs").size() == committed);

    // The site carries on (a new incarnation, as after any break) and the job finishes.
    const hearth::JobInfo end = run_to_end(t, site, s->url(), id, op, "run-2");
    BOOST_TEST(to_string(end.state) == std::string("finished"));
    BOOST_TEST(end.committed == 6u);
    Result fetch = client(t, {"fetch", id, "--out", "all"}, bank, s->url());
    BOOST_TEST_REQUIRE(fetch.code == 0, fetch.err);
    for (const auto& [name, data] : site.outputs)
        BOOST_TEST((slurp(t / "client" / "all" / name) == data), name);
    // A clean stop: SIGTERM, exit 0.
    BOOST_TEST(s->kill(SIGTERM) == 0, s->log());
}

BOOST_AUTO_TEST_CASE(run_with_a_server_follows_the_job_and_downloads_its_outputs) {
    TempDir t;
    Grid g(t);
    Serve s(t, t / "state");
    const std::string op = g.token["operator"];
    fs::create_directories(t / "runner");
    // hearth run in the background, as a user would leave it following the job.
    ::setenv("HEARTH_TOKEN", g.token["tenant:bank"].c_str(), 1);
    ::setenv("HEARTH_SERVER", s.url().c_str(), 1);
    const pid_t run = start_hearth({"run", "--count", "3", "--collect", "out*.bin", "--", "render", "{item}"},
                                   t / "runner");
    ::unsetenv("HEARTH_TOKEN");
    ::unsetenv("HEARTH_SERVER");
    std::string id;
    BOOST_TEST_REQUIRE(wait_for(
        [&] {
            Reply r = http(t, "GET", s.url() + "/v1/jobs", op);
            if (r.code != 200 || r.json().at("jobs").empty()) return false;
            id = r.json().at("jobs")[0].value("id", "");
            return true;
        },
        std::chrono::seconds(30)));
    FakeSite site(t, g.token["site:home"]);
    const hearth::JobInfo end = run_to_end(t, site, s.url(), id, op);
    BOOST_TEST(to_string(end.state) == std::string("finished"));
    BOOST_TEST(wait_exit(run) == 0, slurp(t / "runner" / ".bg.err"));
    // JSON Lines on stdout (not a terminal): the start and the end.
    const auto events = json_lines(slurp(t / "runner" / ".bg.out"));
    BOOST_TEST_REQUIRE(events.size() >= 2u);
    BOOST_TEST(events.front().value("job", "") == id);
    BOOST_TEST(events.back().value("state", "") == "finished");
    BOOST_TEST(events.back().value("outputs", 0) == 3);
    for (const auto& [name, data] : site.outputs)
        BOOST_TEST((slurp(t / "runner" / id / "out" / name) == data), name);
}

BOOST_AUTO_TEST_CASE(over_tls_the_clients_verify_the_scheduler_against_their_ca) {
    TempDir t;
    Grid g(t);
    const std::string d = quote(t.path.string());
    std::ofstream(t / "srv.ext") << "subjectAltName=IP:127.0.0.1\n";
    int code = 0;
    sh_out("cd " + d +
               " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
               " -keyout ca.key -out ca.pem -days 2 -subj /CN=hearth-test-ca"
               " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign"
               " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
               " -keyout srv.key -out srv.csr -subj /CN=127.0.0.1"
               " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
               " -out srv.pem -days 2 -extfile srv.ext >openssl.log 2>&1",
           &code);
    BOOST_TEST_REQUIRE(code == 0, slurp(t / "openssl.log"));
    fs::create_directories(t / "serve");
    const pid_t pid = start_hearth({"serve", "--grid", (t / "grid.toml").string(), "--state", (t / "state").string(),
                                    "--listen", "127.0.0.1:0", "--tokens", (t / "tokens").string(), "--tls-cert",
                                    (t / "srv.pem").string(), "--tls-key", (t / "srv.key").string()},
                                   t / "serve");
    const std::string port = listening_port(t / "serve");
    BOOST_TEST_REQUIRE(!port.empty(), slurp(t / "serve" / ".bg.err"));
    const std::string url = "https://127.0.0.1:" + port;
    fs::create_directories(t / "client" / "home");
    const std::string env = "env -u HEARTH_TOKEN_FILE -u HEARTH_TENANT HOME=" + quote((t / "client" / "home").string()) +
                            " HEARTH_TOKEN=" + quote(g.token["tenant:bank"]);
    // Verified against the CA: the job goes in.
    Result ok = run_hearth({"submit", "--server", url, "--count", "2", "--", "echo", "{item}"}, t / "client",
                           env + " HEARTH_CACERT=" + quote((t / "ca.pem").string()));
    BOOST_TEST(ok.code == 0, ok.err);
    // Without the CA the certificate is not trusted: nothing is sent.
    Result no_ca = run_hearth({"jobs", "--server", url}, t / "client", env + " HEARTH_CACERT=");
    BOOST_TEST(no_ca.code == 4, no_ca.err);
    BOOST_TEST(no_ca.err.find("cannot reach the scheduler") != std::string::npos, no_ca.err);
    Result list = run_hearth({"jobs", "--server", url, "--json"}, t / "client",
                             env + " HEARTH_CACERT=" + quote((t / "ca.pem").string()));
    BOOST_TEST_REQUIRE(list.code == 0, list.err);
    BOOST_TEST(nlohmann::json::parse(list.out).at("jobs").size() == 1u, list.out);
    ::kill(pid, SIGTERM);
    BOOST_TEST(wait_exit(pid) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
