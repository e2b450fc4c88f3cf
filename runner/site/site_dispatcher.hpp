#pragma once
#include "runner/mpi/link.hpp"
#include "runner/site/site_dir.hpp"

namespace hearth {

// Rank 0 of `hearth site`: the site's dispatcher and its only link to the
// scheduler. Gathers what each node's worker wants (free, heat-allowed
// slots), asks the scheduler for work (POST /v1/sites/NAME/work), hands the
// granted attempts to the workers of their nodes, and reports results with
// the next request (outputs uploaded first). Results wait on disk until the
// scheduler acknowledges them, so a dropped link or a relaunch loses none.
// Runs until SIGTERM (hearth site stopping). Returns the exit code.
int run_site_dispatcher(Link& link, const SiteDir& dir, const std::string& run);

}  // namespace hearth
