// The heat feed goes away or returns garbage: a real grid-agent polls a site's
// http source served by a small HTTP server of the test. Good JSON sets the
// mode by temperature with no alarm; garbage raises an alarm at once and,
// once the last good reading is older than stale_after_s, safe mode (no slot
// allowed); a server that stops answering does the same; good JSON again
// clears the alarm and the mode follows the temperature again. Work waits
// while the site is in safe mode and runs when the feed returns.
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <regex>

#include "harness.hpp"
#include "heat_agent.hpp"

using namespace hearth::test;

namespace {



// The feed: answers every GET with the file `body` of its directory, with the
// Content-Type in the file `type`; 404 when there is no body. The port it
// bound is written to `port` (0 in argv: any free port).
const char* k_server = R"PY(
import http.server, os, sys
d, port = sys.argv[1], int(sys.argv[2])
class Feed(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            body = open(os.path.join(d, 'body'), 'rb').read()
            ctype = open(os.path.join(d, 'type')).read().strip()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', port), Feed)
with open(os.path.join(d, 'port.tmp'), 'w') as f:
    f.write(str(server.server_port))
os.rename(os.path.join(d, 'port.tmp'), os.path.join(d, 'port'))
server.serve_forever()
)PY";

class FeedServer {
public:
    explicit FeedServer(const fs::path& dir) : m_dir(dir) {
        fs::create_directories(dir);
        std::ofstream(dir / "server.py") << k_server;
        start(0);
    }
    ~FeedServer() { stop(); }
    FeedServer(const FeedServer&) = delete;
    FeedServer& operator=(const FeedServer&) = delete;

    // Replaced whole (write, then rename), as a gateway rewrites its page.
    void serve(const std::string& body, const std::string& type) {
        std::ofstream(m_dir / "type.tmp") << type;
        std::ofstream(m_dir / "body.tmp") << body;
        fs::rename(m_dir / "type.tmp", m_dir / "type");
        fs::rename(m_dir / "body.tmp", m_dir / "body");
    }
    void json(double measured) {
        serve("{\"measured\": " + std::to_string(measured) + ", \"unit\": \"C\"}",
              "application/json");
    }
    void stop() {
        if (m_pid <= 0) return;
        ::kill(m_pid, SIGTERM);
        wait_exit(m_pid);
        m_pid = -1;
    }
    // On the port it had: the agent's URL does not change.
    void restart() { start(m_port); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/feed"; }

private:
    void start(int port) {
        fs::remove(m_dir / "port");
        std::string cmd = "exec python3 " + quote((m_dir / "server.py").string()) + " " +
                          quote(m_dir.string()) + " " + std::to_string(port) + " 2>>" +
                          quote((m_dir / "server.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&m_pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        bool up = wait_for([&] { return fs::exists(m_dir / "port"); }, std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(up, "the feed server did not start: " + slurp(m_dir / "server.log"));
        m_port = std::stoi(slurp(m_dir / "port"));
    }

    fs::path m_dir;
    pid_t m_pid = -1;
    int m_port = 0;
};

// A room with a 20 C target (band 1) whose temperature comes from the feed,
// polled every 0.5 s; a reading older than 4 s is no reading.
void write_grid(const fs::path& file, const std::string& url) {
    std::ofstream(file)
        << "[[site]]\nname = \"lab\"\nkind = \"room\"\ntarget = 20\nmin = 10\n"
        << "max = 30\n[site.source]\ntype = \"http\"\nurl = \"" << url << "\"\n"
        << "poll_s = 0.5\nstale_after_s = 4\ntimeout_s = 1\n"
        << "[[node]]\nname = \"n1\"\nsite = \"lab\"\nhost = \"localhost\"\nslots = 2\n";
}

std::string alarm_of(const nlohmann::json& h) {
    return h.contains("alarm") && h["alarm"].is_string() ? h["alarm"].get<std::string>() : "";
}
std::string mode_of(const nlohmann::json& h) {
    return h.value("mode", "");
}
bool has(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
}

// Good JSON with the room at 15 C: open, every slot, no alarm.
void expect_open_and_calm(HeatAgent& agent) {
    nlohmann::json h;
    // The agent starts open before its first control step: wait for the reading too.
    BOOST_TEST_REQUIRE(agent.until(
                           [](const nlohmann::json& j) {
                               return mode_of(j) == "open" && alarm_of(j).empty() &&
                                      j.value("measured", nlohmann::json()) == 15.0;
                           },
                           h),
                       h.dump());
    BOOST_TEST(h["slots_allowed"].get<int>() == 2);
    BOOST_TEST(h["source"] == "http");
}

// Safe mode after the last good reading went stale: no slot, no measured
// temperature, an alarm that says so and why.
void expect_safe_mode(HeatAgent& agent, const std::string& why) {
    nlohmann::json h;
    BOOST_TEST_REQUIRE(agent.until([](const nlohmann::json& j) { return mode_of(j) == "safe"; }, h),
                       h.dump());
    BOOST_TEST(h["slots_allowed"].get<int>() == 0);
    BOOST_TEST(h["measured"].is_null());
    BOOST_TEST(has(alarm_of(h), "stale"), alarm_of(h));
    BOOST_TEST(has(alarm_of(h), "safe mode"), alarm_of(h));
    BOOST_TEST(has(alarm_of(h), why), alarm_of(h));
}

std::size_t starts(const fs::path& job) {
    std::size_t n = 0;
    for (const auto& r : journal(job)) n += r.value("e", "") == "start";
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(heat_feed)

BOOST_AUTO_TEST_CASE(good_readings_set_the_mode_by_temperature_with_no_alarm) {
    TempDir t;
    FeedServer feed(t / "feed");
    feed.json(15);
    write_grid(t / "grid.toml", feed.url());
    HeatAgent agent(t.path, t / "grid.toml");
    expect_open_and_calm(agent);
    nlohmann::json h;
    feed.json(20);  // inside the band: the controller holds
    BOOST_TEST(agent.until([](const nlohmann::json& j) { return mode_of(j) == "hold"; }, h),
               h.dump());
    BOOST_TEST(alarm_of(h).empty(), alarm_of(h));
    feed.json(25);  // too warm: no heat wanted
    BOOST_TEST_REQUIRE(agent.until([](const nlohmann::json& j) { return mode_of(j) == "cut"; }, h),
                       h.dump());
    BOOST_TEST(alarm_of(h).empty(), alarm_of(h));
    BOOST_TEST(h["slots_allowed"].get<int>() == 0);
    BOOST_TEST(h["measured"].get<double>() == 25.0);
}

BOOST_AUTO_TEST_CASE(garbage_raises_an_alarm_then_safe_mode_and_good_json_recovers) {
    TempDir t;
    FeedServer feed(t / "feed");
    feed.json(15);
    write_grid(t / "grid.toml", feed.url());
    HeatAgent agent(t.path, t / "grid.toml");
    expect_open_and_calm(agent);

    // A gateway's login page instead of the reading.
    feed.serve("<html><body>Please log in</body></html>", "text/html; charset=utf-8");
    nlohmann::json first;
    BOOST_TEST_REQUIRE(
        agent.until([](const nlohmann::json& j) { return !alarm_of(j).empty(); }, first),
        first.dump());
    BOOST_TEST(has(alarm_of(first), "text/html, not JSON"), alarm_of(first));
    // One bad poll does not discard the last good reading: the alarm comes
    // first, safe mode only once that reading is stale (4 s).
    BOOST_TEST(mode_of(first) == "open", first.dump());
    BOOST_TEST(has(alarm_of(first), "last poll failed"), alarm_of(first));
    expect_safe_mode(agent, "text/html, not JSON");

    feed.json(15);
    expect_open_and_calm(agent);

    // Other garbage: each raises an alarm naming what is wrong, and good
    // JSON clears it.
    const std::vector<std::pair<std::string, std::string>> garbage = {
        {"{\"measured\": ", "malformed JSON"},
        {"[15]", "JSON array, not an object"},
        {"{\"measured\": \"hot\"}", "field 'measured' is string, not a number"},
        {"{\"temp\": 15}", "field 'measured' missing"},
        {"{\"measured\": 500}", "outside"},
    };
    for (const auto& [body, why] : garbage) {
        BOOST_TEST_CONTEXT(body) {
            feed.serve(body, "application/json");
            nlohmann::json h;
            BOOST_TEST(
                agent.until([&, w = why](const nlohmann::json& j) { return has(alarm_of(j), w); },
                            h),
                h.dump());
            feed.json(15);
            expect_open_and_calm(agent);
        }
    }
    // No body at all: the server answers 404.
    fs::remove(t / "feed" / "body");
    expect_safe_mode(agent, "status 404");
    feed.json(15);
    expect_open_and_calm(agent);
}

BOOST_AUTO_TEST_CASE(a_feed_that_goes_away_means_safe_mode_and_work_waits_for_its_return) {
    TempDir t;
    FeedServer feed(t / "feed");
    feed.json(15);
    write_grid(t / "grid.toml", feed.url());
    HeatAgent agent(t.path, t / "grid.toml");
    expect_open_and_calm(agent);

    feed.stop();
    nlohmann::json h;
    BOOST_TEST(
        agent.until([](const nlohmann::json& j) { return has(alarm_of(j), "no response"); }, h),
        h.dump());
    expect_safe_mode(agent, "no response");

    // Work submitted meanwhile waits: the site has no trustworthy reading.
    pid_t job = start_hearth(
        {"run", "--tenant", "studio", "--count", "4", "--job-dir", "j", "--json", "--", "true"},
        t.path);
    BOOST_TEST_REQUIRE(
        wait_for([&] { return fs::exists(t / "j" / "journal"); }, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    BOOST_TEST(starts(t / "j") == 0u);
    BOOST_TEST(mode_of(agent.heat()) == "safe");

    // The feed returns: the alarm clears, the mode follows the room again and
    // the work runs.
    feed.restart();
    expect_open_and_calm(agent);
    BOOST_TEST(wait_exit(job) == 0, slurp(t / ".bg.err"));
    auto s = summary(t / "j");
    BOOST_TEST(s["committed"].get<int>() == 4);
    BOOST_TEST(s["failed"].get<int>() == 0);
    BOOST_TEST(s["heat_override_attempts"].get<int>() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
