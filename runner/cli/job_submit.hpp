#pragma once
// A JobSubmit (core/jobs_api) from the options of `hearth run`: what
// `hearth submit` and `hearth run --server` send. What the client can check
// is checked before anything is uploaded (exit 2, nothing sent); staged
// inputs and the items file then go to the content store, and the
// scheduler checks the rest (a 400 naming the field).
#include "core/jobs_api.hpp"
#include "runner/cli/commands.hpp"
#include "runner/clients/server_client.hpp"

namespace hearth {

// --env words resolved against this process's environment (NAME alone takes
// its value here, like sbatch --export), checked as a list: usage_error.
std::vector<std::string> resolve_env(const std::vector<std::string>& words);
// --cores-per-task, 1 to k_max_cores_per_task: usage_error otherwise.
std::uint32_t checked_cores_per_task(std::uint32_t n);
std::uint32_t checked_gpus_per_task(std::uint32_t n);  // 0 to k_max_gpus_per_task

// Checks a, and refuses the options that place a job on local nodes.
void check_submit_args(const RunArgs& a);
// Uploads a's inputs through server and returns the submission.
JobSubmit build_submit(const RunArgs& a, const ServerClient& server);

}  // namespace hearth
