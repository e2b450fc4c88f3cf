#pragma once
// Running mpirun from a supervisor on the submit host (`hearth run`, `hearth
// site`): starting it with its output to a log, and reading what it said and
// which hosts died with it when it ends.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runner/job/launch_plan.hpp"

namespace hearth {

// Starts argv with stdout and stderr appended to log_path. mpirun (and with
// it every rank) dies with the calling process (PR_SET_PDEATHSIG).
pid_t launch_mpirun(const std::vector<std::string>& argv, const std::string& log_path);

// What mpirun printed since `offset`: the output of one launch.
std::string read_from(const std::string& path, std::uintmax_t offset);
std::uintmax_t size_of(const std::string& path);  // 0 when absent

// The gist of what mpirun printed: its first n lines of real text, on one line.
std::string mpirun_gist(const std::string& said, std::size_t n);

// The plan's hosts that died with the last launch, with why (`said`: what
// mpirun printed).
std::map<std::string, std::string> dead_hosts(const LaunchPlan& plan, const std::string& said);

}  // namespace hearth
