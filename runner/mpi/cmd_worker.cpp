#include <sys/resource.h>

#include <cstdlib>
#include <iostream>

#include "core/append_file.hpp"
#include "core/error.hpp"
#include "core/journal.hpp"
#include "core/journal_writer.hpp"
#include "runner/cli/commands.hpp"
#include "runner/job/job_dir.hpp"
#include "runner/mpi/dispatcher.hpp"
#include "runner/mpi/mpi_link.hpp"
#include "runner/mpi/worker.hpp"

namespace hearth {

int cmd_worker(int argc, char** argv, const std::string& job_dir) {
    MpiLink link(&argc, &argv);
    try {
        int rc = link.rank() == 0 ? run_dispatcher(link, job_dir) : run_worker(link);
        if (std::getenv("HEARTH_RUSAGE")) {
            rusage ru{};
            ::getrusage(RUSAGE_SELF, &ru);
            std::cerr << "hearth rusage: rank " << link.rank() << " user " << ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3
                      << " ms sys " << ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3 << " ms nvcsw " << ru.ru_nvcsw << " nivcsw " << ru.ru_nivcsw << std::endl;
        }
        return rc;
    } catch (const std::exception& e) {
        std::cerr << "hearth " << (link.rank() == 0 ? "dispatcher" : "worker") << " (rank "
                  << link.rank() << "): " << e.what() << std::endl;
        if (link.rank() == 0) {
            // Tell the supervisor this is a fault of the job, not a lost node,
            // so it reports instead of relaunching into the same fault.
            try {
                JournalWriter j(JobDir{job_dir}.journal());
                j.end_error(e.what());
                j.sync();
            } catch (...) {
            }
        }
        link.abort(4);
    }
}

}  // namespace hearth
