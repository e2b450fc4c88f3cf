// TLS between a site and its scheduler with the CA and certificate that
// `hearth tls ca` and `hearth tls cert` make: hearth serve on https, hearth
// site and a client verifying it against that CA, a job round trip; and
// what they refuse.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <thread>

#include "serve_http.hpp"

using namespace hearth::test;

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(
    a_job_goes_round_a_site_and_its_scheduler_over_tls_from_hearth_tls_certificates) {
    TempDir t;
    Result ca = run_hearth({"tls", "ca", (t / "ca").string()}, t.path);
    BOOST_TEST_REQUIRE(ca.code == 0, ca.err);
    Result cert = run_hearth({"tls", "cert", (t / "ca").string(), "--host", "127.0.0.1", "--host",
                              "localhost", "--name", "sched"},
                             t.path);
    BOOST_TEST_REQUIRE(cert.code == 0, cert.err);
    struct stat st {};
    BOOST_TEST(::stat((t / "ca/ca.key").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(::stat((t / "ca/sched.key").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    // openssl(1) agrees the certificate is the CA's, for those names.
    BOOST_TEST(sh_out("openssl verify -CAfile " + quote((t / "ca/ca.pem").string()) + " " +
                      quote((t / "ca/sched.pem").string()) + " 2>&1")
                   .find(": OK") != std::string::npos);

    std::ofstream(t / "grid.toml") << k_home_grid;
    const auto token = [&](const std::string& role) {
        Result r = run_hearth({"token", "new", "--role", role, "--tokens", (t / "tokens").string()},
                              t.path);
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
        return r.out.substr(0, r.out.find('\n'));
    };
    const std::string tenant = token("tenant:bank");
    std::ofstream(t / "site.token") << token("site:home") << "\n";
    ::chmod((t / "site.token").c_str(), 0600);
    fs::create_directories(t / "serve");
    fs::create_directories(t / "site");
    pid_t serve = start_hearth(
        {"serve", "--grid", (t / "grid.toml").string(), "--state", (t / "queue").string(),
         "--listen", "127.0.0.1:0", "--tokens", (t / "tokens").string(), "--tls-cert",
         (t / "ca/sched.pem").string(), "--tls-key", (t / "ca/sched.key").string()},
        t / "serve");
    const std::string port = listening_port(t / "serve");
    BOOST_TEST_REQUIRE(!port.empty(), "hearth serve did not start: " + slurp(t / "serve/.bg.err"));
    BOOST_TEST(slurp(t / "serve/.bg.err").find("https on 127.0.0.1") != std::string::npos);
    const std::string url = "https://localhost:" + port;
    // Without the CA, the certificate is not trusted.
    BOOST_TEST(sh_out("curl -s -o /dev/null -w '%{http_code}' " + url + "/v1/health") == "000");
    BOOST_TEST(sh_out("curl -s --cacert " + quote((t / "ca/ca.pem").string()) +
                      " -o /dev/null -w '%{http_code}' " + url + "/v1/health") == "200");
    pid_t site =
        start_hearth({"site", "--grid", (t / "grid.toml").string(), "--site", "home", "--server",
                      url, "--cacert", (t / "ca/ca.pem").string(), "--token-file",
                      (t / "site.token").string(), "--state", (t / "state").string()},
                     t / "site");
    Result run = run_hearth({"run", "--server", url, "--tenant", "bank", "--count", "3", "--", "sh",
                             "-c", "echo task {item}"},
                            t.path,
                            "env -u HEARTH_TOKEN_FILE HEARTH_TOKEN=" + quote(tenant) +
                                " HEARTH_CACERT=" + quote((t / "ca/ca.pem").string()));
    BOOST_TEST(run.code == 0, run.err << "\nsite: " << slurp(t / "site/.bg.err"));
    for (pid_t p : {site, serve}) {
        ::kill(p, SIGTERM);
        wait_exit(p);
    }
}

BOOST_AUTO_TEST_CASE(hearth_tls_refuses_to_replace_keys_and_bad_hosts_with_nothing_written) {
    TempDir t;
    BOOST_TEST_REQUIRE(run_hearth({"tls", "ca", (t / "ca").string()}, t.path).code == 0);
    const std::string before = slurp(t / "ca/ca.key");
    Result again = run_hearth({"tls", "ca", (t / "ca").string()}, t.path);
    BOOST_TEST(again.code == 2, again.err);
    BOOST_TEST(count_lines(again.err) == 1u, again.err);
    BOOST_TEST(again.err.find("never replaces a key") != std::string::npos, again.err);
    BOOST_TEST(slurp(t / "ca/ca.key") == before);
    Result bad = run_hearth({"tls", "cert", (t / "ca").string(), "--host", "a b"}, t.path);
    BOOST_TEST(bad.code == 2, bad.err);
    BOOST_TEST(bad.err.find("neither an IP address nor a host name") != std::string::npos, bad.err);
    Result none = run_hearth({"tls", "cert", (t / "nope").string(), "--host", "x"}, t.path);
    BOOST_TEST(none.code == 2, none.err);
    BOOST_TEST(none.err.find("make one with hearth tls ca") != std::string::npos, none.err);
    BOOST_TEST(!fs::exists(t / "nope"));
}

BOOST_AUTO_TEST_SUITE_END()
