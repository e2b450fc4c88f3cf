#include "runner/job/job_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/safe_path.hpp"

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
    JobSpec spec = job_from_json(j);
    // job.json is the user's file and may have been edited since 'hearth run'
    // checked it: what becomes paths and agent parameters is checked again.
    const std::string where = dir.spec() + ": ";
    if (!is_safe_name(spec.tenant))
        throw usage_error(where + "bad tenant '" + spec.tenant + "'; use letters, digits, '.', '_' or '-'");
    if (spec.id.empty() || spec.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                      "0123456789._-") != std::string::npos)
        throw usage_error(where + "bad job id '" + spec.id + "'; use letters, digits, '.', '_' or '-'");
    for (const auto& g : spec.collect) check_relative_path(g, where + "collect pattern");
    for (const auto& n : spec.stage)
        if (!is_clean_relative_path(n))
            throw usage_error(where + "bad staged name '" + n + "'; give a plain name under stage/");
    return spec;
}

bool job_is_running(const JobDir& dir) {
    int fd = ::open(dir.lock().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
    ::close(fd);
    return busy;
}

}  // namespace hearth
