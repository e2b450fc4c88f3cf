#pragma once
// The layout of a site's state directory (`hearth site --state DIR`), on the
// host that runs the site's rank 0, in one place.
//   site.json     the site's settings (written by hearth site, read by rank 0)
//   mpi-hosts, launch.json   the current mpirun launch (runner/launch_plan)
//   run           the id of the run whose rank 0 is up (written by it)
//   results       finished attempts not yet acknowledged (core/result_buffer)
//   held.json     the attempts the current run holds (core/site_state)
//   blobs/SHA     collected outputs until the scheduler acknowledges their result
//   cache/SHA     staged inputs fetched from the scheduler, once per site
//   mpirun.log    what mpirun printed
#include <cstdint>
#include <string>

#include "runner/job/job_dir.hpp"

#include <map>

namespace hearth {

struct SiteDir {
    std::string path;
    std::string file(const char* name) const { return path + "/" + name; }
    std::string settings() const { return file("site.json"); }
    std::string run() const { return file("run"); }
    std::string results() const { return file("results"); }
    std::string held() const { return file("held.json"); }
    std::string blob(const std::string& sha) const { return path + "/blobs/" + sha; }
    std::string cached(const std::string& sha) const { return path + "/cache/" + sha; }
    std::string mpirun_log() const { return file("mpirun.log"); }
    // launch_plan writes its files (mpi-hosts, launch.json) into a JobDir.
    JobDir launch_dir() const { return JobDir{path}; }
};

struct SiteSettings {
    std::string site;
    std::string server;      // http(s)://HOST:PORT of hearth serve
    std::string token_file;  // "" = HEARTH_TOKEN / HEARTH_TOKEN_FILE as for every client
    std::string cacert;      // "" = HEARTH_CACERT
    long timeout_ms = 10000;  // per request to the scheduler
    std::uint64_t max_buffer_bytes = 256ull << 20;
    // The grid file's tenants' Unix users (tenant -> user), which their
    // tasks run as on this site's nodes.
    std::map<std::string, std::string> tenant_users;
};

void save_site_settings(const SiteDir& dir, const SiteSettings& s);
SiteSettings load_site_settings(const SiteDir& dir);

}  // namespace hearth
