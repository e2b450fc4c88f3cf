// The real CommandRunner: posix_spawnp with stdout and stderr on one pipe,
// read with poll() until the program closes it, the deadline passes or the
// output passes the cap; then the program is killed and always reaped.
#include "command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/text.hpp"

extern char** environ;

namespace hearth {
namespace {

class SpawnRunner final : public CommandRunner {
public:
    CommandResult run(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env,
                      const CommandLimits& limits) override {
        CommandResult r;
        if (argv.empty()) {
            r.error = "no program to run";
            return r;
        }
        if (find_on_path(argv[0]).empty()) {
            r.outcome = CommandResult::Outcome::missing;
            r.error = argv[0] + ": not found on PATH";
            return r;
        }
        // The environment: ours, with env's variables replacing any of the
        // same name.
        std::vector<std::string> envs;
        for (char** e = environ; e && *e; ++e) {
            std::string kv(*e);
            const std::string name = kv.substr(0, kv.find('='));
            if (!env.count(name)) envs.push_back(std::move(kv));
        }
        for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
        std::vector<char*> cargv, cenv;
        for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
        cargv.push_back(nullptr);
        for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
        cenv.push_back(nullptr);

        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            r.error = "pipe: " + errno_text(errno);
            return r;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        // Its own process group: a timeout kills whatever it started too.
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
        posix_spawnattr_setpgroup(&attr, 0);
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attr, &none);
        pid_t pid = 0;
        const int rc = ::posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), cenv.data());
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            r.outcome =
                rc == ENOENT ? CommandResult::Outcome::missing : CommandResult::Outcome::failed;
            r.error = argv[0] + ": " + errno_text(rc);
            return r;
        }

        using Steady = std::chrono::steady_clock;
        const auto deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                                  std::chrono::duration<double>(limits.timeout_s));
        bool timed_out = false, too_much = false;
        char buf[4096];
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now())
                    .count();
            if (left <= 0) {
                timed_out = true;
                break;
            }
            pollfd p{fds[0], POLLIN, 0};
            const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) continue;  // the loop checks the deadline
            const ssize_t got = ::read(fds[0], buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;  // closed: the program is done printing
            if (r.output.size() + static_cast<std::size_t>(got) > limits.max_bytes) {
                too_much = true;
                break;
            }
            r.output.append(buf, static_cast<std::size_t>(got));
        }
        ::close(fds[0]);
        if (timed_out || too_much) ::kill(-pid, SIGKILL);
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (timed_out) {
            r.outcome = CommandResult::Outcome::timed_out;
            char secs[32];
            std::snprintf(secs, sizeof secs, "%g", limits.timeout_s);
            r.error = argv[0] + " did not finish within " + secs + " s";
        } else if (too_much) {
            r.outcome = CommandResult::Outcome::too_much_output;
            r.error = argv[0] + " printed more than " + std::to_string(limits.max_bytes) + " bytes";
        } else {
            r.outcome = CommandResult::Outcome::exited;
            r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        return r;
    }
};

}  // namespace

std::string find_on_path(const std::string& argv0) {
    if (argv0.find('/') != std::string::npos)
        return ::access(argv0.c_str(), X_OK) == 0 ? argv0 : "";
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= p.size()) {
        std::size_t end = p.find(':', start);
        if (end == std::string::npos) end = p.size();
        std::string dir = p.substr(start, end - start);
        if (dir.empty()) dir = ".";
        const std::string full = dir + "/" + argv0;
        if (::access(full.c_str(), X_OK) == 0) return full;
        start = end + 1;
    }
    return "";
}

std::string CommandRunner::find(const std::string& argv0) const {
    return find_on_path(argv0);
}

std::unique_ptr<CommandRunner> make_real_command_runner() {
    return std::make_unique<SpawnRunner>();
}

}  // namespace hearth
