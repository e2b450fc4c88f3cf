#pragma once
// The options of `hearth run`, defined once: `hearth submit` takes the same
// job options (what to split, what to run, retries, inputs and outputs,
// deadline), `hearth run` those and the ones that place a job on local
// nodes without a server.
#include <CLI/CLI.hpp>

#include "runner/cli/commands.hpp"

namespace hearth {

// The job itself, and --server (the scheduler to send it to).
void add_job_options(CLI::App* sub, RunArgs& args);
// Where `hearth run` without a server runs it: hosts, slots, job directory.
void add_local_options(CLI::App* sub, RunArgs& args);

}  // namespace hearth
