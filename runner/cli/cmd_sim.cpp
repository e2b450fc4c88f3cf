// `hearth sim`: a scenario through the real controllers and dispatch policy
// in virtual time; `--policy both` runs heat-aware and unaware on the same
// scenario and prints how they compare; `--plot` draws the runs.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "core/error.hpp"
#include "core/sim.hpp"
#include "core/sim_plot.hpp"
#include "runner/cli/commands.hpp"
#include "runner/cli/gnuplot_run.hpp"

namespace hearth {

int cmd_sim(const SimArgs& args) {
    std::vector<SimPolicy> policies;
    if (args.policy == "both")
        policies = {SimPolicy::heat_aware, SimPolicy::unaware};
    else
        policies = {parse_policy(args.policy)};
    // Every --plot problem before the simulation runs: a typo costs nothing.
    std::string gnuplot;
    if (args.plot.empty() && (!args.plot_sites.empty() || !args.plot_data.empty()))
        throw usage_error(std::string(args.plot_data.empty() ? "--plot-site" : "--plot-data") +
                          " draws nothing without --plot FILE.svg or FILE.png; add one");
    if (!args.plot.empty()) {
        plot_format(args.plot);
        check_plot_path(args.plot, "--plot");
        if (!args.plot_data.empty()) check_plot_path(args.plot_data, "--plot-data");
        gnuplot = find_gnuplot();
    }
    const Scenario sc = load_scenario(args.scenario);
    const SimTrace trace =
        args.plot.empty() ? SimTrace{} : plot_trace(sc, plot_sites(sc.grid, args.plot_sites));
    std::vector<SimResult> results;
    for (auto p : policies) {
        const auto t0 = std::chrono::steady_clock::now();
        results.push_back(simulate(sc, p, trace));
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (args.json) {
            std::cout << format_sim_json(results.back());
        } else {
            std::cout << format_sim_table(results.back());
            std::printf("simulated %.0f s in %.2f s of wall time (%.0fx real time)\n\n",
                        results.back().simulated_s, wall,
                        wall > 0 ? results.back().simulated_s / wall : 0.0);
        }
        std::cout.flush();
    }
    if (results.size() == 2 && !args.json) {
        const auto& a = results[0];
        const auto& u = results[1];
        std::printf("heat-aware vs unaware: useful fraction %.3f vs %.3f, wasted %.1f vs %.1f kWh",
                    a.useful_fraction, u.useful_fraction, a.wasted_kwh, u.wasted_kwh);
        if (a.makespan_s > 0 && u.makespan_s > 0)
            std::printf(", makespan ratio %.3f", a.makespan_s / u.makespan_s);
        std::printf("\n");
    }
    if (!args.plot.empty()) {
        std::fflush(stdout);
        gnuplot_draw(gnuplot, sim_plot(sc, results, plot_format(args.plot)), args.plot, args.plot_data);
        if (!args.json)
            std::printf("plot: %s (%zu of %zu sites)\n", args.plot.c_str(), trace.sites.size(),
                        sc.grid.sites.size());
    }
    return 0;
}

}  // namespace hearth
