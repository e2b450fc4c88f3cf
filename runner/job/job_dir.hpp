#pragma once
// The layout of a job directory on the submit host, in one place.
//   job.json      the job spec (written once, atomically, at submit)
//   journal       the event journal (see core/journal.hpp)
//   launch.json   the ranks of the current mpirun launch and their nodes
//   items         copy of --items FILE;  stage/  copies of --stage inputs
//   out/          collected outputs;     logs/attempts.log  task output
//   lock          held (flock) by the running dispatcher
//   cancel        created by `hearth cancel`
//   summary.json  written by `hearth run` when the job ends
//   mpirun.log    what mpirun printed
#include <string>

#include "core/jobspec.hpp"

namespace hearth {

struct JobDir {
    std::string path;
    std::string file(const char* name) const { return path + "/" + name; }
    std::string spec() const { return file("job.json"); }
    std::string journal() const { return file("journal"); }
    std::string launch() const { return file("launch.json"); }
    std::string items() const { return file("items"); }
    std::string stage() const { return file("stage"); }
    std::string out() const { return file("out"); }
    std::string logs() const { return file("logs/attempts.log"); }
    std::string lock() const { return file("lock"); }
    std::string cancel() const { return file("cancel"); }
    std::string summary() const { return file("summary.json"); }
    std::string mpirun_log() const { return file("mpirun.log"); }
};

// Resolves what a user typed for JOB: a job directory, or an id under
// ./hearth-jobs/. Throws usage_error if neither holds a job.json.
JobDir resolve_job_dir(const std::string& arg);
JobSpec load_spec(const JobDir& dir);
// True if some dispatcher holds the job's lock now.
bool job_is_running(const JobDir& dir);

}  // namespace hearth
