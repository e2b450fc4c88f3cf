#pragma once
#include "mpi_link.hpp"

namespace hearth {

// Rank >= 1: runs up to `slots` task attempts at once on this node, each bound
// to its cores and in a fresh scratch directory, and asks rank 0 for more
// work as slots free up. Returns the process exit code.
int run_worker(MpiLink& link, const std::string& job_dir);

}  // namespace hearth
