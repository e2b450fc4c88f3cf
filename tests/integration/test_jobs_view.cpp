// The dashboard's Jobs view (issue 16): a real `hearth serve` on loopback
// with a tokens file serves the page at / beside /v1/jobs; a job of frames
// 1-8 in chunks of 2 is submitted with `hearth submit`, and the test, as the
// site `home` would, takes three of its tasks with POST /v1/sites/home/work
// and returns one done and one failed, keeping the third running (the
// browser script returns it done while the page is open).
// jobs_view_api checks the page's files with curl; jobs_view_browser drives
// it in Debian's chromium (tests/browser/jobs.mjs) and skips, saying why,
// where chromium, node or playwright-core is missing.
#include <boost/test/unit_test.hpp>

#include "core/site_api.hpp"
#include "harness.hpp"
#include "serve_http.hpp"

using namespace hearth::test;

namespace {

// The status, and the body in *body.
int http_code(const TempDir& t, const std::string& method, const std::string& url,
              const std::string& token, const std::string& json_body = "",
              std::string* body = nullptr) {
    const Reply r = hearth::test::http(
        t, method, url, token,
        json_body.empty() ? std::nullopt : std::optional<std::string>(json_body));
    if (body) *body = r.body;
    return r.code;
}

// The scheduler, its tokens (role -> token), and the bank's job with one
// task done, one failed and one running; a studio job queued beside it.
struct Scene {
    TempDir t;
    std::map<std::string, std::string> token;
    pid_t pid = -1;
    std::string url, job, studio_job;
    std::optional<hearth::AttemptKey> held;  // the site says it still runs this

    Scene() {
        std::ofstream(t / "grid.toml") << k_home_grid;
        for (const char* role : {"tenant:bank", "tenant:studio", "operator", "facility", "site:home"}) {
            Result r = run_hearth({"token", "new", "--role", role, "--tokens", (t / "tokens").string()}, t.path);
            BOOST_TEST_REQUIRE(r.code == 0, r.err);
            token[role] = r.out.substr(0, r.out.find('\n'));
        }
        fs::create_directories(t / "serve");
        pid = start_hearth({"serve", "--grid", (t / "grid.toml").string(), "--state", (t / "state").string(),
                            "--listen", "127.0.0.1:0", "--tokens", (t / "tokens").string()},
                           t / "serve");
        const std::string port = listening_port(t / "serve");
        BOOST_TEST_REQUIRE(!port.empty(), "hearth serve did not start: " << slurp(t / "serve" / ".bg.err"));
        url = "http://127.0.0.1:" + port;

        // The command carries markup: the page must show it as text.
        job = submit("tenant:bank", {"--frames", "1-8", "--chunk", "2", "--retries", "0", "--name", "castle", "--",
                                     "render", "{first}", "{last}", "<img src=x onerror=alert(1)>"});
        hearth::WorkReply first = ask(1, {});
        BOOST_TEST_REQUIRE(first.tasks.size() == 1u);
        BOOST_TEST_REQUIRE(first.tasks[0].key.task == 0u, "the first task granted is frames 1-2");
        hearth::WorkReply second = ask(1, {result(first.tasks[0].key, true)});
        BOOST_TEST_REQUIRE(second.tasks.size() == 1u);
        hearth::WorkReply third = ask(1, {result(second.tasks[0].key, false)});
        BOOST_TEST_REQUIRE(third.tasks.size() == 1u);
        // Said held at once, so the task stays running for the lease (60 s).
        held = third.tasks[0].key;
        ask(0, {});
        studio_job = submit("tenant:studio", {"--count", "250", "--", "echo", "{item}"});
    }
    ~Scene() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            wait_exit(pid);
        }
    }

    std::string submit(const std::string& role, std::vector<std::string> args) {
        args.insert(args.begin(), "submit");
        fs::create_directories(t / "client" / "home");
        Result r = run_hearth(args, t / "client",
                              "env -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT HOME=" +
                                  quote((t / "client" / "home").string()) + " HEARTH_TOKEN=" +
                                  quote(token[role]) + " HEARTH_SERVER=" + quote(url));
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return r.out.substr(0, r.out.find('\n'));
    }

    static hearth::AttemptResult result(const hearth::AttemptKey& k, bool ok) {
        hearth::AttemptResult r;
        r.key = k;
        r.node = "n1";
        r.wall_ms = 1500;
        // The energy the site metered: 0.5 kWh done, 0.1 kWh failed (the
        // operator's overview sums them: 0.60 kWh today).
        r.energy_uj = ok ? 1'800'000'000'000u : 360'000'000'000u;
        r.energy_state = hearth::EnergyState::measured;
        if (!ok) {
            r.status = hearth::AttemptStatus::exited;
            r.exit_code = 3;
            r.reason = "exit status 3";
        }
        // Markup here too: the log is shown as text.
        r.log = "hello from task " + std::to_string(k.task) + " <b>not bold</b>\n";
        return r;
    }

    // The site's next request, which returns frames 5-6 done: the browser
    // script sends it while the page is open, to see the page follow.
    std::string finish_body() const {
        hearth::WorkRequest req = request(0);
        req.results.push_back(result(*held, true));
        return to_json(req).dump();
    }

    hearth::WorkRequest request(std::uint32_t want) const {
        hearth::WorkRequest req;
        req.site = "home";
        req.run = "run-1";
        hearth::NodeReport n;
        n.node = "n1";
        n.host = "localhost";
        n.slots = 4;
        n.want = want;
        req.nodes.push_back(n);
        return req;
    }

    hearth::WorkReply ask(std::uint32_t want, std::vector<hearth::AttemptResult> results) {
        hearth::WorkRequest req = request(want);
        req.results = std::move(results);
        if (held) req.held.push_back(*held);
        std::string body;
        const int code = http_code(t, "POST", url + "/v1/sites/home/work", token["site:home"],
                                   to_json(req).dump(), &body);
        BOOST_TEST_REQUIRE(code == 200, body);
        return hearth::work_reply_from_json(nlohmann::json::parse(body));
    }
};

fs::path browser_dir() { return fs::path(repo_root()) / "tests" / "browser"; }

boost::test_tools::assertion_result browser_possible(boost::unit_test::test_unit_id) {
    std::string why;
    if (!fs::exists("/usr/bin/chromium"))
        why = "/usr/bin/chromium is not installed (tools/install-deps.sh installs it)";
    else if (!fs::exists(browser_dir() / "node_modules" / "playwright-core" / "package.json"))
        why = "tests/browser/node_modules/playwright-core is missing (make test runs npm ci for it)";
    else if (sh_out("command -v node").empty())
        why = "node is not installed";
    boost::test_tools::assertion_result r(why.empty());
    if (!why.empty()) r.message() << "no browser test: " << why;
    return r;
}

fs::path artifacts() { return fs::path(hearth_bin()).parent_path().parent_path() / "test-artifacts"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(jobs_view_api)

BOOST_AUTO_TEST_CASE(hearth_serve_serves_the_page_open_and_the_jobs_with_a_token) {
    Scene s;
    std::string body;
    BOOST_TEST(http_code(s.t, "GET", s.url + "/", "", "", &body) == 200);
    BOOST_TEST(body.find("data-testid=\"jobs-view\"") != std::string::npos);
    BOOST_TEST(http_code(s.t, "GET", s.url + "/jobs.js", "") == 200);
    BOOST_TEST(http_code(s.t, "GET", s.url + "/v1/health", "", "", &body) == 200);
    BOOST_TEST(nlohmann::json::parse(body).value("scheduler", false));
    // A file that is not there, and the API without a token: JSON refusals.
    BOOST_TEST(http_code(s.t, "GET", s.url + "/nothing.js", "", "", &body) == 404);
    BOOST_TEST(nlohmann::json::parse(body, nullptr, false).contains("error"), body);
    BOOST_TEST(http_code(s.t, "GET", s.url + "/v1/jobs", "") == 401);
    BOOST_TEST(http_code(s.t, "GET", s.url + "/v1/jobs", s.token["facility"]) == 403);
    // What the view shows of the scene: frames 1-2 done, 3-4 failed.
    BOOST_TEST_REQUIRE(http_code(s.t, "GET", s.url + "/v1/jobs/" + s.job + "/tasks",
                                 s.token["tenant:bank"], "", &body) == 200);
    const auto tasks = nlohmann::json::parse(body).at("tasks");
    BOOST_TEST_REQUIRE(tasks.size() == 4u, body);
    BOOST_TEST(tasks[0].value("first", "") == "1");
    BOOST_TEST(tasks[0].value("last", "") == "2");
    BOOST_TEST(tasks[0].value("state", "") == "done");
    BOOST_TEST(tasks[1].value("state", "") == "failed");
    BOOST_TEST(tasks[2].value("state", "") == "running");
    BOOST_TEST(tasks[3].value("state", "") == "waiting");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(jobs_view_browser, *boost::unit_test::precondition(browser_possible))

BOOST_AUTO_TEST_CASE(tenants_operators_and_a_facility_use_the_jobs_view_of_hearth_serve) {
    Scene s;
    const std::string env =
        "HEARTH_JOBS_URL=" + quote(s.url) + " HEARTH_JOBS_JOB=" + quote(s.job) +
        " HEARTH_JOBS_OTHER=" + quote(s.studio_job) + " HEARTH_JOBS_SITE_WORK=" + quote(s.finish_body()) +
        " HEARTH_TOKEN_SITE=" + quote(s.token["site:home"]) + " HEARTH_TOKEN_TENANT=" + quote(s.token["tenant:bank"]) +
        " HEARTH_TOKEN_OTHER=" + quote(s.token["tenant:studio"]) + " HEARTH_TOKEN_OPERATOR=" +
        quote(s.token["operator"]) + " HEARTH_TOKEN_FACILITY=" + quote(s.token["facility"]) +
        " HEARTH_ARTIFACTS=" + quote(artifacts().string()) + " CHROMIUM=/usr/bin/chromium";
    int code = -1;
    const std::string out =
        sh_out("cd " + quote(repo_root()) + " && " + env + " timeout -k 5 240 node tests/browser/jobs.mjs 2>&1", &code);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(code == 0, out);
    for (const char* shot : {"jobs-operator.png", "jobs-detail.png", "jobs-cancelled.png", "jobs-facility.png"})
        BOOST_TEST((fs::exists(artifacts() / shot) && fs::file_size(artifacts() / shot) > 1000u), shot);
    // Cancelled through the page: the API says so.
    std::string body;
    BOOST_TEST(http_code(s.t, "GET", s.url + "/v1/jobs/" + s.job, s.token["operator"], "", &body) ==
               200);
    BOOST_TEST(nlohmann::json::parse(body).value("state", "") == "cancelled", body);
    BOOST_TEST(http_code(s.t, "GET", s.url + "/v1/jobs/" + s.studio_job, s.token["operator"], "",
                         &body) == 200);
    BOOST_TEST(nlohmann::json::parse(body).value("state", "") == "queued", body);
}

BOOST_AUTO_TEST_SUITE_END()
