#pragma once
#include "runner/mpi/link.hpp"

namespace hearth {

// Rank >= 1: runs up to `slots` task attempts at once on this node, of any
// number of jobs (`hearth run`: one; `hearth site`: every tenant's), each
// bound to its cores and in a fresh scratch directory of its job, and asks
// rank 0 for more work as slots free up. The node's slots, cores and heat
// budget are spent once across every job. Returns the process exit code.
int run_worker(Link& link);

}  // namespace hearth
