#include <cstdlib>
#include <iostream>

#include "runner/cli/commands.hpp"
#include "runner/mpi/mpi_link.hpp"
#include "runner/mpi/worker.hpp"
#include "runner/site/site_dispatcher.hpp"

namespace hearth {

// The MPI program of `hearth site` (hidden: mpirun starts it as
// `hearth site-rank STATE_DIR RUN`): rank 0 is the site's dispatcher, every
// other rank the worker of one node, the same worker `hearth run` uses.
int cmd_site_rank(int argc, char** argv, const std::string& state_dir, const std::string& run) {
    SiteDir dir{state_dir};
    MpiLink link(&argc, &argv);
    try {
        if (link.rank() != 0) return run_worker(link);
        // The scheduler's token and CA, for the client's defaults (http_client).
        SiteSettings s = load_site_settings(dir);
        if (!s.token_file.empty()) {
            ::unsetenv("HEARTH_TOKEN");
            ::setenv("HEARTH_TOKEN_FILE", s.token_file.c_str(), 1);
        }
        if (!s.cacert.empty()) ::setenv("HEARTH_CACERT", s.cacert.c_str(), 1);
        return run_site_dispatcher(link, dir, run);
    } catch (const std::exception& e) {
        std::cerr << "hearth site " << (link.rank() == 0 ? "dispatcher" : "worker") << " (rank "
                  << link.rank() << "): " << e.what() << std::endl;
        link.abort(4);
    }
}

}  // namespace hearth
