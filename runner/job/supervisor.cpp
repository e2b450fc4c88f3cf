#include "runner/job/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/append_file.hpp"
#include "core/error.hpp"
#include "core/journal.hpp"
#include "core/journal_writer.hpp"
#include "core/progress.hpp"
#include "core/slurm_alloc.hpp"
#include "runner/job/launch_plan.hpp"
#include "runner/job/mpirun_process.hpp"
#include "runner/job/slurm_query.hpp"

namespace fs = std::filesystem;

namespace hearth {
namespace {

volatile sig_atomic_t g_interrupts = 0;
void on_interrupt(int) { g_interrupts = g_interrupts + 1; }

// A node of the plan runs on host h: it is h, or h#k with several workers a host.
bool node_on_host(const std::string& node, const std::string& host) {
    return node == host || node.rfind(host + "#", 0) == 0;
}

// Whether the job directory's filesystem has no room left: less than a few
// pages for this user (root may also use an ext4 volume's reserved blocks).
bool job_dir_full(const JobDir& dir) {
    struct statvfs v {};
    if (::statvfs(dir.path.c_str(), &v) != 0) return false;
    const auto blocks = ::geteuid() == 0 ? v.f_bfree : v.f_bavail;
    return static_cast<unsigned long long>(blocks) * v.f_frsize < 64 * 1024;
}

bool says_no_space(const std::string& error) {
    return error.find(std::strerror(ENOSPC)) != std::string::npos;
}

// One line with the problem and the fix, whichever write of the dispatcher
// (an output, the log store, the journal) found the disk full. `cause` is
// the dispatcher's error without its own advice, or empty when it could not
// even journal one.
std::string out_of_space(const JobDir& dir, std::string cause) {
    cause = cause.substr(0, cause.find("; "));
    if (cause.empty()) cause = std::strerror(ENOSPC);
    return "the job directory " + dir.path + " is out of space (" + cause +
           "); dispatching stopped with every committed task kept: free space on its " +
           "filesystem, then 'hearth resume " + dir.path + "'";
}

class Reporter {
public:
    Reporter(const SuperviseOptions& opt, const JournalState& initial, std::uint64_t total)
        : m_opt(opt), m_state(initial), m_total(total), m_tty(::isatty(2) && !opt.quiet) {
        m_start = std::chrono::steady_clock::now();
    }

    void on_record(const nlohmann::json& r) {
        apply_record(m_state, r);
        const std::string e = r.at("e").get<std::string>();
        if (e == "start")
            m_flight[r.at("t").get<std::uint64_t>()] = {r.at("a").get<std::uint32_t>(),
                                                        r.value("n", "")};
        if (e == "done" || e == "fail") m_flight.erase(r.at("t").get<std::uint64_t>());
        if (e == "launch" || e == "end") m_flight.clear();
        if (e == "done") ++m_done_now;
        if (e == "fail" && !r.value("final", false)) ++m_retried;
        if (e == "launch") ++m_launches;
        if (e == "node" && r.value("state", "") == "blocked")
            m_blocked[r.value("n", "")] = r.value("reason", "");
        if (!m_opt.json) return;
        nlohmann::json ev;
        if (e == "start") {
            ev = {{"event", "task"}, {"task", r["t"]}, {"attempt", r["a"]}, {"state", "running"},
                  {"node", r["n"]}};
        } else if (e == "done") {
            ev = {{"event", "task"}, {"task", r["t"]}, {"attempt", r["a"]}, {"state", "done"},
                  {"node", r["n"]}, {"seconds", r["ms"].get<double>() / 1000.0},
                  {"outputs", r["out"]}};
        } else if (e == "fail") {
            ev = {{"event", "task"}, {"task", r["t"]}, {"attempt", r["a"]},
                  {"state", r.value("final", false) ? "failed" : "retrying"},
                  {"node", r["n"]}, {"reason", r["reason"]}, {"exit", r["exit"]},
                  {"seconds", r["ms"].get<double>() / 1000.0}};
        } else if (e == "node") {
            ev = {{"event", "node"}, {"node", r["n"]}, {"state", r["state"]}};
            if (r.contains("slots")) ev["slots"] = r["slots"];
            if (r.contains("reason")) ev["reason"] = r["reason"];
            if (r.contains("lost")) ev["lost"] = r["lost"];
        } else {
            return;
        }
        ev["time"] = r.value("ts", std::int64_t{0}) / 1000.0;
        std::cout << ev.dump() << '\n';
    }

    void draw(bool force) {
        if (!m_tty) return;
        auto now = std::chrono::steady_clock::now();
        if (!force && now - m_last_draw < std::chrono::milliseconds(100)) return;
        m_last_draw = now;
        ProgressCounts c{m_total, m_state.committed.size(), m_state.running.size(),
                         m_state.failed.size(), m_retried};
        double el = std::chrono::duration<double>(now - m_start).count();
        std::cerr << "\r\033[K" << format_progress(c, el, m_done_now, 30) << std::flush;
    }
    void end_line() {
        if (m_tty) std::cerr << "\n";
    }

    void flush() { std::cout.flush(); }
    const JournalState& state() const { return m_state; }
    std::uint64_t launches() const { return m_launches; }
    // Nodes no task goes to any more, each with why.
    const std::map<std::string, std::string>& blocked() const { return m_blocked; }
    struct InFlight {
        std::uint32_t attempt = 0;
        std::string node;
    };
    // Attempts started by the current launch with no outcome yet.
    const std::map<std::uint64_t, InFlight>& in_flight() const { return m_flight; }
    double elapsed() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    }

private:
    SuperviseOptions m_opt;
    JournalState m_state;
    std::uint64_t m_total;
    bool m_tty;
    std::chrono::steady_clock::time_point m_start, m_last_draw;
    std::uint64_t m_done_now = 0, m_retried = 0, m_launches = 0;
    std::map<std::string, std::string> m_blocked;
    std::map<std::uint64_t, InFlight> m_flight;
};

}  // namespace

std::string self_exe() {
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error("cannot find the hearth executable (/proc/self/exe): " + ec.message());
    return p.string();
}

int supervise(const JobDir& dir, const SuperviseOptions& opt) {
    JobSpec spec = load_spec(dir);
    // A Slurm job runs on the allocation it is run (or resumed) in.
    std::optional<SlurmAllocation> alloc = read_slurm_allocation(process_env);
    if (spec.slurm) {
        if (!alloc)
            throw usage_error("job " + spec.id +
                              " runs on a Slurm allocation's nodes and this is " +
                              "not one; resume it inside one: salloc -N" +
                              std::to_string(spec.nodes.size()) + " hearth resume " + dir.path +
                              " (or sbatch --wrap 'hearth resume " + dir.path + "')");
        spec.nodes = slurm_node_specs(*alloc);
    }
    if (job_is_running(dir))
        throw usage_error("job " + spec.id + " is running already; follow it with 'hearth status " +
                          dir.path + "' or stop it with 'hearth cancel " + dir.path + "'");
    // A crash can leave half a line at the end: cut it so new lines start clean.
    JournalState initial = read_journal(dir.journal());
    if (fs::exists(dir.journal()) && fs::file_size(dir.journal()) > initial.valid_bytes)
        fs::resize_file(dir.journal(), initial.valid_bytes);
    fs::remove(dir.cancel());

    // Hosts found dead during this run: later launches leave them out. A new
    // run or a resume tries every host again, so a host that is back rejoins.
    std::set<std::string> down;
    nlohmann::json lost_hosts = nlohmann::json::array();
    LaunchPlan plan = plan_launch(spec);
    write_launch_files(dir, plan);
    std::vector<std::string> argv = mpirun_argv(dir, plan, self_exe());
    std::uint64_t total = total_tasks(spec, dir);

    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    Reporter rep(opt, initial, total);
    JournalTail tail(dir.journal(), initial.valid_bytes, initial.valid_lines);
    if (opt.json) {
        std::cout << nlohmann::json{{"event", "job"}, {"state", "started"}, {"job", spec.id},
                                    {"tasks", total}, {"job_dir", dir.path},
                                    {"committed", initial.committed.size()}}
                         .dump()
                  << std::endl;
    }
    if (!opt.quiet) {
        std::cerr << "hearth: job " << spec.id << ": " << total << " tasks"
                  << (initial.committed.size()
                          ? " (" + std::to_string(initial.committed.size()) + " already done)"
                          : "")
                  << (alloc ? " in Slurm job " + alloc->job_id + " (" +
                                  std::to_string(alloc->nodes.size()) + " node" +
                                  (alloc->nodes.size() == 1 ? "" : "s") + ")"
                            : "")
                  << ", job directory " << dir.path << "\n";
    }

    unsigned relaunches = 0;
    unsigned launched = 0;
    std::string failure;
    ExitCode fail_code = ExitCode::no_grid;
    for (;;) {
        std::uint64_t committed_before = rep.state().committed.size();
        std::uint64_t launches_before = rep.launches();
        std::uintmax_t log_offset = size_of(dir.mpirun_log());
        pid_t pid = launch_mpirun(argv, dir.mpirun_log());
        ++launched;
        // Readable when mpirun exits: the wait below ends at once, not at the next tick.
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        int status = 0;
        bool cancel_sent = false;
        for (;;) {
            tail.poll([&](const nlohmann::json& r) { rep.on_record(r); });
            rep.flush();
            rep.draw(false);
            pid_t w = ::waitpid(pid, &status, WNOHANG);
            if (w == pid) break;
            if (g_interrupts == 1 && !cancel_sent) {
                std::ofstream(dir.cancel()).put('\n');
                cancel_sent = true;
            } else if (g_interrupts >= 2) {
                ::kill(pid, SIGTERM);
            }
            if (pidfd >= 0) {
                pollfd p{pidfd, POLLIN, 0};
                ::poll(&p, 1, 50);
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        if (pidfd >= 0) ::close(pidfd);
        tail.poll([&](const nlohmann::json& r) { rep.on_record(r); });
        rep.draw(true);
        if (rep.state().end) break;
        // A dispatcher that found the disk full may not have had room to say
        // so: relaunching into the same full disk would not help.
        if (job_dir_full(dir)) {
            failure = out_of_space(dir, "");
            fail_code = ExitCode::internal;
            break;
        }
        bool started = rep.launches() > launches_before;
        bool progress = rep.state().committed.size() > committed_before;
        std::string why = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
        std::string said = read_from(dir.mpirun_log(), log_offset);
        if (g_interrupts >= 2) {
            failure = "interrupted; 'hearth resume " + dir.path + "' continues the job";
            break;
        }
        // The allocation itself ended (scancel, its time limit): Slurm took
        // every node at once, none of them died. Stop; a new one resumes.
        if (alloc && !slurm_job_running(alloc->job_id)) {
            failure = "Slurm job " + alloc->job_id +
                      " ended (scancel, its time limit, or a lost node without salloc/sbatch "
                      "--no-kill) with " +
                      std::to_string(rep.state().committed.size()) + "/" + std::to_string(total) +
                      " tasks done; 'hearth resume " + dir.path +
                      "' inside a new allocation continues the job";
            break;
        }
        // A first launch that never started is a setup problem (a wrong
        // hostfile, no ssh): say so at once. Otherwise hosts may have died.
        std::map<std::string, std::string> dead;
        if (started || launched > 1) dead = dead_hosts(plan, said);
        if (!dead.empty()) {
            JournalWriter journal(dir.journal());
            std::string names;
            for (const auto& [host, why_down] : dead) {
                std::vector<std::pair<std::uint64_t, std::uint32_t>> lost;
                nlohmann::json attempts = nlohmann::json::array();
                std::uint64_t elsewhere = 0;
                for (const auto& [task, f] : rep.in_flight()) {
                    if (node_on_host(f.node, host)) {
                        lost.emplace_back(task, f.attempt);
                        attempts.push_back({{"task", task}, {"attempt", f.attempt}});
                    } else if (!dead.count(f.node.substr(0, f.node.find('#')))) {
                        ++elsewhere;
                    }
                }
                // The dispatcher is gone with mpirun: the supervisor is the
                // journal's only writer until the next launch.
                const std::int64_t ts = journal.node_down(host, why_down, lost);
                lost_hosts.push_back({{"host", host},
                                      {"reason", why_down},
                                      {"time", ts / 1000.0},
                                      {"launch", rep.state().launches},
                                      {"attempts", attempts},
                                      {"rerun_elsewhere", elsewhere}});
                down.insert(host);
                names += (names.empty() ? "" : ", ") + host + " (" + why_down + ")";
            }
            journal.sync();
            tail.poll([&](const nlohmann::json& r) { rep.on_record(r); });
            rep.flush();
            plan = plan_launch(spec, down);
            if (plan.workers.empty()) {
                failure = "every node of the job is down: " + names + "; bring one back, then " +
                          "'hearth resume " + dir.path + "'";
                break;
            }
            write_launch_files(dir, plan);
            argv = mpirun_argv(dir, plan, self_exe());
            rep.end_line();
            std::cerr << "hearth: lost " << names << "; relaunching on " << plan.workers.size()
                      << " node" << (plan.workers.size() == 1 ? "" : "s")
                      << " for the tasks not yet committed (" << rep.state().committed.size() << "/"
                      << total << " done)\n";
            continue;
        }
        if (!started) {
            failure = "mpirun " + why + " before the dispatcher started: " + mpirun_gist(said, 2) +
                      " (full output: " + dir.mpirun_log() +
                      "; check that every node runs Open MPI and hearth, reachable by ssh)";
            break;
        }
        if (!progress) ++relaunches;
        if (relaunches > opt.max_relaunches) {
            failure = "mpirun " + why + " " + std::to_string(relaunches) +
                      " times without progress; see " + dir.mpirun_log();
            break;
        }
        rep.end_line();
        std::cerr << "hearth: mpirun " << why << " mid-job; relaunching for the tasks not yet "
                  << "committed (" << rep.state().committed.size() << "/" << total << " done)\n";
    }
    rep.end_line();

    const JournalState& s = rep.state();
    std::string state = s.end ? s.end->value("state", "unknown") : "failed";
    int code = 0;
    if (state == "error" && failure.empty()) {
        const std::string error = s.end->value("error", std::string("unknown error"));
        failure =
            says_no_space(error) ? out_of_space(dir, error) : "the dispatcher stopped: " + error;
        code = static_cast<int>(ExitCode::internal);
    } else if (!failure.empty()) code = static_cast<int>(fail_code);
    else if (state == "stalled") code = static_cast<int>(ExitCode::no_grid);
    else if (state == "cancelled" || !s.failed.empty() || s.committed.size() < total) code = 1;

    nlohmann::json failed = nlohmann::json::array();
    for (auto t : s.failed) {
        if (failed.size() >= 1000) break;
        failed.push_back(t);
    }
    nlohmann::json summary = {{"job", spec.id},
                              {"name", spec.name},
                              {"tenant", spec.tenant},
                              {"state", state},
                              {"tasks", total},
                              {"committed", s.committed.size()},
                              {"failed", s.failed.size()},
                              {"failed_tasks", failed},
                              {"seconds", rep.elapsed()},
                              {"launches", s.launches},
                              {"dispatcher_peak_rss_kb", s.end ? s.end->value("rss_kb", 0) : 0},
                              {"exit_code", code},
                              {"energy_uj", s.energy_uj},
                              {"energy_attempts", s.energy_attempts},
                              {"energy_estimated", s.energy_estimated},
                              {"heat_override_attempts", s.override_attempts},
                              {"heat_override_uj", s.override_uj},
                              {"lost_hosts", lost_hosts},
                              {"job_dir", dir.path},
                              {"outputs", dir.out()}};
    if (alloc) summary["slurm_job"] = alloc->job_id;
    if (!failure.empty()) summary["error"] = failure;
    {
        // On a full disk a short write must not replace the last good summary.
        std::ofstream out(dir.summary() + ".tmp");
        out << summary.dump(2) << "\n";
        out.close();
        std::error_code ec;
        if (out) {
            fs::rename(dir.summary() + ".tmp", dir.summary(), ec);
        } else {
            fs::remove(dir.summary() + ".tmp", ec);
            if (failure.empty())
                std::cerr << "hearth: cannot write " << dir.summary() << " (is its disk full?); "
                          << "'hearth status " << dir.path << "' shows the same from the journal\n";
        }
    }

    if (opt.json) {
        nlohmann::json ev = summary;
        ev["event"] = "job";
        ev["state"] = failure.empty() ? state : "error";
        std::cout << ev.dump() << std::endl;
    }
    if (!failure.empty()) throw Error(failure, static_cast<ExitCode>(code));
    if (!opt.quiet) {
        std::ostringstream msg;
        msg << "hearth: job " << spec.id << " " << state << ": " << s.committed.size() << "/"
            << total << " tasks done, " << s.failed.size() << " failed, in "
            << format_duration(rep.elapsed())
            << (alloc ? " in Slurm job " + alloc->job_id : std::string()) << "\n";
        if (s.energy_attempts > 0)
            msg << "  energy: " << format_energy(s.energy_uj)
                << (s.energy_estimated ? " (estimated)" : "") << " charged to " << spec.tenant
                << " over " << s.energy_attempts << " attempts\n";
        if (s.override_attempts > 0)
            msg << "  heat budgets overridden for the deadline: " << s.override_attempts
                << " attempts" << (s.energy_attempts ? ", " + format_energy(s.override_uj) : "")
                << " delivered where heat was not asked for\n";
        for (const auto& h : lost_hosts) {
            msg << "  lost host " << h["host"].get<std::string>() << " ("
                << h["reason"].get<std::string>() << "): " << h["attempts"].size() << " attempt"
                << (h["attempts"].size() == 1 ? "" : "s") << " lost with it";
            if (h["rerun_elsewhere"].get<std::uint64_t>() > 0)
                msg << ", " << h["rerun_elsewhere"].get<std::uint64_t>()
                    << " on other nodes stopped by the relaunch";
            msg << "\n";
        }
        if (fs::exists(dir.out()) && !fs::is_empty(dir.out()))
            msg << "  outputs: " << dir.out() << "\n";
        if (!s.failed.empty()) {
            msg << "  failed tasks:";
            std::size_t shown = 0;
            for (auto t : s.failed) {
                if (++shown > 20) {
                    msg << " ...";
                    break;
                }
                msg << " " << t;
            }
            msg << "\n  see why: hearth logs " << dir.path << " TASK\n";
        }
        if (state == "cancelled")
            msg << "  cancelled; 'hearth resume " << dir.path << "' runs what is left\n";
        if (state == "stalled") {
            msg << "  no usable node was left to run the remaining tasks\n";
            // Say why, when the dispatcher said (a GPU job on nodes without GPUs).
            for (const auto& [node, why] : rep.blocked())
                if (!why.empty()) msg << "  " << node << ": " << why << "\n";
        }
        std::cerr << msg.str();
    }
    return code;
}

}  // namespace hearth
