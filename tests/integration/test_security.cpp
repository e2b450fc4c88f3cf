// The agent's API as an attacker sees it: every role against every route,
// tenants prying at each other's energy, hostile bodies, a world-readable
// tokens file, TLS, and the local socket's peer check. A real grid-agent,
// real curl (HTTP and HTTPS) and real openssl certificates.
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <boost/test/unit_test.hpp>
#include <regex>

#include "core/auth.hpp"
#include "harness.hpp"
#include "heat_agent.hpp"

using namespace hearth;
using namespace hearth::test;

namespace {

void write_grid(const fs::path& file) {
    std::ofstream(file) << "[[site]]\nname = \"lab\"\nkind = \"room\"\ntarget = 20\nmin = 10\nmax = 30\n"
                        << "[site.source]\ntype = \"static\"\nmeasured = 19\n"
                        << "[[node]]\nname = \"n1\"\nsite = \"lab\"\nhost = \"localhost\"\nslots = 2\n";
}

// One token per role, their hashes in a 0640 tokens file.
struct Tokens {
    std::map<std::string, std::string> token;  // role text -> token
    fs::path file;
    explicit Tokens(const fs::path& dir) : file(dir / "tokens") {
        std::ofstream out(file);
        out << "# test tokens\n";
        for (const char* role : {"operator", "facility", "facility:lab", "facility:other", "tenant:bank",
                                 "tenant:studio"}) {
            token[role] = generate_token();
            out << token_line(token[role], parse_role(role), std::string("test ") + role) << "\n";
        }
        out.close();
        fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    }
    std::string flags() const { return "--tokens " + quote(file.string()); }
};

struct Reply {
    int status = 0;
    std::string body;
};

// curl, with a bearer token when given ("" = no header); body for POST.
Reply call(const std::string& url, const std::string& token, const std::string& method = "GET",
           const std::string& body = "", const std::string& curl_extra = "") {
    TempDir t;
    std::string cmd = "curl -s -o " + quote((t / "body").string()) + " -w '%{http_code}' -X " + method +
                      " " + curl_extra;
    if (!token.empty()) cmd += " -H " + quote("Authorization: Bearer " + token);
    if (method == "POST" && curl_extra.find("Content-Type") == std::string::npos)
        cmd += " -H 'Content-Type: application/json'";
    if (!body.empty()) {
        std::ofstream(t / "in") << body;
        cmd += " --data-binary @" + quote((t / "in").string());
    }
    cmd += " " + quote(url);
    Reply r;
    std::string code = sh_out(cmd);
    r.status = code.empty() ? 0 : std::atoi(code.c_str());
    r.body = slurp(t / "body");
    return r;
}

// One line to the agent's Unix socket and its one-line reply.
std::string socket_call(const std::string& path, const std::string& line) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return "connect failed: " + std::string(std::strerror(errno));
    }
    std::string out = line + "\n";
    if (::write(fd, out.data(), out.size()) < 0) return "write failed";
    std::string reply;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') reply += c;
    ::close(fd);
    return reply;
}

// socket_call from a child process running as uid (the parent is root).
std::string socket_call_as(uid_t uid, const std::string& path, const std::string& line_template) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) return "pipe failed";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(3);
        // "$PID" in the template: a child of this process (a task it started).
        pid_t kid = ::fork();
        if (kid == 0) {
            ::pause();
            ::_exit(0);
        }
        std::string line =
            std::regex_replace(line_template, std::regex("\\$PID"), std::to_string(kid));
        std::string r = socket_call(path, line);
        ::kill(kid, SIGKILL);
        ::waitpid(kid, nullptr, 0);
        (void)!::write(pipefd[1], r.data(), r.size());
        ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string r;
    char buf[512];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) r.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    return r;
}

bool is_json_error(const Reply& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") && j["error"].is_string() && !j["error"].get<std::string>().empty();
}

double target_of(const HeatAgent& a, const Tokens& tk) {
    auto j = nlohmann::json::parse(call(a.url() + "/v1/heat", tk.token.at("operator")).body, nullptr, false);
    return j.is_object() && j.contains("target") ? j["target"].get<double>() : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(security)

BOOST_AUTO_TEST_CASE(every_role_on_every_route_is_allowed_or_refused_as_documented) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    HeatAgent a(t.path, t / "grid.toml", tk.flags());
    struct Route {
        std::string method, path, body;
    };
    const std::vector<Route> routes = {
        {"GET", "/v1/health", ""},          {"GET", "/v1/whoami", ""},
        {"GET", "/v1/node", ""},            {"GET", "/v1/energy?by=tenant", ""},
        {"GET", "/v1/heat", ""},            {"GET", "/v1/grid", ""},
        {"GET", "/v1/history", ""},         {"GET", "/metrics", ""},
        {"POST", "/v1/heat/target", R"({"target": 21})"},
        {"POST", "/v1/heat/schedule", R"({"schedule": "none"})"},
        {"POST", "/v1/heat/measured", R"({"measured": 19})"},
        {"POST", "/v1/node/drain", R"({"drain": false})"},
    };
    // Expected status per caller, in the order of routes above.
    const std::map<std::string, std::vector<int>> expected = {
        {"(none)", {200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
        {"(bad)", {200, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
        {"operator", {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
        {"facility", {200, 200, 200, 403, 200, 200, 200, 403, 200, 200, 200, 403}},
        {"facility:lab", {200, 200, 200, 403, 200, 200, 200, 403, 200, 200, 200, 403}},
        {"facility:other", {200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
        {"tenant:bank", {200, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403}},
    };
    for (const auto& [who, statuses] : expected) {
        std::string token = who == "(none)" ? "" : who == "(bad)" ? "hearth_" + std::string(64, '0') : tk.token.at(who);
        for (std::size_t i = 0; i < routes.size(); ++i) {
            Reply r = call(a.url() + routes[i].path, token, routes[i].method, routes[i].body);
            BOOST_TEST(r.status == statuses[i], who << " " << routes[i].method << " " << routes[i].path << ": "
                                                    << r.status << " " << r.body);
            if (r.status == 401 || r.status == 403)
                BOOST_TEST(is_json_error(r), who << " " << routes[i].path << ": " << r.body);
        }
    }
    // whoami says who the token is, and nothing more.
    auto me = nlohmann::json::parse(call(a.url() + "/v1/whoami", tk.token.at("tenant:bank")).body);
    BOOST_TEST(me["role"] == "tenant:bank");
    BOOST_TEST(me["tenant"] == "bank");
    // A token sent some other way than "Bearer" counts as none.
    Reply basic = call(a.url() + "/v1/node", "", "GET", "",
                       "-H " + quote("Authorization: Basic " + tk.token.at("operator")));
    BOOST_TEST(basic.status == 401);
}

BOOST_AUTO_TEST_CASE(a_tenant_cannot_read_another_tenants_energy_by_query_tricks) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    HeatAgent a(t.path, t / "grid.toml", tk.flags());
    // Two tenants' tasks (this test's own children) charged for a while.
    pid_t bank = ::fork();
    if (bank == 0) {
        ::execlp("sleep", "sleep", "30", nullptr);
        ::_exit(127);
    }
    pid_t studio = ::fork();
    if (studio == 0) {
        ::execlp("sleep", "sleep", "30", nullptr);
        ::_exit(127);
    }
    auto reg = [&](const std::string& tenant, pid_t pid) {
        return socket_call(a.socket, R"({"op":"register","tenant":")" + tenant + R"(","job":"j-)" + tenant +
                                         R"(","task":0,"attempt":1,"pid":)" + std::to_string(pid) + "}");
    };
    BOOST_TEST(reg("bank", bank).find("\"ok\":true") != std::string::npos);
    BOOST_TEST(reg("studio", studio).find("\"ok\":true") != std::string::npos);
    const std::string& bank_tok = tk.token.at("tenant:bank");
    auto keys = [&](const std::string& query) {
        std::set<std::string> k;
        auto j = nlohmann::json::parse(call(a.url() + "/v1/energy" + query, bank_tok).body, nullptr, false);
        if (j.is_object() && j.contains("rows"))
            for (const auto& row : j["rows"]) k.insert(row["key"].get<std::string>());
        return k;
    };
    // The operator sees both tenants once their intervals are committed (the
    // agent commits in groups, at least once a second); the bank only
    // itself, however it asks.
    std::set<std::string> op_keys;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (op_keys.count("studio") == 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto all = nlohmann::json::parse(call(a.url() + "/v1/energy?by=tenant", tk.token.at("operator")).body);
        op_keys.clear();
        for (const auto& row : all["rows"]) op_keys.insert(row["key"].get<std::string>());
    }
    BOOST_TEST(op_keys.count("studio") == 1u);
    BOOST_TEST(op_keys.count("bank") == 1u);
    BOOST_TEST((keys("?by=tenant") == std::set<std::string>{"bank"}));
    BOOST_TEST((keys("") == std::set<std::string>{"bank"}));
    BOOST_TEST((keys("?by=job") == std::set<std::string>{"j-bank"}));
    BOOST_TEST((keys("?by=job&job=j-studio").empty()));
    BOOST_TEST((keys("?by=node").size() == 1u));
    for (const char* q : {"?tenant=studio", "?tenant=Bank", "?tenant=bank%00", "?tenant=bank%20",
                          "?tenant=", "?by=tenant&tenant=studio"})
        BOOST_TEST(call(a.url() + "/v1/energy" + q, bank_tok).status == 403, q);
    for (const char* q : {"?tenant=bank&tenant=studio", "?tenant=studio&tenant=bank", "?by=tenant&by=job",
                          "?TENANT=studio", "?tenant[]=studio"}) {
        Reply r = call(a.url() + "/v1/energy" + q, bank_tok);
        BOOST_TEST((r.status == 400 || r.status == 403), q << ": " << r.status << " " << r.body);
        BOOST_TEST(r.body.find("studio\",") == std::string::npos, q);
    }
    // The node view (every tenant's tasks) and /metrics (every tenant's energy) are closed to tenants.
    BOOST_TEST(call(a.url() + "/v1/node", bank_tok).status == 403);
    BOOST_TEST(call(a.url() + "/metrics", bank_tok).status == 403);
    ::kill(bank, SIGKILL);
    ::kill(studio, SIGKILL);
    ::waitpid(bank, nullptr, 0);
    ::waitpid(studio, nullptr, 0);
}

BOOST_AUTO_TEST_CASE(a_world_readable_or_symlinked_tokens_file_stops_the_agent_with_the_fix) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    auto start = [&](const std::string& tokens_arg) {
        int code = -1;
        std::string err = sh_out(quote(agent_bin()) + " --node n1 --listen 127.0.0.1:0 --socket " +
                                     quote((t / "s.sock").string()) + " --ledger " + quote((t / "l.db").string()) +
                                     " --energy model " + tokens_arg + " 2>&1 >/dev/null",
                                 &code);
        return std::make_pair(code, err);
    };
    fs::permissions(tk.file, fs::perms::others_read, fs::perm_options::add);  // 0644
    auto [code, err] = start(tk.flags());
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("0644") != std::string::npos, err);
    BOOST_TEST(err.find("chmod 0640") != std::string::npos, err);
    BOOST_TEST(std::count(err.begin(), err.end(), '\n') == 1);
    BOOST_TEST(!fs::exists(t / "l.db"));  // nothing started, nothing written
    fs::permissions(tk.file, fs::perms::others_read, fs::perm_options::remove);
    fs::create_symlink(tk.file, t / "link");
    std::tie(code, err) = start("--tokens " + quote((t / "link").string()));
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("symlink") != std::string::npos, err);
    std::ofstream(t / "garbage") << "sha256:xyz operator\n";
    fs::permissions(t / "garbage", fs::perms::owner_read | fs::perms::owner_write);
    std::tie(code, err) = start("--tokens " + quote((t / "garbage").string()));
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("garbage:1") != std::string::npos, err);
    // No tokens and no --no-auth: refused, naming both ways out.
    std::tie(code, err) = start("");
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("--tokens FILE") != std::string::npos, err);
    BOOST_TEST(err.find("--no-auth") != std::string::npos, err);
}

BOOST_AUTO_TEST_CASE(hostile_setpoints_and_bodies_are_refused_and_change_nothing) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    HeatAgent a(t.path, t / "grid.toml", tk.flags());
    const std::string& fac = tk.token.at("facility");
    const double before = target_of(a, tk);
    BOOST_TEST(before == 20.0);
    for (const char* body : {R"({"target": 200})", R"({"target": "NaN"})", R"({"target": NaN})",
                             R"({"target": 1e309})", R"({"target": -1e309})", R"({"target": "58"})",
                             R"({"target": null})", R"({})", R"([21])", R"({"target": 21, "site": "other"})",
                             R"({"target": 21, "extra": 1})", R"({"target": 21, "until_unix": 1})",
                             "not json at all", ""}) {
        Reply r = call(a.url() + "/v1/heat/target", fac, "POST", body);
        BOOST_TEST(r.status == 400, body << ": " << r.status << " " << r.body);
        BOOST_TEST(is_json_error(r), body << ": " << r.body);
        BOOST_TEST(target_of(a, tk) == before, body);
    }
    Reply r = call(a.url() + "/v1/heat/target", fac, "POST", R"({"target": 200})");
    BOOST_TEST(r.body.find("10") != std::string::npos, r.body);  // names the bounds
    for (const char* body : {R"({"measured": 1e309})", R"({"measured": 900})", R"({"measured": "hot"})"})
        BOOST_TEST(call(a.url() + "/v1/heat/measured", fac, "POST", body).status == 400, body);
    BOOST_TEST(call(a.url() + "/v1/heat/schedule", fac, "POST", R"({"schedule": "mon 06:00-09:00 at 200; otherwise 20"})").status == 400);
    // A 10 MB body is refused unread, and the agent goes on serving.
    {
        std::string big = R"({"target": 21, "pad": ")" + std::string(10 * 1024 * 1024, 'x') + "\"}";
        Reply huge = call(a.url() + "/v1/heat/target", fac, "POST", big);
        BOOST_TEST(huge.status == 413, huge.status << " " << huge.body.substr(0, 200));
        BOOST_TEST(is_json_error(huge), huge.body.substr(0, 200));
    }
    BOOST_TEST(target_of(a, tk) == before);
    BOOST_TEST(call(a.url() + "/v1/health", "").status == 200);
    // The open routes take no bodies; a body must say it is JSON; chunked
    // bodies (which httplib 0.11 does not bound) are refused unread.
    BOOST_TEST(call(a.url() + "/v1/health", "", "POST", "x").status == 404);
    BOOST_TEST(call(a.url() + "/metrics", "", "PUT", "x").status == 404);
    BOOST_TEST(call(a.url() + "/v1/heat/target", fac, "POST", R"({"target": 21})", "-H 'Content-Type: text/plain'")
                   .status == 415);
    BOOST_TEST(call(a.url() + "/v1/heat/target", fac, "POST", R"({"target": 21})", "-H 'Transfer-Encoding: chunked'")
                   .status == 411);
    BOOST_TEST(call(a.url() + "/v1/history?since_ms=12abc", fac).status == 400);
    BOOST_TEST(call(a.url() + "/v1/history?until_ms=-9223372036854775808", fac).status == 400);
    BOOST_TEST(target_of(a, tk) == before);
    // And a good one still works.
    BOOST_TEST(call(a.url() + "/v1/heat/target", fac, "POST", R"({"target": 22.5, "site": "lab"})").status == 200);
    BOOST_TEST(target_of(a, tk) == 22.5);
}

BOOST_AUTO_TEST_CASE(tls_serves_https_with_the_configured_certificate) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    int code = -1;
    sh_out("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext "
           "subjectAltName=IP:127.0.0.1 -keyout " + quote((t / "key.pem").string()) + " -out " +
               quote((t / "cert.pem").string()) + " >/dev/null 2>&1",
           &code);
    BOOST_TEST_REQUIRE(code == 0, "openssl could not make a test certificate");
    HeatAgent a(t.path, t / "grid.toml",
                tk.flags() + " --tls-cert " + quote((t / "cert.pem").string()) + " --tls-key " +
                    quote((t / "key.pem").string()));
    BOOST_TEST(a.url().rfind("https://", 0) == 0u);
    const std::string ca = "--cacert " + quote((t / "cert.pem").string());
    Reply ok = call(a.url() + "/v1/whoami", tk.token.at("operator"), "GET", "", ca);
    BOOST_TEST(ok.status == 200, ok.body);
    BOOST_TEST(ok.body.find("operator") != std::string::npos);
    Reply denied = call(a.url() + "/v1/node", tk.token.at("tenant:bank"), "GET", "", ca);
    BOOST_TEST(denied.status == 403);
    // Without the CA the certificate is not trusted; plain HTTP gets no API answer.
    BOOST_TEST(call(a.url() + "/v1/whoami", tk.token.at("operator")).status == 0);
    std::string plain = "http://127.0.0.1:" + std::to_string(a.port) + "/v1/whoami";
    BOOST_TEST(call(plain, tk.token.at("operator")).status != 200);
}

BOOST_AUTO_TEST_CASE(plain_http_off_loopback_and_half_tls_configs_are_refused) {
    TempDir t;
    Tokens tk(t.path);
    auto start = [&](const std::string& args) {
        int code = -1;
        std::string err = sh_out(quote(agent_bin()) + " --node n1 --socket " + quote((t / "s.sock").string()) +
                                     " --ledger " + quote((t / "l.db").string()) + " --energy model " + args +
                                     " 2>&1 >/dev/null",
                                 &code);
        return std::make_pair(code, err);
    };
    // Refused before binding anything: the test never listens off loopback.
    auto [code, err] = start("--listen 127.0.0.1.example.org:0 --no-auth --insecure-http");
    BOOST_TEST(code == 2);  // a name that merely starts like a loopback address is not one
    BOOST_TEST(err.find("loopback only") != std::string::npos, err);
    std::tie(code, err) = start("--listen 0.0.0.0:0 " + tk.flags());
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("--tls-cert") != std::string::npos, err);
    BOOST_TEST(err.find("--insecure-http") != std::string::npos, err);
    std::tie(code, err) = start("--listen 198.18.0.1:0 --no-auth --insecure-http");
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("loopback only") != std::string::npos, err);
    std::tie(code, err) = start("--listen 127.0.0.1:0 " + tk.flags() + " --tls-cert " + quote((t / "c.pem").string()));
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("--tls-key") != std::string::npos, err);
    std::ofstream(t / "junk.pem") << "not a certificate\n";
    std::tie(code, err) = start("--listen 127.0.0.1:0 " + tk.flags() + " --tls-cert " +
                                quote((t / "junk.pem").string()) + " --tls-key " + quote((t / "junk.pem").string()));
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("PEM") != std::string::npos, err);
}

BOOST_AUTO_TEST_CASE(only_the_workers_user_registers_tasks_and_only_its_own_pids) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    const passwd* nobody = ::getpwnam("nobody");
    BOOST_TEST_REQUIRE(nobody != nullptr);
    BOOST_TEST_REQUIRE(::geteuid() == 0u, "needs root to act as another user");
    // The socket's directory must be reachable by that user.
    fs::permissions(t.path, fs::perms::all);
    int n = 0;
    auto start_agent = [&](const std::string& extra) {
        fs::path d = t / ("agent" + std::to_string(++n));
        fs::create_directories(d);
        fs::permissions(d, fs::perms::all);
        return std::make_unique<HeatAgent>(d, t / "grid.toml", tk.flags() + " " + extra);
    };
    const std::string reg = R"({"op":"register","tenant":"bank","job":"j","task":0,"attempt":1,"pid":$PID})";
    {
        // Default: only the agent's own user (root here); the socket is
        // closed to every other user, so a task cannot even ask for a budget.
        auto a = start_agent("");
        BOOST_TEST(((fs::status(a->socket).permissions() & fs::perms::all) ==
                    (fs::perms::owner_read | fs::perms::owner_write)));
        std::string r = socket_call_as(nobody->pw_uid, a->socket, reg);
        BOOST_TEST(r.find("Permission denied") != std::string::npos, r);
        std::string b = socket_call_as(nobody->pw_uid, a->socket, R"({"op":"budget"})");
        BOOST_TEST(b.find("Permission denied") != std::string::npos, b);
    }
    {
        auto a = start_agent("--worker-user nobody");
        // The socket is the workers' user's.
        struct stat st {};
        BOOST_TEST_REQUIRE(::stat(a->socket.c_str(), &st) == 0);
        BOOST_TEST(st.st_uid == nobody->pw_uid);
        // The worker's user registering its own child: accepted.
        std::string own = socket_call_as(nobody->pw_uid, a->socket, reg);
        BOOST_TEST(own.find("\"ok\":true") != std::string::npos, own);
        // pid 1 as tenant "bank" with 64 cores on a node of 2: refused for
        // the cores, and with 1 core for not being the worker's task.
        std::string big = socket_call_as(
            nobody->pw_uid, a->socket,
            R"({"op":"register","tenant":"bank","job":"j","task":1,"attempt":1,"pid":1,"cores":64})");
        BOOST_TEST(big.find("a task of 64 cores on a node of") != std::string::npos, big);
        std::string other = socket_call_as(
            nobody->pw_uid, a->socket, R"({"op":"register","tenant":"bank","job":"j","task":1,"attempt":1,"pid":1})");
        BOOST_TEST(other.find("pid 1 is not a process of the registering pid") != std::string::npos,
                   other);
        // Names that would become file names or SQL text are refused.
        std::string bad = socket_call(a->socket,
                                      R"({"op":"register","tenant":"../etc","job":"j","task":2,"attempt":1,"pid":1})");
        BOOST_TEST(bad.find("\"ok\":false") != std::string::npos, bad);
    }
}

BOOST_AUTO_TEST_CASE(metrics_show_per_tenant_energy_only_at_interval_resolution) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    HeatAgent a(t.path, t / "grid.toml", tk.flags() + " --metrics-interval 3");
    const std::string& op = tk.token.at("operator");
    auto house = [&] {
        std::string m = call(a.url() + "/metrics", op).body;
        std::smatch sm;
        std::regex re("hearth_tenant_energy_joules_total\\{tenant=\"house\"[^}]*\\} ([0-9.e+]+)");
        return std::regex_search(m, sm, re) ? std::stod(sm[1]) : -1.0;
    };
    // The model source charges idle power to the house all the time; within
    // one interval, scrapes agree; across intervals, the figure moves.
    bool same_within = false;
    for (int i = 0; i < 10 && !same_within; ++i) {
        double a1 = house();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        double a2 = house();
        same_within = a1 >= 0 && a1 == a2;
    }
    BOOST_TEST(same_within);
    double first = house();
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
    BOOST_TEST(house() > first);
    // Without a token (and no --public-metrics): refused.
    BOOST_TEST(call(a.url() + "/metrics", "").status == 401);
}

BOOST_AUTO_TEST_CASE(an_operator_drains_a_node_and_its_worker_gets_no_slots) {
    TempDir t;
    write_grid(t / "grid.toml");
    Tokens tk(t.path);
    HeatAgent a(t.path, t / "grid.toml", tk.flags());
    BOOST_TEST(call(a.url() + "/v1/node/drain", tk.token.at("facility"), "POST", R"({"drain": true})").status == 403);
    BOOST_TEST(call(a.url() + "/v1/node/drain", tk.token.at("operator"), "POST", R"({"drain": "yes"})").status == 400);
    Reply r = call(a.url() + "/v1/node/drain", tk.token.at("operator"), "POST", R"({"drain": true})");
    BOOST_TEST(r.status == 200, r.body);
    BOOST_TEST(nlohmann::json::parse(r.body)["drained"] == true);
    auto b = nlohmann::json::parse(socket_call(a.socket, R"({"op":"budget"})"));
    BOOST_TEST(b["slots"] == 0);
    BOOST_TEST(b["mode"] == "drain");
    auto grid = nlohmann::json::parse(call(a.url() + "/v1/grid", tk.token.at("facility")).body);
    BOOST_TEST(grid["sites"][0]["nodes"][0]["state"] == "drained");
    call(a.url() + "/v1/node/drain", tk.token.at("operator"), "POST", R"({"drain": false})");
    b = nlohmann::json::parse(socket_call(a.socket, R"({"op":"budget"})"));
    BOOST_TEST(b["mode"] != "drain");
}

BOOST_AUTO_TEST_SUITE_END()
