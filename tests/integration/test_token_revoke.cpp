// Revoking a token and tokens that expire, against the real programs: a
// running `hearth serve`, a running grid-agent and a `hearth dashboard` in
// front of it, all reading one tokens file. `hearth token revoke` changes
// the file; the next request with that token is refused (401, one JSON line
// naming the reason and the fix) without restarting anything, and a token
// made with --expires is refused once its time has passed.
#include <boost/test/unit_test.hpp>

#include <regex>

#include "core/auth.hpp"

#include "harness.hpp"
#include "heat_agent.hpp"
#include "serve_http.hpp"

using namespace hearth::test;

namespace {

std::string new_token(const TempDir& t, const std::string& role,
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"token", "new",      "--role",
                                  role,    "--tokens", (t / "tokens").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = run_hearth(args, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    return r.out.substr(0, r.out.find('\n'));
}

// A background hearth (serve or dashboard) in its own directory, on the port
// its log names.
struct Background {
    pid_t pid = -1;
    std::string url;
    fs::path dir;
    Background(const TempDir& t, const std::string& name, const std::vector<std::string>& args,
               const std::string& port_pattern)
        : dir(t / name) {
        fs::create_directories(dir);
        pid = start_hearth(args, dir);
        std::regex re(port_pattern);
        int port = 0;
        wait_for(
            [&] {
                std::smatch m;
                const std::string log = slurp(dir / ".bg.err");
                if (std::regex_search(log, m, re)) port = std::stoi(m[1]);
                return port > 0;
            },
            std::chrono::seconds(30));
        BOOST_TEST_REQUIRE(port > 0, name + " did not start: " + slurp(dir / ".bg.err"));
        url = "http://127.0.0.1:" + std::to_string(port);
    }
    ~Background() {
        ::kill(pid, SIGTERM);
        wait_exit(pid);
    }
};

// The servers of one grid, one tokens file: hearth serve, grid-agent n1 and
// hearth dashboard in front of the agent.
struct Servers {
    std::unique_ptr<HeatAgent> agent;
    std::unique_ptr<Background> serve, dash;
    explicit Servers(const TempDir& t) {
        std::ofstream(t / "grid.toml") << k_home_grid;
        fs::create_directories(t / "agent");
        agent = std::make_unique<HeatAgent>(t / "agent", t / "grid.toml",
                                            "--tokens " + quote((t / "tokens").string()));
        serve = std::make_unique<Background>(
            t, "serve",
            std::vector<std::string>{"serve", "--grid", (t / "grid.toml").string(), "--state",
                                     (t / "state").string(), "--listen", "127.0.0.1:0", "--tokens",
                                     (t / "tokens").string()},
            "listening on port ([0-9]+)");
        std::ofstream(t / "dash-grid.toml")
            << std::string(k_home_grid) + "agent = \"" + agent->url() + "\"\n";
        dash = std::make_unique<Background>(
            t, "dash",
            std::vector<std::string>{"dashboard", "--grid", (t / "dash-grid.toml").string(),
                                     "--listen", "127.0.0.1:0", "--timeout-ms", "3000"},
            "http://127\\.0\\.0\\.1:([0-9]+)/");
    }
    // whoami at each server: their HTTP statuses and bodies.
    std::vector<Reply> whoami(const TempDir& t, const std::string& token) const {
        return {http(t, "GET", serve->url + "/v1/whoami", token),
                http(t, "GET", agent->url() + "/v1/whoami", token),
                http(t, "GET", dash->url + "/v1/whoami", token)};
    }
};

// A 401 whose JSON error (one line) names the reason and the fix.
void refused_for(const Reply& r, const std::string& reason, const std::string& where) {
    BOOST_TEST(r.code == 401, where << ": " << r.body);
    const std::string error = r.json().value("error", "");
    BOOST_TEST(error.find(reason) != std::string::npos, where << ": " << r.body);
    BOOST_TEST(error.find("hearth token new") != std::string::npos, where << ": " << r.body);
    BOOST_TEST(r.body.find('\n') == std::string::npos, where << ": " << r.body);
}

const char* k_names[] = {"hearth serve", "grid-agent", "hearth dashboard"};

}  // namespace

BOOST_AUTO_TEST_SUITE(token_revoke)

BOOST_AUTO_TEST_CASE(a_revoked_token_is_refused_at_the_next_request_without_a_restart) {
    TempDir t;
    const std::string bank = new_token(t, "operator", {"--label", "bank ops"});
    const std::string other = new_token(t, "operator");
    Servers s(t);
    for (const Reply& r : s.whoami(t, bank)) BOOST_TEST(r.code == 200, r.body);

    Result rv = run_hearth({"token", "revoke", "--tokens", (t / "tokens").string(),
                            hearth::to_hex(hearth::sha256(bank)).substr(0, 12)},
                           t.path);
    BOOST_TEST_REQUIRE(rv.code == 0, rv.err);
    BOOST_TEST(rv.err.find("revoked token") != std::string::npos, rv.err);
    BOOST_TEST(slurp(t / "tokens").find("revoked=") != std::string::npos);

    // The very next request: no restart, no waiting.
    const auto after = s.whoami(t, bank);
    for (std::size_t i = 0; i < after.size(); ++i) refused_for(after[i], "revoked at", k_names[i]);
    // Another token of the same file is still accepted by each.
    for (const Reply& r : s.whoami(t, other)) BOOST_TEST(r.code == 200, r.body);
    // Revoking again changes nothing and says so.
    Result again =
        run_hearth({"token", "revoke", "--tokens", (t / "tokens").string(), bank}, t.path);
    BOOST_TEST(again.code == 0, again.err);
    BOOST_TEST(again.err.find("already revoked") != std::string::npos, again.err);
}

BOOST_AUTO_TEST_CASE(a_token_past_its_expiry_is_refused_and_one_before_it_is_not) {
    TempDir t;
    const std::string brief = new_token(t, "operator", {"--expires", "2s"});
    const std::string month = new_token(t, "operator", {"--expires", "30d"});
    BOOST_TEST(slurp(t / "tokens").find("expires=") != std::string::npos);
    Servers s(t);
    // Once its two seconds are over, every server refuses it, naming the expiry.
    std::vector<Reply> last;
    const bool refused = wait_for(
        [&] {
            last = s.whoami(t, brief);
            return last[0].code == 401 && last[1].code == 401 && last[2].code == 401;
        },
        std::chrono::seconds(30));
    BOOST_TEST_REQUIRE(refused, last[0].body + " " + last[1].body + " " + last[2].body);
    for (std::size_t i = 0; i < last.size(); ++i) refused_for(last[i], "expired at", k_names[i]);
    for (const Reply& r : s.whoami(t, month)) BOOST_TEST(r.code == 200, r.body);
}

BOOST_AUTO_TEST_CASE(bad_revoke_and_expiry_input_is_one_line_and_exit_2_and_changes_nothing) {
    TempDir t;
    new_token(t, "tenant:bank");
    const std::string before = slurp(t / "tokens");
    const std::string tokens = (t / "tokens").string();
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{"token", "revoke", "--tokens", tokens, "0123456789ab"}, "no token with id"},
        {{"token", "revoke", "--tokens", tokens, "xyz"}, "not a token id"},
        {{"token", "revoke", "--tokens", tokens, "hearth_" + std::string(64, '0')},
         "no token with id"},
        {{"token", "revoke", "--tokens", (t / "none").string(), "0123456789ab"}, "no tokens file"},
        {{"token", "new", "--role", "operator", "--tokens", tokens, "--expires", "soon"},
         "--expires 'soon'"},
        {{"token", "new", "--role", "operator", "--tokens", tokens, "--expires",
          "2020-01-01T00:00:00Z"},
         "not in the future"},
    };
    for (const Case& c : cases) {
        Result r = run_hearth(c.args, t.path);
        BOOST_TEST(r.code == 2, c.says << ": " << r.err);
        BOOST_TEST(count_lines(r.err) == 1u, r.err);
        BOOST_TEST(r.err.find(c.says) != std::string::npos, r.err);
        BOOST_TEST(r.out.empty(), r.out);
        BOOST_TEST(slurp(t / "tokens") == before);
    }
}

BOOST_AUTO_TEST_SUITE_END()
