#include "runner/job/slurm_query.hpp"

#include <sys/wait.h>

#include <cstdio>

namespace hearth {

bool slurm_job_running(const std::string& job_id) {
    // The id goes into a shell command: digits and '_' (array jobs) only.
    if (job_id.empty() || job_id.find_first_not_of("0123456789_") != std::string::npos) return true;
    std::string cmd = "timeout 10 squeue -h -j " + job_id + " -o %T 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return true;
    std::string said;
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) said += buf;
    int st = ::pclose(p);
    if (!WIFEXITED(st)) return true;
    const int rc = WEXITSTATUS(st);
    // 124: timed out; 126/127: no squeue. Then nothing is known.
    if (rc == 124 || rc == 126 || rc == 127) return true;
    // A job gone from slurmctld's memory (MinJobAge) is "Invalid job id".
    if (rc != 0) return said.find("Invalid job id") == std::string::npos;
    return said.find("RUNNING") != std::string::npos;
}

}  // namespace hearth
