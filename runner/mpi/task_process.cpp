#include "runner/mpi/task_process.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

#include "core/cgroup.hpp"
#include "core/error.hpp"

namespace hearth {

namespace {

// What the child reports through its pipe when it cannot exec.
struct ChildFailure {
    int step = 0;  // ConfineStep, or k_exec_step
    int error = 0;
};
constexpr int k_exec_step = 100;
constexpr int k_setup_step = 101;
constexpr int k_mem_step = 102;

// Task cgroups are pooled: a cgroup made for one task takes the next once
// the first is settled and the cgroup is empty, so most tasks start in a
// cgroup without a mkdir, a join through cgroup.procs (the kernel's
// cgroup-wide write lock) and an rmdir, which cost about 0.2 ms a task here
// (bench/README.md). A task's CPU is its cgroup's usage less what the
// cgroup had counted when the task started in it; kills reach it alone, as
// only one task is ever in a cgroup.
struct Held {
    std::unique_ptr<TaskCgroup> cg;
    double base = 0;        // the cgroup's CPU seconds when the task started in it
    bool reusable = false;  // its task reaped, nothing was left in it
    // Written cgroup.kill: never reused, since on this kernel (6.18) a child
    // started in it through CLONE_INTO_CGROUP is killed at once (the kill
    // outlives its own write); a timeout or a cancel made it.
    bool killed = false;
};

// One per process, as the cgroup tree is the process's. Locked: a test runs
// two workers on threads of one process (tests/program/test_dispatch_inprocess).
struct Cgroups {
    std::recursive_mutex mutex;
    std::unique_ptr<CgroupTree> tree;
    // Trees given up (a join failed) outlive the cgroups made in them.
    std::vector<std::unique_ptr<CgroupTree>> retired;
    bool tried = false;
    std::uint64_t next = 0;
    std::map<pid_t, Held> tasks;  // running, by the task's pid (its process group's id)
    // Reaped, until their attempts are settled: apart, as a new task may
    // be given a reaped one's pid meanwhile.
    std::map<pid_t, Held> settling;
    std::vector<Held> pool;  // empty, settled: the next tasks' cgroups
    // clone3's CLONE_INTO_CGROUP (cgroup v2, Linux 5.7) starts the child in
    // its cgroup; false once the kernel refused it (then cgroup.procs).
    bool clone_into = true;
};
Cgroups& cgroups() {
    static Cgroups c;
    return c;
}

// The tree's path for the SIGTERM handler, which may not allocate: set
// once, when the tree is made.
char g_tree_path[4096];
volatile sig_atomic_t g_tree_v2 = 0;
volatile sig_atomic_t g_tree_set = 0;

void no_cgroups(const std::string& why) {
    Cgroups& c = cgroups();
    std::lock_guard<std::recursive_mutex> lock(c.mutex);
    c.pool.clear();
    if (c.tree) c.retired.push_back(std::move(c.tree));
    std::cerr << "hearth worker: tasks are not in cgroups of their own (" << why
              << "): a task that calls setsid() can outlive --timeout and cancel" << std::endl;
}

// A cgroup for the next task: an empty one from the pool, else a new one;
// none (said once) when none can be made.
Held task_cgroup() {
    Cgroups& c = cgroups();
    std::lock_guard<std::recursive_mutex> lock(c.mutex);
    std::string why;
    if (!c.tried) {
        c.tried = true;
        c.tree = CgroupTree::open(std::make_shared<FsRoot>(), ::getpid(), &why);
        if (c.tree) {
            const std::string path = c.tree->fs().path(c.tree->dir());
            if (path.size() < sizeof g_tree_path) {
                std::memcpy(g_tree_path, path.c_str(), path.size() + 1);
                g_tree_v2 = c.tree->v2() ? 1 : 0;
                g_tree_set = 1;
            }
        }
    }
    Held h;
    if (!c.pool.empty()) {
        h = std::move(c.pool.back());
        c.pool.pop_back();
        h.reusable = false;
        return h;
    }
    if (c.tree) try {
            h.cg = std::make_unique<TaskCgroup>(*c.tree, "t" + std::to_string(c.next++));
            return h;
        } catch (const Error& e) {
            why = e.what();
        }
    if (!why.empty()) no_cgroups(why);
    return h;
}

[[noreturn]] void child_fail(int fd, int step, int error) {
    ChildFailure f{step, error};
    (void)!::write(fd, &f, sizeof f);
    ::_exit(127);
}

// The task could not join its cgroup (a cgroup whose parent has
// controllers enabled, a delegation the worker does not own).
struct CgroupJoinFailed {
    std::string why;
};

// What the child reads between clone and exec: built by the parent, which
// waits (CLONE_VFORK) until the child has exec'd or exited.
struct ChildArgs {
    const SpawnRequest* req;
    char* const* argv;
    char* const* envp;
    const TaskConfinement* confine;
    const IdentityOps* ops;
    const rlimit* mem_lim;
    int fd;  // the pipe a failure is reported on (close-on-exec)
};

// Only system calls from here to exec: the child shares the worker's memory.
int child_main(void* p) {
    const ChildArgs& a = *static_cast<const ChildArgs*>(p);
    const SpawnRequest& req = *a.req;
    const int fd = a.fd;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) {
            struct sigaction dfl {};
            dfl.sa_handler = SIG_DFL;
            struct sigaction cur {};
            if (::sigaction(sig, nullptr, &cur) == 0 && cur.sa_handler != SIG_DFL &&
                cur.sa_handler != SIG_IGN)
                ::sigaction(sig, &dfl, nullptr);
        }
    for (int sig : {SIGPIPE, SIGTERM, SIGINT}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Its own process group: a timeout or a cancel kills its tree.
    if (::setpgid(0, 0) != 0) child_fail(fd, k_setup_step, errno);
    int in = ::open("/dev/null", O_RDONLY);
    // Opened as the worker, before the task's user is taken: the log
    // sits in the job's directory, which the task cannot write; never
    // through a symlink.
    int out = ::open(req.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (in < 0 || out < 0) child_fail(fd, k_setup_step, errno);
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0)
        child_fail(fd, k_setup_step, errno);
    if (in > 2) ::close(in);
    if (out > 2) ::close(out);
    ConfineResult r = confine_in_child(*a.confine, *a.ops);
    if (r.step != ConfineStep::none) child_fail(fd, static_cast<int>(r.step), r.error);
    // As the task's user: its scratch directory is its own.
    if (::chdir(req.cwd.c_str()) != 0) child_fail(fd, k_setup_step, errno);
    if (req.mem_limit && ::setrlimit(RLIMIT_DATA, a.mem_lim) != 0)
        child_fail(fd, k_mem_step, errno);
    // execvpe looks the program up in the worker's PATH; the task's own
    // PATH is the same unless --env set another, which the program then sees.
    ::execvpe(a.argv[0], a.argv, a.envp);
    child_fail(fd, k_exec_step, errno);
}

constexpr std::size_t k_stack = 256 * 1024;

// The child's stack, one per spawning thread and kept: CLONE_VFORK returns
// only once the child has exec'd or exited, so the next spawn may use it
// again, and a munmap per task would flush the TLB of every worker thread.
void* child_stack() {
    struct Stack {
        void* p = nullptr;
        ~Stack() {
            if (p) ::munmap(p, k_stack);
        }
    };
    thread_local Stack s;
    if (!s.p) {
        void* p = ::mmap(nullptr, k_stack, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (p != MAP_FAILED) s.p = p;
    }
    return s.p;
}

#if defined(__x86_64__)
constexpr bool k_have_clone3 = true;
// clone3 with the child on a stack of its own: the child resumes after the
// syscall instruction on that stack, so it cannot return through C code.
// It calls fn(arg) and exits with what fn returns, as glibc's clone() does
// (glibc has no clone3 wrapper). Returns the pid, or -errno.
long clone3_call(clone_args* args, int (*fn)(void*), void* arg) {
    long ret;
    register int (*r12)(void*) asm("r12") = fn;
    register void* r13 asm("r13") = arg;
    asm volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"
        "mov %%r13, %%rdi\n\t"
        "call *%%r12\n\t"
        "mov %%eax, %%edi\n\t"
        "mov $60, %%eax\n\t"  // SYS_exit
        "syscall\n\t"
        "hlt\n\t"
        "1:\n\t"
        : "=a"(ret)
        : "0"(static_cast<long>(SYS_clone3)), "D"(args), "S"(sizeof *args), "r"(r12), "r"(r13)
        : "rcx", "r11", "memory");
    return ret;
}
#else
constexpr bool k_have_clone3 = false;
long clone3_call(clone_args*, int (*)(void*), void*) {
    return -ENOSYS;
}
#endif

// The kernel cannot start a child in a cgroup (before Linux 5.7, or clone3
// unknown): cgroup.procs from now on, said once.
bool clone_into_unsupported(int error) {
    return error == ENOSYS || error == EINVAL || error == E2BIG;
}

// Back to the pool when the task is settled and its cgroup empty; else
// removed (the destructor kills what is left first).
void settle(Held h) {
    if (!h.cg) return;
    Cgroups& c = cgroups();
    std::lock_guard<std::recursive_mutex> lock(c.mutex);
    if (c.tree && h.reusable) c.pool.push_back(std::move(h));
}

Child spawn_once(const SpawnRequest& req, bool use_cgroup) {
    // Everything the child needs is built here: between clone and exec it
    // only makes system calls (the worker may have threads: MPI's).
    std::vector<char*> args;
    for (const auto& a : req.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    if (!req.env.empty()) {
        envp.reserve(req.env.size() + 1);
        for (const auto& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
    }
    // RLIMIT_DATA (heap, anonymous mappings), set in the child before exec
    // and inherited by the task's own children.
    const rlimit mem_lim{req.mem_limit, req.mem_limit};
    static const IdentityOps ops;
    // Its own cgroup, which the child starts in (clone3 CLONE_INTO_CGROUP)
    // or joins before anything else runs (cgroup.procs: cgroup v1, kernels
    // before 5.7).
    Held held = use_cgroup ? task_cgroup() : Held{};
    bool into = false;
    if (held.cg) {
        std::lock_guard<std::recursive_mutex> lock(cgroups().mutex);
        into = k_have_clone3 && cgroups().clone_into && cgroups().tree && cgroups().tree->v2() &&
               held.cg->dir_fd() >= 0;
    }
    TaskConfinement confine = req.confine ? *req.confine : TaskConfinement{};
    if (held.cg && !into) confine.cgroup_procs_fd = held.cg->open_procs();
    struct CloseFd {
        int fd;
        ~CloseFd() {
            if (fd >= 0) ::close(fd);
        }
    } procs_fd{confine.cgroup_procs_fd};
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0)
        throw Error(std::string("cannot start '") + req.argv[0] + "': " + std::strerror(errno));
    // The child shares the worker's memory until it execs (CLONE_VM |
    // CLONE_VFORK, as posix_spawn does), on a stack of its own: a fork would
    // copy the worker's page tables for every task, which cost about 0.5 ms
    // a task here. It reads ChildArgs and writes only its own stack.
    void* stack = child_stack();
    if (!stack) {
        const int e = errno;
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        throw Error(std::string("cannot start '") + req.argv[0] + "': " + std::strerror(e));
    }
    const ChildArgs ca{&req,     args.data(), envp.empty() ? environ : envp.data(), &confine, &ops,
                       &mem_lim, pipefd[1]};
    // No handler of the worker's may run in the child while it shares the
    // worker's memory: every signal is blocked across the clone, and the
    // child puts the defaults back before it unblocks them.
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    Child c;
    int clone_errno = 0;
    if (into) {
        int pidfd = -1;
        clone_args cl{};
        cl.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP;
        cl.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
        cl.exit_signal = SIGCHLD;
        cl.stack = reinterpret_cast<std::uintptr_t>(stack);
        cl.stack_size = k_stack;
        cl.cgroup = static_cast<std::uint64_t>(held.cg->dir_fd());
        const long r = clone3_call(&cl, child_main, const_cast<ChildArgs*>(&ca));
        if (r >= 0) {
            c.pid = static_cast<pid_t>(r);
            c.pidfd = pidfd;
        } else if (clone_into_unsupported(static_cast<int>(-r))) {
            std::lock_guard<std::recursive_mutex> lock(cgroups().mutex);
            if (cgroups().clone_into)
                std::cerr << "hearth worker: tasks join their cgroups through cgroup.procs "
                             "(clone3 cannot start them in one: "
                          << std::strerror(static_cast<int>(-r)) << ")" << std::endl;
            cgroups().clone_into = false;
            into = false;
            confine.cgroup_procs_fd = procs_fd.fd = held.cg->open_procs();
        } else {
            clone_errno = static_cast<int>(-r);
        }
    }
    if (!into)
        c.pid = ::clone(child_main, static_cast<char*>(stack) + k_stack,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, const_cast<ChildArgs*>(&ca));
    if (!into && c.pid < 0) clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (c.pid < 0) {
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        // The kernel would not start the child in its cgroup (a cgroup whose
        // parent has controllers enabled, a delegation the worker does not
        // own): as a failed join through cgroup.procs.
        if (into && clone_errno != EAGAIN && clone_errno != ENOMEM)
            throw CgroupJoinFailed{std::string("cannot start the task in its cgroup: ") +
                                   std::strerror(clone_errno)};
        throw Error(std::string("cannot start '") + req.argv[0] +
                    "': " + std::strerror(clone_errno));
    }
    ::close(pipefd[1]);
    ChildFailure f;
    ssize_t n;
    do {
        n = ::read(pipefd[0], &f, sizeof f);
    } while (n < 0 && errno == EINTR);
    ::close(pipefd[0]);
    if (n == static_cast<ssize_t>(sizeof f)) {
        ::waitpid(c.pid, nullptr, 0);
        if (c.pidfd >= 0) ::close(c.pidfd);
        if (held.cg && held.cg->known_empty()) {
            // The child may have run in it: the next task counts from here.
            if (auto cpu = held.cg->cpu_seconds()) held.base = *cpu;
            held.reusable = true;
            settle(std::move(held));
        }
        if (f.step == k_exec_step)
            throw Error("cannot start '" + req.argv[0] + "': " + std::strerror(f.error) +
                        (f.error == ENOENT ? " (not on PATH on this node, nor staged into the "
                                             "scratch directory)"
                                           : ""));
        if (f.step == k_mem_step)
            throw Error(std::string("cannot limit the task's memory (--mem-per-task): ") +
                        std::strerror(f.error));
        if (f.step == k_setup_step)
            throw Error("cannot start '" + req.argv[0] + "' in " + req.cwd + ": " +
                        std::strerror(f.error));
        const ConfineResult r{static_cast<ConfineStep>(f.step), f.error};
        if (r.step == ConfineStep::cgroup) throw CgroupJoinFailed{describe(r, confine)};
        throw Error(describe(r, confine));
    }
    if (held.cg) {
        std::lock_guard<std::recursive_mutex> lock(cgroups().mutex);
        cgroups().tasks[c.pid] = std::move(held);
    }
    // The pipe closed on exec: the program runs.
    if (c.pidfd < 0) c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, c.pid, 0));
    return c;
}

}  // namespace

Child spawn_task(const SpawnRequest& req) {
    try {
        return spawn_once(req, true);
    } catch (const CgroupJoinFailed& f) {
        // Without cgroups from now on, said once; this task starts anyway.
        no_cgroups(f.why);
        return spawn_once(req, false);
    }
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
    // The one hook after the task's end: its cgroup counts the CPU of every
    // process it started (those it did not wait for too), from the task's
    // start in it; what is left in it is killed, setsid() or not. The
    // cgroup stays, for the agent's last reading, until the attempt is
    // settled (release_task_cgroup).
    std::lock_guard<std::recursive_mutex> lock(cgroups().mutex);
    auto& tasks = cgroups().tasks;
    if (auto it = tasks.find(child.pid); it != tasks.end()) {
        Held& h = it->second;
        if (auto cpu = h.cg->cpu_seconds()) {
            if (*cpu - h.base > info.cpu_s) info.cpu_s = *cpu - h.base;
            h.base = *cpu;  // empty from here on: where the next task counts from
            h.reusable = !h.killed && h.cg->known_empty();
        }
        if (!h.reusable) h.cg->kill();
        cgroups().settling[child.pid] = std::move(h);
        tasks.erase(it);
    }
    return info;
}

void release_task_cgroup(pid_t pid, bool reuse) {
    Held h;
    {
        std::lock_guard<std::recursive_mutex> lock(cgroups().mutex);
        auto& settling = cgroups().settling;
        auto it = settling.find(pid);
        if (it == settling.end()) return;
        h = std::move(it->second);
        settling.erase(it);
    }
    if (!reuse) h.reusable = false;
    settle(std::move(h));
}

void kill_all_tasks_signal_safe() {
    if (g_tree_set) kill_cgroup_tree_signal_safe(g_tree_path, g_tree_v2 != 0);
}

void kill_group(pid_t pgid, int sig) {
    if (pgid > 0) ::kill(-pgid, sig);
    // And whatever of the task left the group (setsid).
    if (sig == SIGKILL) {
        std::lock_guard<std::recursive_mutex> lock(cgroups().mutex);
        if (auto it = cgroups().tasks.find(pgid); it != cgroups().tasks.end()) {
            it->second.killed = true;
            it->second.cg->kill();
        }
    }
}

}  // namespace hearth
