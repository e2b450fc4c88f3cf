// grid-agent: the per-node daemon. Parses flags and the config file, picks
// the energy source, and runs the Agent until SIGTERM or SIGINT.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <thread>

#include "agent.hpp"
#include "config.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "plugins/energy/papi_api.hpp"
#include "plugins/energy/select.hpp"
#include "plugins/throttle/select.hpp"

int main(int argc, char** argv) {
    using namespace hearth;
    CLI::App app{"grid-agent: measures this node's energy and charges it to the tenants that used it"};
    AgentConfig cfg;
    std::string config_file;
    bool probe = false;
    app.add_option("--config", config_file, "TOML config file (flags override it)");
    app.add_option("--node", cfg.node, "this node's name (default: the host name)");
    app.add_option("--site", cfg.site, "the site the node heats");
    app.add_option("--listen", cfg.listen, "HTTP API address (default 127.0.0.1:9750)");
    app.add_option("--socket", cfg.socket, "Unix socket for task registration");
    app.add_option("--ledger", cfg.ledger, "SQLite ledger file");
    app.add_option("--rate", cfg.rate_hz, "samples per second (default 10)");
    app.add_option("--energy", cfg.energy, "energy source: " + joined_names(energy_source_names()));
    app.add_option("--fsroot", cfg.fsroot, "read /sys and /proc under this directory");
    app.add_option("--idle-watts", cfg.idle_watts, "the node's idle power (model and static share)");
    app.add_option("--max-watts", cfg.max_watts, "the node's maximum power (model)");
    app.add_option("--grid", cfg.grid, "grid file: take this node's site, slots and heat target from it");
    app.add_option("--throttle", cfg.throttle,
                   "how to hold power down: " + joined_names(throttle_names()));
    app.add_option("--control", cfg.control_s, "seconds between heat control steps (default 10)");
    app.add_option("--tokens", cfg.tokens, "tokens file: hashes and roles of the API's bearer tokens (mode 0640 or stricter)");
    app.add_flag("--no-auth", cfg.no_auth, "loopback only: serve the API without tokens (tests, demos)");
    app.add_option("--tls-cert", cfg.tls_cert, "PEM certificate: serve HTTPS");
    app.add_option("--tls-key", cfg.tls_key, "PEM private key of --tls-cert");
    app.add_flag("--insecure-http", cfg.insecure_http, "allow plain HTTP on a non-loopback address (warned)");
    app.add_flag("--public-metrics", cfg.public_metrics, "serve /metrics without a token");
    app.add_option("--metrics-interval", cfg.metrics_interval_s, "seconds between updates of /metrics' per-tenant figures (1-3600, default 60)");
    app.add_option("--worker-user", cfg.worker_user, "the user whose workers may register tasks (default: the agent's own)");
    app.add_option("--dashboard", cfg.dashboard, "directory of the dashboard's static files");
    app.add_option("--history-step", cfg.history_step_s, "seconds between the finest history points (1-60, default 10)");
    app.add_flag("--probe", probe, "print which energy sources work here, and why not, then exit");
    app.set_version_flag("--version", "grid-agent 0.1");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "grid-agent: " << e.what() << "; see 'grid-agent --help'\n";
        return 2;
    }
    try {
        if (!config_file.empty()) {
            // The file gives defaults; flags given on the command line win.
            AgentConfig from_file;
            load_agent_config(config_file, from_file);
            auto given = [&](const char* name) { return app.count(name) > 0; };
            if (!given("--node")) cfg.node = from_file.node;
            if (!given("--site")) cfg.site = from_file.site;
            if (!given("--listen")) cfg.listen = from_file.listen;
            if (!given("--socket")) cfg.socket = from_file.socket;
            if (!given("--ledger")) cfg.ledger = from_file.ledger;
            if (!given("--rate")) cfg.rate_hz = from_file.rate_hz;
            if (!given("--energy")) cfg.energy = from_file.energy;
            if (!given("--fsroot")) cfg.fsroot = from_file.fsroot;
            if (!given("--idle-watts")) cfg.idle_watts = from_file.idle_watts;
            if (!given("--max-watts")) cfg.max_watts = from_file.max_watts;
            if (!given("--grid")) cfg.grid = from_file.grid;
            if (!given("--throttle")) cfg.throttle = from_file.throttle;
            if (!given("--control")) cfg.control_s = from_file.control_s;
            if (!given("--tokens")) cfg.tokens = from_file.tokens;
            if (!given("--no-auth")) cfg.no_auth = from_file.no_auth;
            if (!given("--tls-cert")) cfg.tls_cert = from_file.tls_cert;
            if (!given("--tls-key")) cfg.tls_key = from_file.tls_key;
            if (!given("--insecure-http")) cfg.insecure_http = from_file.insecure_http;
            if (!given("--public-metrics")) cfg.public_metrics = from_file.public_metrics;
            if (!given("--metrics-interval")) cfg.metrics_interval_s = from_file.metrics_interval_s;
            if (!given("--worker-user")) cfg.worker_user = from_file.worker_user;
            if (!given("--dashboard")) cfg.dashboard = from_file.dashboard;
            if (!given("--history-step")) cfg.history_step_s = from_file.history_step_s;
        }
        finish_agent_config(cfg, !probe);
        GridNode node;
        node.name = cfg.node;
        if (!cfg.grid.empty()) {
            // The grid file's powers describe this node: the model source uses them.
            Grid grid = load_grid(cfg.grid);
            if (const GridNode* gn = grid.find_node(cfg.node)) {
                node = *gn;
                if (cfg.idle_watts == 0) cfg.idle_watts = gn->idle.value;
                if (cfg.max_watts == 0) cfg.max_watts = gn->max.value;
            }
        }
        auto fs = std::make_shared<const FsRoot>(cfg.fsroot);
        auto clock = std::make_shared<const SystemClock>();
        ModelParams mp{Watts{cfg.idle_watts}, Watts{cfg.max_watts}};
        if (probe) {
            SourceChoice c = choose_energy_source("auto", fs, clock, make_real_papi(), mp);
            const auto print = [](const ProbeResult& p, const std::string& kind) {
                std::cout << (p.available ? "available    " : "unavailable  ") << kind << p.source
                          << ": " << p.detail << "\n";
            };
            for (const auto& p : c.table) print(p, "");
            std::cout << c.summary << "\n";
            const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
            for (const auto& p : probe_actuators({cfg.fsroot, node, cpus, clock}))
                print(p, "throttle/");
            return 0;
        }
        // Signals are taken by one thread with sigwait, so stop() runs as
        // ordinary code, not inside a handler.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        SourceChoice choice =
            choose_energy_source(cfg.energy, fs, clock, make_real_papi(), mp);
        Agent agent(cfg, fs, clock, std::move(choice), std::shared_ptr<PapiApi>(make_real_papi()));
        std::thread waiter([&] {
            int sig = 0;
            sigwait(&set, &sig);
            agent.stop();
        });
        waiter.detach();
        agent.run();
        return 0;
    } catch (const Error& e) {
        std::cerr << "grid-agent: " << e.what() << "\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "grid-agent: " << e.what() << "\n";
        return 4;
    }
}
