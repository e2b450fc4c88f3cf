#pragma once
// `hearth sim --plot`: turns simulation results into gnuplot's input, a data
// file and a script that draws it. Pure: no files, no processes (the runner's
// gnuplot_run runs the tool), so the data and the script are unit-testable.
#include <cstddef>
#include <string>
#include <vector>

#include "core/scenario.hpp"
#include "core/sim.hpp"

namespace hearth {

enum class PlotFormat { svg, png };

// From the file name's suffix (.svg, .png, any case); usage_error otherwise.
PlotFormat plot_format(const std::string& path);

// A site is a row of the figure, a third of an A4 page: the first
// k_plot_default_sites of the grid unless --plot-site names others, at most
// k_plot_max_sites (two A4 pages) so that each stays readable.
inline constexpr std::size_t k_plot_default_sites = 6;
inline constexpr std::size_t k_plot_max_sites = 12;
std::vector<std::size_t> plot_sites(const Grid& g, const std::vector<std::string>& named);

// Samples the sites about once per 1/1000 of the run, at a round interval
// (15 min for a week): finer than a printed page shows, and bounded in size
// whatever the duration.
SimTrace plot_trace(const Scenario& sc, const std::vector<std::size_t>& sites);

// The names the script uses, relative to the directory gnuplot runs in: the
// caller writes the data there and finds the figure there.
inline constexpr const char* k_plot_data_name = "plot.dat";
inline constexpr const char* k_plot_output_name = "plot.out";

struct PlotInput {
    std::string data;    // tab-separated blocks, see sim_plot.cpp
    std::string script;  // gnuplot commands
};

// runs: one or two results of the same scenario, traced with the same
// SimTrace (heat-aware and unaware when `--policy both`).
PlotInput sim_plot(const Scenario& sc, const std::vector<SimResult>& runs, PlotFormat format);

}  // namespace hearth
