// hearth submit, and hearth run --server: a job sent to the scheduler.
// submit returns as soon as the job is queued; run follows it with the
// progress line and downloads its outputs when it ends.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "runner/cli/commands.hpp"
#include "runner/cli/job_submit.hpp"
#include "runner/clients/http_client.hpp"
#include "runner/clients/server_client.hpp"

namespace hearth {
namespace {

ServerClient client_of(const std::optional<std::string>& flag) {
    auto url = server_url(flag);
    if (!url)
        throw usage_error("no scheduler: give --server URL or set HEARTH_SERVER (hearth run without one "
                          "runs a job here)");
    return ServerClient(*url);
}

JobInfo submit(const RunArgs& a, const ServerClient& server) {
    check_submit_args(a);  // exit 2 before any upload
    const JobSubmit s = build_submit(a, server);
    nlohmann::json body = to_json(s);
    // Absent, not "": a tenant's token then speaks for its own tenant.
    if (s.tenant.empty()) body.erase("tenant");
    if (s.name.empty()) body.erase("name");
    return job_info_from_json(server.post("/v1/jobs", body));
}

ProgressCounts counts(const JobInfo& j) {
    ProgressCounts c;
    c.total = j.total;
    c.done = j.committed;
    c.running = j.running;
    c.failed = j.failed;
    return c;
}

}  // namespace

int cmd_submit(const RunArgs& a) {
    const ServerClient server = client_of(a.server);
    const JobInfo j = submit(a, server);
    if (a.json) std::cout << to_json(j).dump() << std::endl;
    else std::cout << j.id << std::endl;
    return 0;
}

int cmd_run_remote(const RunArgs& a, const std::string& url) {
    const ServerClient server(url);
    JobInfo j = submit(a, server);
    const bool json = a.json || !::isatty(1);
    const bool bar = !a.quiet && ::isatty(2);
    if (json)
        std::cout << nlohmann::json{{"event", "job"}, {"state", "started"}, {"job", j.id}, {"tasks", j.total},
                                    {"server", server.url()}}
                         .dump()
                  << std::endl;
    if (!a.quiet)
        std::cerr << "hearth: job " << j.id << " queued at " << server.url() << ": " << j.total
                  << " tasks (interrupting this only stops following; the job carries on)\n";
    // Polled, not streamed: a dropped connection costs one poll, not the follow.
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t done_before = j.committed;
    while (!is_final(j.state)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        j = server.job(j.id);
        if (bar) {
            const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::cerr << "\r\033[K" << format_progress(counts(j), el, j.committed - done_before, 30) << std::flush;
        }
    }
    if (bar) std::cerr << "\n";
    const std::string out = a.out ? *a.out : j.id + "/out";
    const std::size_t files = fetch_outputs(server, j.id, out);
    if (json)
        std::cout << nlohmann::json{{"event", "job"}, {"state", to_string(j.state)}, {"job", j.id},
                                    {"tasks", j.total}, {"done", j.committed}, {"failed", j.failed},
                                    {"outputs", files}, {"out", out}, {"energy_uj", j.energy_uj},
                                    {"energy_estimated", j.energy_estimated}}
                         .dump()
                  << std::endl;
    if (!a.quiet)
        std::cerr << "hearth: job " << j.id << " " << to_string(j.state) << ": " << j.committed << "/" << j.total
                  << " tasks done, " << j.failed << " failed; " << files << " output file(s) in " << out << "\n";
    return j.state == JobState::finished ? 0 : static_cast<int>(ExitCode::tasks_failed);
}

}  // namespace hearth
