#include "task_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

extern char** environ;

namespace hearth {

Child spawn_task(const SpawnRequest& req) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addchdir_np(&fa, req.cwd.c_str());
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, req.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGINT);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> args;
    for (const auto& a : req.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    if (!req.env.empty()) {
        envp.reserve(req.env.size() + 1);
        for (const auto& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
    }
    Child c;
    // posix_spawnp looks the program up in the worker's PATH; the task's own
    // PATH is the same unless --env set another, which the program then sees.
    int rc = posix_spawnp(&c.pid, args[0], &fa, &attr, args.data(),
                          envp.empty() ? environ : envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        throw Error("cannot start '" + req.argv[0] + "': " + std::strerror(rc) +
                    (rc == ENOENT ? " (not on PATH on this node, nor staged into the scratch "
                                    "directory)"
                                  : ""));
    }
    c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, c.pid, 0));
    if (req.mem_limit) {
        // posix_spawn returns once the program is exec'd: the limit holds
        // from its first allocations on (its loader's few pages aside).
        const rlimit lim{req.mem_limit, req.mem_limit};
        if (::prlimit(c.pid, RLIMIT_DATA, &lim, nullptr) != 0) {
            const int err = errno;
            ::kill(c.pid, SIGKILL);
            ::waitpid(c.pid, nullptr, 0);
            if (c.pidfd >= 0) ::close(c.pidfd);
            throw Error(std::string("cannot limit the task's memory (--mem-per-task): ") +
                        std::strerror(err));
        }
    }
    return c;
}

ExitInfo try_reap(Child& child) {
    ExitInfo info;
    int status = 0;
    rusage ru{};
    pid_t r = ::wait4(child.pid, &status, WNOHANG, &ru);
    if (r != child.pid) return info;
    info.exited = true;
    info.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (WIFSIGNALED(status)) {
        info.signalled = true;
        info.code = WTERMSIG(status);
    } else {
        info.code = WEXITSTATUS(status);
    }
    if (child.pidfd >= 0) ::close(child.pidfd);
    child.pidfd = -1;
    return info;
}

void kill_group(pid_t pgid, int sig) {
    if (pgid > 0) ::kill(-pgid, sig);
}

}  // namespace hearth
