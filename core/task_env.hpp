#pragma once
// A task's environment: what the submitter chose, not what the worker that
// starts it happens to carry. A worker is an Open MPI rank (and on a site, a
// daemon holding Hearth's credentials): its OMPI_*, PMIX_*, OPAL_* and
// HEARTH_* variables would make an MPI task believe it is a rank of Hearth's
// own job, and would hand a task the site's token. Pure: the worker passes
// its environ in and spawns with what comes out.
//
// Built in two steps so that a task start costs only its own variables: the
// job's part (filtered base, thread counts, --env) once per job and node,
// then per attempt the identity (HEARTH_JOB ... HEARTH_CORES, PWD, TMPDIR).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

// Variables a task never inherits from its worker: Open MPI's and PMIx's
// (prefixes OMPI_, PMIX_, OPAL_, ORTE_, PRTE_), mpirun's IPATH_/HFI_
// NO_BACKTRACE, Hearth's own (HEARTH_*: tokens, sockets, servers), and PWD,
// OLDPWD and TMPDIR (Hearth sets PWD and TMPDIR to the task's directory).
bool is_worker_variable(std::string_view name);

// A POSIX-portable variable name: [A-Za-z_][A-Za-z0-9_]*, at most 255 bytes.
bool is_env_name(std::string_view name);

// One --env word as the submitter gives it: NAME=VALUE, or NAME alone, whose
// value is read from the submitter's environment through `lookup` (like
// sbatch --export=NAME). Returns "NAME=VALUE". Throws usage_error for a bad
// name, a NAME not set here, or a name Hearth sets itself (HEARTH_*, PWD,
// TMPDIR).
std::string resolve_env_word(const std::string& word,
                             const std::function<const char*(const std::string&)>& lookup);

// An entry of a job's env list as it arrives over the wire or from a job
// file: "NAME=VALUE" with the rules above. Throws usage_error naming `what`.
void check_env_entry(const std::string& entry, const std::string& what);

// Limits of a job's env list (a scheduler keeps it in memory per job).
inline constexpr std::size_t k_max_env_entries = 256;
inline constexpr std::size_t k_max_env_bytes = 64 * 1024;
// Checks a whole list (each entry, count, total size, one value per name).
void check_env_list(const std::vector<std::string>& entries, const std::string& what);

// The part of a task's environment shared by every task of a job on a node:
// the worker's environment without its own variables, then the thread counts
// for `cores` (OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS), then
// the job's --env entries (which win over both).
std::vector<std::string> job_environment(const std::vector<std::string>& worker_env,
                                         const std::vector<std::string>& passed,
                                         std::uint32_t cores);

// Who a task attempt is, for its own variables.
struct TaskAttemptVars {
    std::string job;
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
    std::string tenant;
    std::string first, last;  // its first and last items
    std::uint32_t cores = 1;
    std::string cpu_list;  // its slot's logical cores, "0,1" ("" = unknown)
    std::string dir;       // its scratch directory: PWD and TMPDIR
    // The GPUs it was given (NVML indices, maybe none) on a node with GPUs to
    // hand out; nullopt on a node without: the CUDA variables are left alone.
    std::optional<std::vector<unsigned>> gpus;
};

// job_env plus the attempt's variables: HEARTH_JOB, HEARTH_TASK,
// HEARTH_ATTEMPT, HEARTH_TENANT, HEARTH_FIRST, HEARTH_LAST, HEARTH_CORES,
// PWD, TMPDIR; and, when cpu_list is known and --env did not set it,
// OMPI_MCA_hwloc_base_cpu_list: the one Open MPI variable Hearth gives a
// task, so that an mpirun started inside it places its ranks on the task's
// cores (Open MPI ignores the binding it was started with). On a node with
// GPUs (id.gpus set): CUDA_VISIBLE_DEVICES and HEARTH_GPUS name the task's
// GPUs ("" when it has none: it sees no GPU), and CUDA_DEVICE_ORDER is
// PCI_BUS_ID, so that CUDA numbers GPUs as NVML (and the agent) does; any
// value the worker's environment had for them is dropped.
std::vector<std::string> task_environment(const std::vector<std::string>& job_env,
                                          const TaskAttemptVars& id);

// "0,1,2" from core (or GPU) indices.
std::string cpu_list_text(const std::vector<unsigned>& cores);

}  // namespace hearth
