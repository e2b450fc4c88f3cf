// hearth status, logs, cancel, resume and fetch against the scheduler
// (--server or HEARTH_SERVER). The --json of status keeps the names scripts
// read from a local job's status (job, state, tasks, done, failed, ...).
#include <chrono>
#include <iostream>
#include <thread>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/progress.hpp"
#include "runner/cli/commands.hpp"
#include "runner/clients/http_client.hpp"
#include "runner/clients/server_client.hpp"

namespace hearth {

int remote_status(const std::string& url, const std::string& job, bool json) {
    const ServerClient server(url);
    const JobInfo j = server.job(job);
    const std::uint64_t pending = j.total - std::min(j.total, j.committed + j.failed + j.running);
    const double seconds = j.started_ms ? ((j.finished_ms ? j.finished_ms : std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                                 std::chrono::system_clock::now().time_since_epoch())
                                                                                 .count()) -
                                           j.started_ms) /
                                              1000.0
                                        : 0;
    if (json) {
        std::cout << nlohmann::json{{"job", j.id},
                                    {"name", j.name},
                                    {"tenant", j.tenant},
                                    {"state", to_string(j.state)},
                                    {"tasks", j.total},
                                    {"done", j.committed},
                                    {"failed", j.failed},
                                    {"running", j.running},
                                    {"pending", pending},
                                    {"waiting_for_heat", j.waiting_for_heat},
                                    {"waiting", j.waiting},
                                    {"seconds", seconds},
                                    {"priority", j.priority},
                                    {"urgent", j.urgent},
                                    {"deadline_ms", j.deadline_ms},
                                    {"server", server.url()},
                                    {"energy_uj", j.energy_uj},
                                    {"energy_estimated", j.energy_estimated}}
                         .dump()
                  << "\n";
        return 0;
    }
    std::cout << "job      " << j.id << (j.name.empty() ? "" : " (" + j.name + ")") << "\n"
              << "tenant   " << j.tenant << "\n"
              << "state    " << to_string(j.state) << "\n"
              << "tasks    " << j.total << ": " << j.committed << " done, " << j.running
              << " running, " << j.failed << " failed, " << pending << " pending"
              << (j.waiting_for_heat
                      ? " (" + std::to_string(j.waiting_for_heat) +
                            " waiting for heat: no node's heat budget allows more now)"
                      : "")
              << "\n"
              << (j.waiting.empty() ? "" : "waiting  " + j.waiting + "\n") << "time     "
              << format_duration(seconds) << "\n"
              << "server   " << server.url() << "\n";
    if (j.energy_uj) std::cout << "energy   " << format_energy(j.energy_uj) << (j.energy_estimated ? " (estimated)" : "") << "\n";
    if (j.state == JobState::failed || j.state == JobState::cancelled)
        std::cout << "resume   hearth resume " << j.id << " --server " << server.url() << "\n";
    return 0;
}

int remote_logs(const std::string& url, const std::string& job, std::uint64_t task,
                std::optional<std::uint32_t> attempt) {
    const ServerClient server(url);
    std::string path = "/v1/jobs/" + url_escape(job) + "/tasks/" + std::to_string(task) + "/log";
    if (attempt) path += "?attempt=" + std::to_string(*attempt);
    const std::string text = server.get_text(path);
    // The heading a local job's log has: which attempt, where, and why it
    // failed (a failure with no output, a refused output, says so only here).
    const nlohmann::json listed = server.get("/v1/jobs/" + url_escape(job) +
                                             "/tasks?from=" + std::to_string(task) + "&limit=1");
    if (listed.contains("tasks") && listed["tasks"].is_array() && !listed["tasks"].empty()) {
        const TaskInfo t = task_info_from_json(listed["tasks"][0]);
        if (t.task == task && t.attempts > 0 && (!attempt || *attempt == t.attempts))
            std::cout << "== task " << task << " attempt " << t.attempts << " on " << t.node << ": "
                      << to_string(t.state) << (t.reason.empty() ? "" : ", " + t.reason) << " ==\n";
    }
    std::cout << text;
    if (!text.empty() && text.back() != '\n') std::cout << "\n";
    return 0;
}

int remote_cancel(const std::string& url, const std::string& job, bool wait) {
    const ServerClient server(url);
    JobInfo j = job_info_from_json(server.post("/v1/jobs/" + url_escape(job) + "/cancel", nlohmann::json::object()));
    // Attempts out at sites stop when their sites next ask for work.
    for (int i = 0; wait && j.running > 0 && i < 600; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        j = server.job(j.id);
    }
    if (wait && j.running > 0)
        throw Error("job " + j.id + " still has " + std::to_string(j.running) +
                    " attempts out after 60 s; their sites stop them when they next reach the scheduler");
    std::cout << "job " << j.id << " " << to_string(j.state) << "; 'hearth resume " << j.id << "' queues it again\n";
    return 0;
}

int remote_resume(const std::string& url, const std::string& job) {
    const ServerClient server(url);
    const JobInfo j = job_info_from_json(server.post("/v1/jobs/" + url_escape(job) + "/resume", nlohmann::json::object()));
    std::cout << "job " << j.id << " " << to_string(j.state) << ": " << j.committed << "/" << j.total << " tasks done\n";
    return 0;
}

int cmd_fetch(const std::string& job, const std::optional<std::string>& flag, const std::optional<std::string>& out) {
    auto url = server_url(flag);
    if (!url) throw usage_error("no scheduler: give --server URL or set HEARTH_SERVER");
    // The id names a directory here: it must be a plain name.
    if (!is_safe_name(job)) throw usage_error("bad job id '" + job + "': give the id hearth submit printed");
    const ServerClient server(*url);
    const std::string dir = out ? *out : job + "/out";
    const std::size_t n = fetch_outputs(server, job, dir);
    std::cout << n << " file(s) of job " << job << " in " << dir << "\n";
    return 0;
}

}  // namespace hearth
