#pragma once
// `hearth run` and `hearth resume` after the job directory exists: launches
// mpirun (rank 0 dispatches, one worker rank per node), follows the journal
// to report progress, and outlives mpirun: if mpirun dies before the job's
// end, it relaunches for the tasks not yet committed.
#include <string>

#include "runner/job/job_dir.hpp"

namespace hearth {

struct SuperviseOptions {
    bool json = false;        // JSON Lines events on stdout instead of a progress bar
    bool quiet = false;       // no progress bar, only the final summary
    unsigned max_relaunches = 3;
};

int supervise(const JobDir& dir, const SuperviseOptions& opt);

// Path of this executable, which mpirun starts as the worker program.
std::string self_exe();

}  // namespace hearth
