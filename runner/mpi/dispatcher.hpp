#pragma once
#include "runner/mpi/link.hpp"

namespace hearth {

// Rank 0, on the submit host: hands task attempts to workers that ask for
// them, commits outputs and completions to the job directory, and journals
// every state change. Returns the process exit code.
int run_dispatcher(Link& link, const std::string& job_dir);

}  // namespace hearth
