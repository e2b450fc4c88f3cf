#include "job_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace hearth {

JobDir resolve_job_dir(const std::string& arg) {
    namespace fs = std::filesystem;
    for (const std::string& candidate : {arg, "hearth-jobs/" + arg}) {
        if (fs::exists(candidate + "/job.json"))
            return JobDir{fs::absolute(candidate).lexically_normal().string()};
    }
    throw usage_error("no job '" + arg + "': neither " + arg + "/job.json nor hearth-jobs/" + arg +
                      "/job.json exists; give the job directory that 'hearth run' printed");
}

JobSpec load_spec(const JobDir& dir) {
    std::ifstream in(dir.spec());
    if (!in) throw usage_error("cannot read " + dir.spec() + "; is this a Hearth job directory?");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const std::exception& e) {
        throw Error(dir.spec() + " is not valid JSON (" + e.what() + ")");
    }
    return job_from_json(j);
}

bool job_is_running(const JobDir& dir) {
    int fd = ::open(dir.lock().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
    ::close(fd);
    return busy;
}

}  // namespace hearth
