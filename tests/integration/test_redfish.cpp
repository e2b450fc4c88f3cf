// energy source redfish against a fake BMC: a python3 HTTPS server (its CA
// and certificate made by openssl here, bound to 127.0.0.1) serving a
// Chassis with Power (PowerControl) and an EnergykWh sensor whose values the
// test drives, behind basic authentication. A real grid-agent reads it:
// --probe shows the reading or a one-line reason (401, 404, HTML, timeout,
// credentials readable by others); the ledger gets exactly what the kWh
// counter advanced, and the watts integrated over time.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <regex>

#include "harness.hpp"

using namespace hearth::test;

namespace {

// Files in its directory steer it: `mode` (ok, html, slow, big), `watts`, `kwh`
// (no file: no energy sensor), `auth` (user:password). Each GET's path is
// appended to `requests`.
const char* k_bmc = R"PY(
import base64, http.server, json, os, ssl, sys, time
d = sys.argv[1]
def read(name, default=None):
    try:
        return open(os.path.join(d, name)).read().strip()
    except OSError:
        return default
class Bmc(http.server.BaseHTTPRequestHandler):
    def send(self, status, body, ctype='application/json'):
        data = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        with open(os.path.join(d, 'requests'), 'a') as f:
            f.write(self.path + '\n')
        mode = read('mode', 'ok')
        if mode == 'slow':
            time.sleep(3)
        if mode == 'big':
            return self.send(200, json.dumps({'Padding': 'x' * 4096}))
        if mode == 'html':
            return self.send(200, '<!DOCTYPE html><html><body>Please log in</body></html>',
                             'text/html')
        want = 'Basic ' + base64.b64encode(read('auth', '').encode()).decode()
        if self.headers.get('Authorization') != want:
            return self.send(401, json.dumps({'error': {'code': 'Base.1.0.NoValidSession'}}))
        base = '/redfish/v1/Chassis/1'
        kwh = read('kwh')
        if self.path == base + '/Power':
            doc = {'@odata.id': self.path, 'PowerControl': [
                {'MemberId': '0', 'PowerConsumedWatts': float(read('watts', '0'))}]}
        elif self.path == base + '/EnvironmentMetrics' and kwh is not None:
            doc = {'@odata.id': self.path, 'EnergykWh': {
                'DataSourceUri': base + '/Sensors/EnergykWh'}}
        elif self.path == base + '/Sensors/EnergykWh' and kwh is not None:
            doc = {'@odata.id': self.path, 'ReadingType': 'EnergykWh', 'ReadingUnits': 'kWh',
                   'Reading': float(kwh)}
        else:
            return self.send(404, json.dumps({'error': {'code': 'Base.1.0.ResourceMissingAtURI'}}))
        self.send(200, json.dumps(doc))
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Bmc)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, 'bmc.pem'), os.path.join(d, 'bmc.key'))
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(os.path.join(d, 'port.tmp'), 'w') as f:
    f.write(str(server.server_port))
os.rename(os.path.join(d, 'port.tmp'), os.path.join(d, 'port'))
server.serve_forever()
)PY";

class FakeBmc {
public:
    explicit FakeBmc(const fs::path& dir) : m_dir(dir) {
        fs::create_directories(dir);
        const std::string d = quote(dir.string());
        // A CA of the test's own and the BMC's certificate for 127.0.0.1.
        std::ofstream(dir / "san.ext") << "subjectAltName=IP:127.0.0.1\n";
        int rc = 0;
        const std::string log = sh_out(
            "cd " + d +
                " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "-keyout ca.key -out ca.pem -subj /CN=hearth-test-ca -days 1 2>&1"
                " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "-keyout bmc.key -out bmc.csr -subj /CN=127.0.0.1 2>&1"
                " && openssl x509 -req -in bmc.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                "-out bmc.pem -days 1 -extfile san.ext 2>&1",
            &rc);
        BOOST_TEST_REQUIRE(rc == 0, "openssl: " + log);
        set("auth", "admin:s3cret");
        set("watts", "250");
        std::ofstream(dir / "server.py") << k_bmc;
        std::string cmd = "exec python3 " + quote((dir / "server.py").string()) + " " + d + " 2>>" +
                          quote((dir / "server.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&m_pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        bool up = wait_for([&] { return fs::exists(dir / "port"); }, std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(up, "the fake BMC did not start: " + slurp(dir / "server.log"));
        m_port = std::stoi(slurp(dir / "port"));
        // The agent's credentials file.
        std::ofstream(dir / "bmc.cred") << "admin:s3cret\n";
        fs::permissions(dir / "bmc.cred", fs::perms::owner_read | fs::perms::owner_write);
    }
    ~FakeBmc() {
        ::kill(m_pid, SIGTERM);
        wait_exit(m_pid);
    }
    FakeBmc(const FakeBmc&) = delete;
    FakeBmc& operator=(const FakeBmc&) = delete;

    // Replaced whole, as the BMC updates a reading.
    void set(const std::string& name, const std::string& value) {
        std::ofstream(m_dir / (name + ".tmp")) << value << "\n";
        fs::rename(m_dir / (name + ".tmp"), m_dir / name);
    }
    std::string chassis(int n = 1) const {
        return "https://127.0.0.1:" + std::to_string(m_port) + "/redfish/v1/Chassis/" +
               std::to_string(n);
    }
    // The agent's options for this BMC.
    std::string options(int n = 1) const {
        return "--redfish-url " + chassis(n) + " --redfish-credentials " +
               quote((m_dir / "bmc.cred").string()) + " --redfish-ca " +
               quote((m_dir / "ca.pem").string());
    }
    fs::path cred() const { return m_dir / "bmc.cred"; }
    int gets(const std::string& path) const {
        const std::string all = slurp(m_dir / "requests");
        int n = 0;
        for (std::size_t at = all.find(path + "\n"); at != std::string::npos;
             at = all.find(path + "\n", at + 1))
            ++n;
        return n;
    }

private:
    fs::path m_dir;
    pid_t m_pid = -1;
    int m_port = 0;
};

// The --probe line of the redfish source.
std::string probe_line(const FakeBmc& bmc, const std::string& extra = "", int chassis = 1) {
    const std::string out =
        sh_out(quote(agent_bin()) + " --probe " + bmc.options(chassis) + " " + extra + " 2>&1");
    const auto at = out.find("redfish: ");
    if (at == std::string::npos) return "(no redfish line) " + out;
    const auto start = out.rfind('\n', at);
    const auto line_start = start == std::string::npos ? 0 : start + 1;
    return out.substr(line_start, out.find('\n', at) - line_start);
}

struct RedfishAgent {
    pid_t pid = -1;
    std::string ledger;
    fs::path dir;
    RedfishAgent(const fs::path& d, const FakeBmc& bmc, const std::string& extra = "") : dir(d) {
        ledger = (d / "ledger.db").string();
        std::string cmd = "exec " + quote(agent_bin()) +
                          " --node n1 --site pool --listen 127.0.0.1:0 --no-auth --socket " +
                          quote((d / "agent.sock").string()) + " --ledger " + quote(ledger) +
                          " --energy redfish " + bmc.options() + " --rate 20 " + extra + " 2>>" +
                          quote((d / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        bool up = wait_for(
            [&] { return slurp(d / "agent.log").find("http 127.0.0.1:") != std::string::npos; },
            std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(up, "grid-agent did not start: " + slurp(d / "agent.log"));
    }
    int stop() {
        ::kill(pid, SIGTERM);
        return wait_exit(pid);
    }
    std::string log() const { return slurp(dir / "agent.log"); }
};

std::string sql(const std::string& db, const std::string& query) {
    return sh_out("sqlite3 " + quote(db) + " " + quote(query));
}

bool has(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redfish_bmc)

BOOST_AUTO_TEST_CASE(probe_shows_the_reading_or_one_line_saying_why_not) {
    TempDir t;
    FakeBmc bmc(t / "bmc");
    std::string line = probe_line(bmc);
    BOOST_TEST(line == "available    redfish: 250 W PowerConsumedWatts at " + bmc.chassis() +
                           "/Power, integrated between reads",
               line);
    bmc.set("kwh", "1234.5");
    line = probe_line(bmc);
    BOOST_TEST(line == "available    redfish: energy counter at " + bmc.chassis() +
                           "/Sensors/EnergykWh, now 1234.5 kWh",
               line);

    bmc.set("auth", "admin:other");
    line = probe_line(bmc);
    BOOST_TEST(has(line, "unavailable  redfish: " + bmc.chassis() +
                             "/EnvironmentMetrics: HTTP 401: the BMC refused the credentials"),
               line);
    bmc.set("auth", "admin:s3cret");
    line = probe_line(bmc, "", 9);
    BOOST_TEST(has(line, "unavailable  redfish: " + bmc.chassis(9) + "/Power: HTTP 404"), line);
    bmc.set("mode", "html");
    line = probe_line(bmc);
    BOOST_TEST((has(line, "unavailable  redfish: ") && has(line, "HTML, not Redfish JSON")), line);
    bmc.set("mode", "slow");
    line = probe_line(bmc, "--redfish-timeout 0.3");
    BOOST_TEST((has(line, "unavailable  redfish: ") && has(line, "no answer from the BMC") &&
                has(line, "timed out")),
               line);
    bmc.set("mode", "big");
    line = probe_line(bmc, "--redfish-max-kib 1");
    BOOST_TEST(has(line, "answer larger than 1024 bytes (--redfish-max-kib)"), line);
    bmc.set("mode", "ok");
    // Without the test's CA the BMC's certificate is not trusted.
    const std::string out_no_ca =
        sh_out(quote(agent_bin()) + " --probe --redfish-url " + bmc.chassis() +
               " --redfish-credentials " + quote(bmc.cred().string()) + " 2>&1");
    BOOST_TEST(has(out_no_ca, "unavailable  redfish: " + bmc.chassis() +
                                  "/EnvironmentMetrics: no answer from the BMC: SSL certificate"),
               out_no_ca);

    // Credentials others can read are refused, with the fix.
    fs::permissions(bmc.cred(), fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::add);
    line = probe_line(bmc);
    BOOST_TEST(has(line, "unavailable  redfish: redfish credentials file " + bmc.cred().string() +
                             " has mode 0644, readable by others; run "
                             "chmod 600 " +
                             bmc.cred().string()),
               line);
    // Asked for by name, the agent refuses to start with the same reason.
    int rc = 0;
    const std::string out =
        sh_out(quote(agent_bin()) + " --energy redfish " + bmc.options() + " --no-auth --ledger " +
                   quote((t / "l.db").string()) + " 2>&1",
               &rc);
    BOOST_TEST(rc == 2, out);
    BOOST_TEST(has(out, "energy source 'redfish' is unavailable: redfish credentials file"), out);
}

BOOST_AUTO_TEST_CASE(ledger_total_is_exactly_what_the_kwh_counter_advanced) {
    TempDir t;
    FakeBmc bmc(t / "bmc");
    const std::string sensor = "/redfish/v1/Chassis/1/Sensors/EnergykWh";
    long steps = 0;  // of 0.00001 kWh = 36 J
    auto kwh = [&] {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%ld.%05ld", 100 + steps / 100000, steps % 100000);
        return std::string(buf);
    };
    bmc.set("kwh", kwh());
    RedfishAgent agent(t.path, bmc);
    // The agent's first reading (its base) is in before the counter moves.
    BOOST_TEST_REQUIRE(wait_for([&] { return bmc.gets(sensor) >= 2; }, std::chrono::seconds(10)));
    for (int i = 0; i < 30; ++i) {  // 36 J every 50 ms: 720 W
        ++steps;
        bmc.set("kwh", kwh());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Two more polls: the last value is read.
    const int seen = bmc.gets(sensor);
    BOOST_TEST_REQUIRE(
        wait_for([&] { return bmc.gets(sensor) >= seen + 2; }, std::chrono::seconds(10)));
    BOOST_TEST(agent.stop() == 0);
    BOOST_TEST(has(agent.log(), "energy source: redfish (EnergykWh counter)"), agent.log());
    const std::uint64_t fed = static_cast<std::uint64_t>(steps) * 36'000'000ULL;
    BOOST_TEST(std::stoull(sql(agent.ledger, "SELECT sum(energy_uj) FROM intervals")) == fed);
    BOOST_TEST(sql(agent.ledger, "SELECT DISTINCT source FROM intervals") == "redfish\n");
    BOOST_TEST(sql(agent.ledger, "SELECT sum(estimated) FROM intervals") == "0\n");
}

BOOST_AUTO_TEST_CASE(ledger_total_is_the_bmcs_watts_integrated) {
    TempDir t;
    FakeBmc bmc(t / "bmc");
    RedfishAgent agent(t.path, bmc);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    BOOST_TEST(agent.stop() == 0);
    BOOST_TEST(has(agent.log(), "energy source: redfish (PowerConsumedWatts, integrated)"),
               agent.log());
    const double uj = std::stod(sql(agent.ledger, "SELECT sum(energy_uj) FROM intervals"));
    const double ms = std::stod(sql(agent.ledger, "SELECT max(t1_ms) - min(t0_ms) FROM intervals"));
    const double fed = 250.0 * ms * 1000.0;
    BOOST_TEST_MESSAGE("redfish watts: ledger " << uj << " uJ, fed " << fed << " uJ over " << ms
                                                << " ms");
    BOOST_TEST(ms > 1500.0);
    BOOST_TEST(std::abs(uj - fed) <= fed * 0.005, "ledger " << uj << " uJ, fed " << fed << " uJ");
    BOOST_TEST(sql(agent.ledger, "SELECT DISTINCT source FROM intervals") == "redfish\n");
}

// The BMC is polled off the sampling loop: a BMC taking 3 s to answer (and
// timing out at 2 s) never holds a sample up, and no energy is guessed while
// it fails: the next good reading covers the span.
BOOST_AUTO_TEST_CASE(a_slow_bmc_never_delays_a_sample) {
    TempDir t;
    FakeBmc bmc(t / "bmc");
    RedfishAgent agent(t.path, bmc);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    bmc.set("mode", "slow");
    std::this_thread::sleep_for(std::chrono::milliseconds(4500));
    bmc.set("mode", "ok");
    const int seen = bmc.gets("/redfish/v1/Chassis/1/Power");
    BOOST_TEST_REQUIRE(wait_for([&] { return bmc.gets("/redfish/v1/Chassis/1/Power") >= seen + 2; },
                                std::chrono::seconds(10)));
    BOOST_TEST(agent.stop() == 0);
    BOOST_TEST(has(agent.log(), "redfish: "), agent.log());  // the failure, said
    // Sampling at 20 Hz went on all along: the longest interval is far below
    // the BMC's 3 s (the old in-loop poll made it the 2 s timeout or more).
    const double longest = std::stod(
        sql(agent.ledger, "SELECT max(t1_ms - t0_ms) FROM intervals WHERE kind = 'sample'"));
    BOOST_TEST_MESSAGE("redfish slow BMC: longest interval " << longest << " ms");
    BOOST_TEST(longest < 1500.0);
    // And the energy is 250 W over the whole run: the failed polls' span was
    // covered by the next good reading, not lost and not counted twice.
    const double uj = std::stod(sql(agent.ledger, "SELECT sum(energy_uj) FROM intervals"));
    const double ms = std::stod(sql(agent.ledger, "SELECT max(t1_ms) - min(t0_ms) FROM intervals"));
    const double fed = 250.0 * ms * 1000.0;
    BOOST_TEST_MESSAGE("redfish slow BMC: ledger " << uj << " uJ, fed " << fed << " uJ");
    BOOST_TEST(std::abs(uj - fed) <= fed * 0.01, "ledger " << uj << " uJ, fed " << fed << " uJ");
}

BOOST_AUTO_TEST_SUITE_END()
