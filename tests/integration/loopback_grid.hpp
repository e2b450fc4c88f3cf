#pragma once
// A whole grid on loopback for the examples' tests: `hearth serve` with a
// tokens file (a tenant's token and the site's) and `hearth site` running the
// one-site grid of serve_http.hpp, both stopped when the object goes.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "serve_http.hpp"

namespace hearth::test {

struct LoopbackGrid {
    TempDir t;
    std::string url, tenant_token;
    pid_t serve = -1, site = -1;

    explicit LoopbackGrid(const std::string& tenant) {
        std::ofstream(t / "grid.toml") << k_home_grid;
        const auto token = [&](const std::string& role) {
            Result r = run_hearth(
                {"token", "new", "--role", role, "--tokens", (t / "tokens").string()}, t.path);
            BOOST_TEST_REQUIRE(r.code == 0, r.err);
            return r.out.substr(0, r.out.find('\n'));
        };
        tenant_token = token("tenant:" + tenant);
        std::ofstream(t / "site.token") << token("site:home") << "\n";
        ::chmod((t / "site.token").c_str(), 0600);
        fs::create_directories(t / "serve");
        fs::create_directories(t / "site");
        serve = start_hearth(
            {"serve", "--grid", (t / "grid.toml").string(), "--state", (t / "queue").string(),
             "--listen", "127.0.0.1:0", "--tokens", (t / "tokens").string()},
            t / "serve");
        const std::string port = listening_port(t / "serve");
        BOOST_TEST_REQUIRE(!port.empty(),
                           "hearth serve did not start: " + slurp(t / "serve" / ".bg.err"));
        url = "http://127.0.0.1:" + port;
        site = start_hearth(
            {"site", "--grid", (t / "grid.toml").string(), "--site", "home", "--server", url,
             "--token-file", (t / "site.token").string(), "--state", (t / "state").string()},
            t / "site");
    }
    LoopbackGrid(const LoopbackGrid&) = delete;
    LoopbackGrid& operator=(const LoopbackGrid&) = delete;
    ~LoopbackGrid() {
        for (pid_t* p : {&site, &serve})
            if (*p > 0) {
                stop_process(*p);
                *p = -1;
            }
    }
    // The settings a client of this grid runs with, for env(1) (after the
    // caller's -u HEARTH_TOKEN_FILE -u HEARTH_CACERT).
    std::string client_vars() const {
        return "HEARTH_TOKEN=" + quote(tenant_token) + " HEARTH_SERVER=" + quote(url);
    }
    // How many jobs the scheduler holds (as the tenant sees them).
    std::size_t jobs() const {
        TempDir c;
        const Reply r = http(c, "GET", url + "/v1/jobs", tenant_token);
        const auto j = r.json();
        if (j.is_object() && j.contains("jobs")) return j["jobs"].size();
        return j.is_array() ? j.size() : 0;
    }
};

}  // namespace hearth::test
