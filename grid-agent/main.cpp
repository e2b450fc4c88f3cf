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
#include "plugins/energy/nvml_api.hpp"
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
    add_agent_flags(app, cfg);
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
            merge_agent_config(app, from_file, cfg);
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
        RedfishOptions bmc{cfg.redfish_url, cfg.redfish_credentials, cfg.redfish_ca,
                           cfg.redfish_timeout_s,
                           static_cast<std::size_t>(cfg.redfish_max_kib * 1024.0)};
        IpmiOptions ipmi;
        ipmi.tool = cfg.ipmi_tool;
        ipmi.host = cfg.ipmi_host;
        ipmi.credentials = cfg.ipmi_credentials;
        ipmi.timeout_s = cfg.ipmi_timeout_s;
        ipmi.cipher = static_cast<int>(cfg.ipmi_cipher);
        ipmi.workarounds = cfg.ipmi_workarounds;
        if (probe) {
            SourceChoice c = choose_energy_source("auto", fs, clock, make_real_papi(), mp,
                                                  make_real_nvml(), bmc, ipmi);
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
        SourceChoice choice = choose_energy_source(cfg.energy, fs, clock, make_real_papi(), mp,
                                                   make_real_nvml(), bmc, ipmi);
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
