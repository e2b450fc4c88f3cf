// hearth's side of the agents' API auth: the token it sends (HEARTH_TOKEN,
// HEARTH_TOKEN_FILE, ~/.config/hearth/token), the token files it refuses,
// what it says on a 401/403, and https:// verified against HEARTH_CACERT.
// The agent is a small HTTP(S) server of the test that records the
// Authorization header of every request and answers as an agent would.
#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "harness.hpp"

using namespace hearth::test;

namespace {

const char* k_server = R"PY(
import http.server, json, os, ssl, sys
port_file, log_file = sys.argv[1], sys.argv[2]
class Agent(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log_file, 'a') as f:
            f.write(self.path.split('?')[0] + ' ' + self.headers.get('Authorization', '-') + '\n')
        path = self.path.split('?')[0]
        if os.path.exists(port_file + '.huge'):
            # an endless stream, as a wrong URL or a broken server might send
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.end_headers()
            chunk = b' ' * (1 << 20)
            try:
                for _ in range(80):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        if path == '/v1/energy':
            code, body = 200, {'by': 'tenant', 'rows': []}
        elif path == '/v1/node':
            code, body = 403, {'error': 'role tenant:bank may not read node or site state (a facility or operator token can)'}
        else:
            code, body = 401, {'error': 'the token is not valid here; ask the operator for a token of this grid'}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', 0), Agent)
if len(sys.argv) > 3:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(port_file + '.tmp', 'w') as f:
    f.write(str(server.server_port))
os.rename(port_file + '.tmp', port_file)
server.serve_forever()
)PY";

// The fake agent, stopped at the end of the test.
class FakeAgent {
public:
    explicit FakeAgent(const fs::path& dir, bool tls = false) : m_dir(dir) {
        std::ofstream(dir / "agent.py") << k_server;
        std::string cmd = "exec python3 " + quote((dir / "agent.py").string()) + " " +
                          quote((dir / "port").string()) + " " + quote((dir / "requests").string());
        if (tls) {
            make_certificates();
            cmd += " " + quote((dir / "srv.pem").string()) + " " + quote((dir / "srv.key").string());
        }
        cmd += " 2>" + quote((dir / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&m_pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        bool up = wait_for([&] { return fs::exists(dir / "port"); }, std::chrono::seconds(20));
        BOOST_TEST_REQUIRE(up, "the fake agent did not start: " + slurp(dir / "agent.log"));
        m_url = std::string(tls ? "https" : "http") + "://127.0.0.1:" + slurp(dir / "port");
    }
    ~FakeAgent() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    const std::string& url() const { return m_url; }
    // "PATH AUTHORIZATION" a line, in the order asked.
    std::string requests() const { return slurp(m_dir / "requests"); }

private:
    // A private CA and a certificate it signs for 127.0.0.1.
    void make_certificates() {
        const std::string d = quote(m_dir.string());
        std::ofstream(m_dir / "srv.ext") << "subjectAltName=IP:127.0.0.1\n";
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
        BOOST_TEST_REQUIRE(code == 0, "openssl failed: " + slurp(m_dir / "openssl.log"));
    }

    fs::path m_dir;
    pid_t m_pid = -1;
    std::string m_url;
};

void secret(const fs::path& p, const std::string& text, unsigned mode) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
}

// hearth with an environment of the test's (HOME an empty directory, so no
// ~/.config/hearth/token of the machine's user is read).
Result hearth_with(const std::vector<std::string>& args, const TempDir& t, const std::string& env) {
    fs::create_directories(t / "home");
    return run_hearth(args, t.path,
                      "env -u HEARTH_TOKEN -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u XDG_CONFIG_HOME "
                      "HOME=" + quote((t / "home").string()) + " " + env);
}

const std::string k_token = "hearth_5b1d0c7e9a8f6e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d";

}  // namespace

BOOST_AUTO_TEST_SUITE(client_auth)

BOOST_AUTO_TEST_CASE(the_token_is_sent_from_the_environment_a_file_or_the_config_file) {
    TempDir t;
    FakeAgent agent(t.path);
    const std::vector<std::string> ask = {"energy", "--agent", agent.url(), "--format", "json"};
    Result r = hearth_with(ask, t, "HEARTH_TOKEN=" + k_token);
    BOOST_TEST(r.code == 0, r.err);
    secret(t / "tok", "file_token\n", 0600);
    r = hearth_with(ask, t, "HEARTH_TOKEN_FILE=" + quote((t / "tok").string()));
    BOOST_TEST(r.code == 0, r.err);
    secret(t / "home" / ".config" / "hearth" / "token", "config_token\n", 0600);
    r = hearth_with(ask, t, "");
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(agent.requests() == "/v1/energy Bearer " + k_token +
                                       "\n/v1/energy Bearer file_token"
                                       "\n/v1/energy Bearer config_token\n");
}

BOOST_AUTO_TEST_CASE(an_answer_past_the_clients_size_limit_is_refused_not_buffered) {
    TempDir t;
    FakeAgent agent(t.path);
    std::ofstream(t / "port.huge") << "";
    Result r = hearth_with({"energy", "--agent", agent.url(), "--format", "json"}, t,
                           "HEARTH_TOKEN=" + k_token);
    BOOST_TEST(r.code != 0);
    BOOST_TEST(r.err.find("larger than the client's limit of 64 MiB") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(no_token_configured_sends_no_authorization) {
    TempDir t;
    FakeAgent agent(t.path);
    Result r = hearth_with({"energy", "--agent", agent.url()}, t, "");
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(agent.requests() == "/v1/energy -\n");
}

BOOST_AUTO_TEST_CASE(a_token_file_others_may_read_stops_the_command_before_any_request) {
    TempDir t;
    FakeAgent agent(t.path);
    secret(t / "tok", k_token, 0644);
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"energy", "--agent", agent.url()},
          std::vector<std::string>{"nodes", "--agent", agent.url()},
          std::vector<std::string>{"heat", "show", "--agent", agent.url()}}) {
        Result r = hearth_with(cmd, t, "HEARTH_TOKEN_FILE=" + quote((t / "tok").string()));
        BOOST_TEST_CONTEXT("hearth " << cmd[0] << ": " << r.err) {
            BOOST_TEST(r.code == 2);
            BOOST_TEST(count_lines(r.err) == 1u);
            BOOST_TEST(r.err.find("mode 0644") != std::string::npos);
            BOOST_TEST(r.err.find("chmod 0600 " + (t / "tok").string()) != std::string::npos);
        }
    }
    BOOST_TEST(agent.requests().empty());
}

BOOST_AUTO_TEST_CASE(a_403_prints_the_agents_reason_and_the_role_needed_and_exits_2) {
    TempDir t;
    FakeAgent agent(t.path);
    Result r = hearth_with({"nodes", "--agent", agent.url()}, t, "HEARTH_TOKEN=" + k_token);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("grid-agent at " + agent.url() +
                          ": 403 role tenant:bank may not read node or site state") !=
                   std::string::npos,
               r.err);
    BOOST_TEST(r.err.find("the token sent is from HEARTH_TOKEN") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("a facility or operator token") != std::string::npos, r.err);
    // The table still shows the node, as refused rather than down.
    BOOST_TEST(r.out.find("refused") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(an_unknown_token_is_a_401_naming_where_the_token_came_from) {
    TempDir t;
    FakeAgent agent(t.path);
    secret(t / "tok", k_token, 0400);
    Result r = hearth_with({"heat", "show", "--agent", agent.url()}, t,
                           "HEARTH_TOKEN_FILE=" + quote((t / "tok").string()));
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("grid-agent at " + agent.url() + ": 401 the token is not valid here") !=
                   std::string::npos,
               r.err);
    BOOST_TEST(r.err.find("the token sent is from " + (t / "tok").string()) != std::string::npos,
               r.err);
    BOOST_TEST(r.out.find("refused the token (HTTP 401)") != std::string::npos, r.out);
    BOOST_TEST(agent.requests() == "/v1/heat Bearer " + k_token + "\n");
}

BOOST_AUTO_TEST_CASE(https_agents_are_verified_against_hearth_cacert_only) {
    TempDir t;
    FakeAgent agent(t.path, true);
    const std::vector<std::string> ask = {"energy", "--agent", agent.url(), "--format", "json"};
    // The private CA is not one the system trusts: refused, no request made.
    Result r = hearth_with(ask, t, "HEARTH_TOKEN=" + k_token);
    BOOST_TEST(r.code == 3, r.err);
    BOOST_TEST(agent.requests().empty());
    r = hearth_with(ask, t, "HEARTH_TOKEN=" + k_token + " HEARTH_CACERT=" + quote((t / "ca.pem").string()));
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(agent.requests() == "/v1/energy Bearer " + k_token + "\n");
    // A CA file that cannot be read is a usage error.
    r = hearth_with(ask, t, "HEARTH_CACERT=" + quote((t / "nope.pem").string()));
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("HEARTH_CACERT") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
