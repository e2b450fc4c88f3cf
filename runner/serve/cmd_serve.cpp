// hearth serve: the grid's scheduler (one per grid). Holds every tenant's
// jobs durably under --state (core/scheduler), serves the REST API clients
// submit to and sites pull work from (serve_routes), and ticks the
// scheduler about once a second so that lapsed leases requeue their work.
// SIGTERM or SIGINT stops it cleanly; a SIGKILL loses nothing committed.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/json_server.hpp"
#include "core/listen.hpp"
#include "core/sched_policy.hpp"
#include "core/scheduler.hpp"
#include "runner/cli/commands.hpp"
#include "runner/serve/serve_routes.hpp"

namespace hearth {
namespace {

void log_line(const std::string& s) { std::cerr << "hearth serve: " << s << std::endl; }

// A site renews its lease at a third of it (runner/site_dispatcher): under a
// second it would ask several times a second for nothing; past a day a dead
// site's tasks would wait a day to run elsewhere.
std::int64_t lease_ms(const std::string& text) {
    std::chrono::milliseconds ms{0};
    try {
        ms = parse_duration(text);
    } catch (const Error&) {
        throw usage_error("--lease '" + text.substr(0, 64) +
                          "' is not a duration; give e.g. 30s, 2m or 1h");
    }
    if (ms < std::chrono::seconds(1) || ms > std::chrono::hours(24))
        throw usage_error("--lease " + text +
                          " is out of range; give from 1s to 24h (default 60s)");
    return ms.count();
}

// Everything a user can get wrong is refused before the state is opened.
void check_args(const ServeArgs& a, const std::string& host) {
    if (a.grid.empty()) throw usage_error("no grid file: give --grid FILE (hearth-grid(5))");
    if (a.state.empty()) throw usage_error("no state directory: give --state DIR (created when missing)");
    const bool tls = !a.tls_cert.empty() || !a.tls_key.empty();
    if (tls && (a.tls_cert.empty() || a.tls_key.empty()))
        throw usage_error("give both --tls-cert and --tls-key, or neither");
    if (a.tokens.empty() && !a.no_auth)
        throw usage_error("no tokens file: give --tokens FILE (make tokens with 'hearth token new'), or "
                          "--no-auth for a loopback-only test scheduler");
    if (a.no_auth && !a.tokens.empty()) throw usage_error("--no-auth and --tokens contradict each other; drop one");
    if (a.no_auth && !is_loopback_host(host))
        throw usage_error("--no-auth is for loopback only; give --tokens FILE to listen on " + a.listen);
    if (!is_loopback_host(host) && !tls && !a.insecure_http)
        throw usage_error("refusing to listen on " + a.listen +
                          " without TLS: tokens would cross the network in clear; give --tls-cert and "
                          "--tls-key, or --insecure-http on a network you trust");
}

std::unique_ptr<httplib::Server> make_server(const ServeArgs& a) {
    if (a.tls_cert.empty()) return std::make_unique<httplib::Server>();
    for (const auto& f : {a.tls_cert, a.tls_key})
        if (::access(f.c_str(), R_OK) != 0)
            throw usage_error("cannot read TLS file " + f + ": " + std::strerror(errno) +
                              "; check --tls-cert and --tls-key");
    auto ssl = std::make_unique<httplib::SSLServer>(a.tls_cert.c_str(), a.tls_key.c_str());
    if (!ssl->is_valid())
        throw usage_error("TLS certificate " + a.tls_cert + " or key " + a.tls_key +
                          " is not valid PEM, or they do not match; make them with openssl req -x509");
    return ssl;
}

}  // namespace

int cmd_serve(const ServeArgs& a) {
    const auto [host, port] = split_listen(a.listen);
    check_args(a, host);
    SchedulerSettings settings;
    settings.lease_ms = lease_ms(a.lease);
    settings.group_commit = true;  // the routes wait for durability outside the lock
    Grid grid = load_grid(a.grid);
    std::shared_ptr<TokenFile> tokens;
    if (!a.tokens.empty()) tokens = std::make_shared<TokenFile>(a.tokens);

    // Signals go to one thread (sigwait), so stopping runs as ordinary code.
    // Blocked before any thread starts: every thread inherits the mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    SystemClock clock;
    Scheduler sched(a.state, std::move(grid), clock, PolicyFn(schedule), settings);
    std::mutex mu;  // the Scheduler is not thread-safe: every call holds it
    ServeApi api(sched, mu, std::move(tokens), a.state);
    auto server = make_server(a);
    api.install(*server);
    // The dashboard's page at /, so that it and /v1/jobs share an origin (no
    // CORS, the token never leaves it); the API alone when it is not installed.
    const std::filesystem::path page = installed_dashboard_dir();
    std::error_code no_page;
    if (!page.empty() && std::filesystem::is_regular_file(page / "index.html", no_page))
        server->set_mount_point("/", page.string());

    const int bound = port == 0 ? server->bind_to_any_port(host) : (server->bind_to_port(host, port) ? port : -1);
    if (bound < 0)
        throw Error("cannot listen on " + a.listen + ": " + std::strerror(errno) +
                    "; is another hearth serve running? choose another --listen");
    if (!is_loopback_host(host) && a.tls_cert.empty())
        log_line("warning: serving plain HTTP on " + a.listen +
                 " (--insecure-http): tokens and jobs cross the network unencrypted");

    std::atomic<bool> stopping{false};
    std::mutex stop_mu;
    std::condition_variable stop_cv;
    std::thread ticker([&] {
        std::unique_lock lk(stop_mu);
        while (!stop_cv.wait_for(lk, std::chrono::seconds(1), [&] { return stopping.load(); })) {
            try {
                std::lock_guard lock(mu);
                sched.tick();
            } catch (const std::exception& e) {
                log_line(std::string("warning: housekeeping failed (tried again in a second): ") + e.what());
            }
        }
    });
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&set, &sig);
        log_line(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        {
            std::lock_guard lk(stop_mu);
            stopping = true;
        }
        stop_cv.notify_all();
        api.stop();
        server->stop();
    });
    // The port on a line of its own: with --listen HOST:0, tests and scripts read it.
    log_line("scheduling grid " + a.grid + ", state " + a.state + ", " +
             (a.tls_cert.empty() ? "http" : "https") + " on " + host + ":" + std::to_string(bound) +
             ", site lease " + a.lease + (a.no_auth ? " (no auth: loopback only)" : ""));
    std::cerr << "listening on port " << bound << std::endl;
    server->listen_after_bind();
    // Ended by a signal (the waiter stopped the server) or by a failure.
    if (!stopping) {
        {
            std::lock_guard lk(stop_mu);
            stopping = true;
        }
        stop_cv.notify_all();
        ::kill(::getpid(), SIGTERM);  // wake the waiter: it is blocked in sigwait
    }
    ticker.join();
    waiter.join();
    log_line("stopped");
    return 0;
}

}  // namespace hearth
