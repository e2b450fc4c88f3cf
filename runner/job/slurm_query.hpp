#pragma once
// Asking Slurm about the allocation Hearth runs in (squeue), for the
// supervisor: when mpirun ends early, was it a node or the allocation itself?
#include <string>

namespace hearth {

// Whether Slurm job `job_id` still runs: false when squeue says it does not
// (cancelled, completing, timed out, or gone), true when it runs or when
// squeue cannot be asked (no squeue, no answer within 10 s): then the caller
// goes on as it would without Slurm.
bool slurm_job_running(const std::string& job_id);

}  // namespace hearth
