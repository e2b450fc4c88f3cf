// energy source ipmi against a BMC simulator: OpenIPMI's ipmi_sim on
// 127.0.0.1 (IPMI 2.0 lanplus, a user with a password), with a small module
// of ours (tests/fakes/dcmi_sim_module.c, built here with cc) answering the
// DCMI Get Power Reading that ipmi_sim lacks; the watts come from a file the
// test writes. The real ipmitool talks to it; a real grid-agent reads it:
// --probe shows the reading or one line saying why not (DCMI not supported,
// a wrong password, credentials readable by others, no ipmitool), and the
// ledger gets the watts integrated over time.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

namespace {

// A UDP port nobody uses now, for the simulator's LAN channel.
int free_udp_port() {
    int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

class SimBmc {
public:
    explicit SimBmc(const fs::path& dir) : m_dir(dir) {
        fs::create_directories(dir / "state");
        const std::string d = quote(dir.string());
        int rc = 0;
        const std::string cc =
            sh_out("cc -shared -fPIC -o " + quote((dir / "dcmi.so").string()) + " " +
                       quote(repo_root() + "/tests/fakes/dcmi_sim_module.c") + " 2>&1",
                   &rc);
        BOOST_TEST_REQUIRE(rc == 0, "building the DCMI module (libopenipmi-dev): " + cc);
        set_watts("250");
        m_port = free_udp_port();
        std::ofstream(dir / "lan.conf")
            << "name \"hearth\"\n"
            << "loadlib \"" << (dir / "dcmi.so").string() << "\" \"" << (dir / "watts").string()
            << "\"\n"
            << "set_working_mc 0x20\n"
            << "  startlan 1\n"
            << "    addr 127.0.0.1 " << m_port << "\n"
            << "    priv_limit admin\n"
            << "    allowed_auths_callback none md2 md5 straight\n"
            << "    allowed_auths_user none md2 md5 straight\n"
            << "    allowed_auths_operator none md2 md5 straight\n"
            << "    allowed_auths_admin none md2 md5 straight\n"
            << "    guid a123456789abcdefa123456789abcdef\n"
            << "  endlan\n"
            << "  user 2 true \"admin\" \"s3cret\" admin 10 none md2 md5 straight\n";
        std::ofstream(dir / "emu.cmd")
            << "mc_setbmc 0x20\n"
            << "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n"
            << "mc_enable 0x20\n";
        std::string cmd = "exec ipmi_sim -n -c " + quote((dir / "lan.conf").string()) + " -f " +
                          quote((dir / "emu.cmd").string()) + " -s " +
                          quote((dir / "state").string()) + " >" +
                          quote((dir / "sim.log").string()) + " 2>&1";
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&m_pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        std::ofstream(dir / "bmc.cred") << "admin:s3cret\n";
        ::chmod((dir / "bmc.cred").c_str(), 0600);
        // Up when ipmitool gets an answer over lanplus.
        bool up = wait_for(
            [&] {
                int code = 0;
                sh_out("IPMI_PASSWORD=s3cret ipmitool -I lanplus -H 127.0.0.1 -p " +
                           std::to_string(m_port) + " -U admin -E -N 1 -R 1 mc info 2>&1",
                       &code);
                return code == 0;
            },
            std::chrono::seconds(20));
        BOOST_TEST_REQUIRE(up, "ipmi_sim did not answer: " + slurp(dir / "sim.log"));
    }
    ~SimBmc() {
        ::kill(m_pid, SIGTERM);
        wait_exit(m_pid);
    }
    SimBmc(const SimBmc&) = delete;
    SimBmc& operator=(const SimBmc&) = delete;

    void set_watts(const std::string& w) {
        std::ofstream(m_dir / "watts.tmp") << w << "\n";
        fs::rename(m_dir / "watts.tmp", m_dir / "watts");
    }
    std::string options(const fs::path& cred = {}) const {
        return "--ipmi-host 127.0.0.1:" + std::to_string(m_port) + " --ipmi-credentials " +
               quote((cred.empty() ? m_dir / "bmc.cred" : cred).string()) +
               " --ipmi-cipher 3";  // ipmi_sim does not list its cipher suites
    }
    int port() const { return m_port; }
    const fs::path& dir() const { return m_dir; }

private:
    fs::path m_dir;
    pid_t m_pid = -1;
    int m_port = 0;
};

std::string probe_line(const std::string& args) {
    const std::string out = sh_out(quote(agent_bin()) + " --probe " + args + " 2>&1");
    const auto at = out.find("ipmi: ");
    if (at == std::string::npos) return "(no ipmi line) " + out;
    const auto start = out.rfind('\n', at);
    const auto line_start = start == std::string::npos ? 0 : start + 1;
    return out.substr(line_start, out.find('\n', at) - line_start);
}

std::string sql(const std::string& db, const std::string& query) {
    return sh_out("sqlite3 " + quote(db) + " " + quote(query));
}

bool has(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ipmi_bmc)

BOOST_AUTO_TEST_CASE(probe_shows_the_dcmi_reading_or_one_line_saying_why_not) {
    TempDir t;
    SimBmc bmc(t / "bmc");
    const std::string where = "BMC 127.0.0.1:" + std::to_string(bmc.port()) + " over lanplus";
    std::string line = probe_line(bmc.options());
    BOOST_TEST(line == "available    ipmi: 250 W DCMI instantaneous power from ipmitool (" + where +
                           "), integrated between samples, not a counter",
               line);

    bmc.set_watts("unsupported");  // Invalid Command, as a BMC without DCMI answers
    line = probe_line(bmc.options());
    BOOST_TEST(has(line, "unavailable  ipmi: " + where +
                             ": the BMC does not support DCMI power readings (ipmitool: "),
               line);
    bmc.set_watts("250");

    std::ofstream(t / "wrong.cred") << "admin:nope\n";
    ::chmod((t / "wrong.cred").c_str(), 0600);
    line = probe_line(bmc.options(t / "wrong.cred") + " --ipmi-timeout 3");
    BOOST_TEST(has(line, "unavailable  ipmi: " + where + ": ipmitool failed (exit status 1)"),
               line);
    BOOST_TEST(has(line, "check the BMC address, the credentials"), line);

    std::ofstream(t / "loose.cred") << "admin:s3cret\n";
    ::chmod((t / "loose.cred").c_str(), 0644);
    line = probe_line(bmc.options(t / "loose.cred"));
    BOOST_TEST(line == "unavailable  ipmi: ipmi credentials file " + (t / "loose.cred").string() +
                           " has mode 0644, readable by others; run chmod 600 " +
                           (t / "loose.cred").string(),
               line);

    // No tool on PATH.
    const std::string none =
        sh_out("PATH=/nonexistent " + quote(agent_bin()) + " --probe " + bmc.options() + " 2>&1");
    BOOST_TEST(has(none,
                   "unavailable  ipmi: neither ipmitool nor FreeIPMI's ipmi-dcmi is on "
                   "PATH; install one"),
               none);

    // Named, and refused with the reason.
    int code = 0;
    const std::string out =
        sh_out("PATH=/nonexistent " + quote(agent_bin()) +
                   " --no-auth --listen 127.0.0.1:0 --energy ipmi --ledger " +
                   quote((t / "l.db").string()) + " --socket " + quote((t / "a.sock").string()) +
                   " " + bmc.options() + " 2>&1",
               &code);
    BOOST_TEST(code == 2, out);
    BOOST_TEST(has(out, "energy source 'ipmi' is unavailable: neither ipmitool nor"), out);
}

BOOST_AUTO_TEST_CASE(ledger_total_is_the_bmcs_watts_integrated) {
    TempDir t;
    SimBmc bmc(t / "bmc");
    const std::string ledger = (t / "ledger.db").string();
    std::string cmd = "exec " + quote(agent_bin()) +
                      " --node n1 --site pool --listen 127.0.0.1:0 --no-auth --socket " +
                      quote((t / "agent.sock").string()) + " --ledger " + quote(ledger) +
                      " --energy ipmi " + bmc.options() + " --rate 20 2>>" +
                      quote((t / "agent.log").string());
    std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), cmd.data(),
                               nullptr};
    pid_t pid = -1;
    ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
    const auto log = [&] { return slurp(t / "agent.log"); };
    BOOST_TEST_REQUIRE(
        wait_for([&] { return has(log(), "http 127.0.0.1:"); }, std::chrono::seconds(20)),
        "grid-agent did not start: " + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));
    ::kill(pid, SIGTERM);
    BOOST_TEST(wait_exit(pid) == 0);
    BOOST_TEST(has(log(), "energy source: ipmi (DCMI power reading via ipmitool (BMC 127.0.0.1:"),
               log());
    const double uj = std::stod(sql(ledger, "SELECT sum(energy_uj) FROM intervals"));
    const double ms = std::stod(sql(ledger, "SELECT max(t1_ms) - min(t0_ms) FROM intervals"));
    const double fed = 250.0 * ms * 1000.0;
    BOOST_TEST_MESSAGE("ipmi watts: ledger " << uj << " uJ, fed " << fed << " uJ over " << ms
                                             << " ms");
    BOOST_TEST(ms > 2000.0);
    BOOST_TEST(std::abs(uj - fed) <= fed * 0.005, "ledger " << uj << " uJ, fed " << fed << " uJ");
    BOOST_TEST(sql(ledger, "SELECT DISTINCT source FROM intervals") == "ipmi\n");
    BOOST_TEST(has(sql(ledger, "SELECT DISTINCT meter FROM intervals"),
                   "DCMI power reading via ipmitool"));
}

// FreeIPMI over LAN: its password goes in a config file of its own for each
// reading (mode 0600 in a 0700 directory, removed after), never on argv.
// ipmi_sim's Open Session answer needs FreeIPMI's opensesspriv workaround.
BOOST_AUTO_TEST_CASE(freeipmi_reads_the_bmc_over_lan_with_its_password_in_a_private_file) {
    TempDir t;
    SimBmc bmc(t / "bmc");
    int code = 0;
    sh_out("command -v ipmi-dcmi", &code);
    BOOST_TEST_REQUIRE(code == 0,
                       "FreeIPMI's ipmi-dcmi is missing (apt-get install freeipmi-tools)");
    const fs::path tmp = t / "tmp";
    fs::create_directories(tmp);
    const std::string freeipmi = "--ipmi-tool freeipmi --ipmi-workarounds opensesspriv ";
    const std::string env = "TMPDIR=" + quote(tmp.string()) + " ";
    const std::string where = "BMC 127.0.0.1:" + std::to_string(bmc.port()) + " over lanplus";
    std::string line = probe_line(freeipmi + bmc.options());
    BOOST_TEST(line == "available    ipmi: 250 W DCMI instantaneous power from ipmi-dcmi (" +
                           where + "), integrated between samples, not a counter",
               line);
    // Through TMPDIR, to see that nothing is left behind.
    const std::string out =
        sh_out(env + quote(agent_bin()) + " --probe " + freeipmi + bmc.options() + " 2>&1");
    BOOST_TEST(has(out, "available    ipmi: 250 W DCMI instantaneous power from ipmi-dcmi"), out);
    BOOST_TEST(fs::is_empty(tmp), "a config file was left in " + tmp.string());

    std::ofstream(t / "wrong.cred") << "admin:nope\n";
    ::chmod((t / "wrong.cred").c_str(), 0600);
    line = probe_line(freeipmi + bmc.options(t / "wrong.cred"));
    BOOST_TEST(has(line, "unavailable  ipmi: " + where + ": ipmi-dcmi failed"), line);

    // A password FreeIPMI's config file cannot carry: refused, never passed.
    std::ofstream(t / "blank.cred") << "admin:two words\n";
    ::chmod((t / "blank.cred").c_str(), 0600);
    line = probe_line(freeipmi + bmc.options(t / "blank.cred"));
    BOOST_TEST(has(line, "which FreeIPMI's config file cannot carry; use --ipmi-tool ipmitool"),
               line);

    // The flags are FreeIPMI's: refused with ipmitool.
    line = probe_line("--ipmi-tool ipmitool --ipmi-workarounds opensesspriv " + bmc.options());
    BOOST_TEST(has(line, "--ipmi-workarounds are FreeIPMI's workaround flags; ipmitool takes none"),
               line);
}

BOOST_AUTO_TEST_SUITE_END()
