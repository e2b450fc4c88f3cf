#pragma once
// Runs gnuplot (`hearth sim --plot`) on a script and its data from
// core/sim_plot, in a private temporary directory, and moves the figure into
// place under its final name only when gnuplot succeeded: a failed plot
// leaves no half-written file.
#include <string>

#include "core/sim_plot.hpp"

namespace hearth {

// gnuplot's path on PATH; an Error (exit 1) naming the package when absent.
std::string find_gnuplot();

// A usage_error unless path's directory exists, checked before the
// simulation runs so that a typo costs nothing.
void check_plot_path(const std::string& path, const std::string& option);

// Draws in.script with in.data into out_path (the format is the script's);
// data_path, when not empty, also gets the data file. Throws Error naming
// gnuplot's first complaint when it fails.
void gnuplot_draw(const std::string& gnuplot, const PlotInput& in, const std::string& out_path,
                  const std::string& data_path);

}  // namespace hearth
