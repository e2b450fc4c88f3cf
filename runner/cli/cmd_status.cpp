#include <iostream>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "core/progress.hpp"
#include "runner/cli/commands.hpp"
#include "runner/job/launch_plan.hpp"

namespace hearth {

int cmd_status(const std::string& job, bool json) {
    JobDir dir = resolve_job_dir(job);
    JobSpec spec = load_spec(dir);
    std::uint64_t total = total_tasks(spec, dir);
    std::uint64_t attempts = 0, retried = 0;
    std::int64_t first_ts = 0, last_ts = 0;
    nlohmann::json last_failures = nlohmann::json::array();
    JournalState s = read_journal(dir.journal(), [&](const nlohmann::json& r) {
        std::int64_t ts = r.value("ts", std::int64_t{0});
        if (ts && !first_ts) first_ts = ts;
        if (ts) last_ts = ts;
        const std::string e = r.at("e").get<std::string>();
        if (e == "start") ++attempts;
        if (e == "fail") {
            if (!r.value("final", false)) ++retried;
            last_failures.push_back({{"task", r["t"]}, {"attempt", r["a"]}, {"node", r["n"]},
                                     {"reason", r["reason"]}, {"final", r["final"]}});
            if (last_failures.size() > 10) last_failures.erase(last_failures.begin());
        }
    });
    bool running = job_is_running(dir);
    std::string state = running ? "running"
                        : s.end ? s.end->value("state", "unknown")
                        : s.launches ? "interrupted"
                                     : "not started";
    std::uint64_t now_running = running ? s.running.size() : 0;
    std::uint64_t done = s.committed.size(), failed = s.failed.size();
    std::uint64_t pending = total - std::min(total, done + failed + now_running);
    if (json) {
        std::cout << nlohmann::json{{"job", spec.id},           {"name", spec.name},
                                    {"tenant", spec.tenant},    {"state", state},
                                    {"tasks", total},           {"done", done},
                                    {"failed", failed},         {"running", now_running},
                                    {"pending", pending},       {"attempts", attempts},
                                    {"retried", retried},       {"launches", s.launches},
                                    {"seconds", (last_ts - first_ts) / 1000.0},
                                    {"job_dir", dir.path},      {"recent_failures", last_failures},
                                    {"energy_uj", s.energy_uj}, {"energy_estimated", s.energy_estimated}}
                         .dump()
                  << "\n";
        return 0;
    }
    std::cout << "job      " << spec.id << (spec.name.empty() ? "" : " (" + spec.name + ")") << "\n"
              << "tenant   " << spec.tenant << "\n"
              << "state    " << state << "\n"
              << "tasks    " << total << ": " << done << " done, " << now_running << " running, "
              << failed << " failed, " << pending << " pending\n"
              << "attempts " << attempts << " (" << retried << " retried), " << s.launches
              << " launch(es), " << format_duration((last_ts - first_ts) / 1000.0) << "\n"
              << "dir      " << dir.path << "\n";
    if (s.energy_attempts)
        std::cout << "energy   " << format_energy(s.energy_uj)
                  << (s.energy_estimated ? " (estimated)" : "") << " over " << s.energy_attempts
                  << " attempts\n";
    for (const auto& f : last_failures)
        std::cout << "failure  task " << f["task"] << " attempt " << f["attempt"] << " on "
                  << f["node"].get<std::string>() << ": " << f["reason"].get<std::string>()
                  << (f["final"].get<bool>() ? "" : " (retried)") << "\n";
    if (state == "interrupted" || state == "cancelled")
        std::cout << "resume   hearth resume " << dir.path << "\n";
    return 0;
}

}  // namespace hearth
