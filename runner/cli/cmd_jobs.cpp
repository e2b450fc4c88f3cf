// hearth jobs: the scheduler's jobs the caller's token may see (a tenant its
// own, an operator all), as a table or as JSON.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "runner/cli/commands.hpp"
#include "runner/clients/http_client.hpp"
#include "runner/clients/server_client.hpp"

namespace hearth {

int cmd_jobs(const JobsArgs& a) {
    auto url = server_url(a.server);
    if (!url) throw usage_error("no scheduler: give --server URL or set HEARTH_SERVER");
    // Checked here too, so a typo is exit 2 with the valid names before any request.
    if (a.state) parse_job_state(*a.state);
    const ServerClient server(*url);
    std::string query;
    if (a.tenant) query += "&tenant=" + url_escape(*a.tenant);
    if (a.state) query += "&state=" + url_escape(*a.state);
    if (!query.empty()) query[0] = '?';
    const auto reply = server.get("/v1/jobs" + query);
    if (a.json) {
        std::cout << reply.dump() << std::endl;
        return 0;
    }
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    std::printf("%-36s %-12s %-10s %15s %8s\n", "ID", "TENANT", "STATE", "DONE/TOTAL", "AGE");
    for (const auto& item : reply.at("jobs")) {
        const JobInfo j = job_info_from_json(item);
        const std::string progress = std::to_string(j.committed) + "/" + std::to_string(j.total);
        const double age = j.submitted_ms > 0 && now > j.submitted_ms ? (now - j.submitted_ms) / 1000.0 : 0;
        std::printf("%-36s %-12s %-10s %15s %8s\n", j.id.c_str(), j.tenant.c_str(), to_string(j.state),
                    progress.c_str(), format_duration(age).c_str());
    }
    return 0;
}

}  // namespace hearth
