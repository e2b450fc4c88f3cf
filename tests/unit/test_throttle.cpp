// Throttle actuators against fake cgroup and powercap trees, real process
// groups (SIGSTOP/SIGCONT seen in /proc), and the real cgroup v1 where the
// machine has one we may write.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/proc_stat.hpp"
#include "plugins/throttle/actuator.hpp"
#include "tests/unit/support.hpp"

using namespace std::chrono_literals;
using hearth::ThrottleTask;
using hearth::test::TempDir;
namespace fs = std::filesystem;

extern char** environ;

namespace {

void put(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

std::string slurp(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string first_line(const fs::path& file) {
    std::string text = slurp(file);
    return text.substr(0, text.find('\n'));
}

std::vector<pid_t> pids_in(const fs::path& procs_file) {
    std::vector<pid_t> out;
    std::istringstream in(slurp(procs_file));
    long long p;
    while (in >> p) out.push_back(static_cast<pid_t>(p));
    std::sort(out.begin(), out.end());
    return out;
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// Waits for something the kernel does asynchronously (a signalled process
// stopping, a fork). The deadline only bounds a broken run; tests assert the
// condition, never how long it took.
bool eventually(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// The state and process group of a live process ('?' and 0 when gone).
std::pair<char, pid_t> proc_stat(pid_t pid) {
    auto st = hearth::parse_pid_stat(slurp("/proc/" + std::to_string(pid) + "/stat"));
    return st ? std::pair<char, pid_t>{st->state, st->pgrp} : std::pair<char, pid_t>{'?', 0};
}

char state_of(pid_t pid) {
    return proc_stat(pid).first;
}

bool reaches(pid_t pid, char state) {
    return eventually([&] { return state_of(pid) == state; });
}

std::vector<pid_t> group_members(pid_t pgid) {
    std::vector<pid_t> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string n = e.path().filename().string();
        if (n.empty() || !std::all_of(n.begin(), n.end(), ::isdigit)) continue;
        pid_t pid = static_cast<pid_t>(std::stoll(n));
        if (proc_stat(pid).second == pgid) out.push_back(pid);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A child in a process group of its own, as the worker starts each task;
// killed (with its group) and reaped however the test ends. Scripts exec
// their last command, or reap their children: killed orphans can stay
// zombies where nothing reaps them (some containers), and keep the group alive.
class Child {
public:
    explicit Child(const std::string& script) {
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        std::string sh = "/bin/sh", c = "-c", s = script;
        char* argv[] = {sh.data(), c.data(), s.data(), nullptr};
        int rc = posix_spawn(&m_pid, "/bin/sh", nullptr, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        BOOST_TEST_REQUIRE(rc == 0);
        // The group exists once the child has run setpgid.
        BOOST_TEST_REQUIRE(eventually([&] { return proc_stat(m_pid).second == m_pid; }));
    }
    ~Child() { end(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    pid_t pid() const { return m_pid; }
    void end() {
        if (m_pid <= 0) return;
        ::kill(-m_pid, SIGKILL);
        ::waitpid(m_pid, nullptr, 0);
        m_pid = -1;
    }

private:
    pid_t m_pid = -1;
};

// Runs `f` as user nobody in a child process and returns what it returned:
// root passes every permission check, and the tests need one that fails.
std::string as_nobody(const std::function<std::string()>& f) {
    if (::geteuid() != 0) return f();
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string out = "(setuid failed)";
        if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
            try {
                out = f();
            } catch (const std::exception& e) {
                out = std::string("(threw) ") + e.what();
            }
        }
        ssize_t n = ::write(fds[1], out.data(), out.size());
        ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST(WIFEXITED(status));
    return out;
}

// A cgroup v1 'cpu' hierarchy as plain files, with the real /proc beside it.
fs::path fake_cgroup_v1(const TempDir& root, const std::string& dir = "cpu") {
    fs::path cpu = root.path() / "sys/fs/cgroup" / dir;
    put(cpu / "cpu.cfs_quota_us", "-1\n");
    put(cpu / "cpu.cfs_period_us", "100000\n");
    put(cpu / "cgroup.procs", "");
    fs::create_directory_symlink("/proc", root.path() / "proc");
    return cpu;
}

fs::path fake_cgroup_v2(const TempDir& root, const std::string& controllers) {
    fs::path base = root.path() / "sys/fs/cgroup";
    put(base / "cgroup.controllers", controllers + "\n");
    put(base / "cgroup.subtree_control", "\n");
    put(base / "cgroup.procs", "");
    fs::create_directory_symlink("/proc", root.path() / "proc");
    return base;
}

void add_zone(const fs::path& dir, const std::string& name, long long limit_uw,
              long long max_uw = 0, int enabled = 1) {
    put(dir / "name", name + "\n");
    put(dir / "energy_uj", "123456\n");
    put(dir / "constraint_0_name", "long_term\n");
    put(dir / "constraint_0_power_limit_uw", std::to_string(limit_uw) + "\n");
    put(dir / "constraint_1_name", "short_term\n");
    put(dir / "constraint_1_power_limit_uw", std::to_string(limit_uw * 2) + "\n");
    if (max_uw > 0) put(dir / "constraint_0_max_power_uw", std::to_string(max_uw) + "\n");
    put(dir / "enabled", std::to_string(enabled) + "\n");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(throttle)

// ---- policy ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(throttle_order_puts_low_ipc_first_and_unknown_last) {
    std::vector<ThrottleTask> tasks = {{30, -1}, {10, 1.5}, {20, 0.4},
                                       {5, -1},  {40, 0.4}, {50, std::nan("")}};
    std::vector<pid_t> order;
    for (const auto& t : hearth::throttle_order(tasks)) order.push_back(t.pgid);
    BOOST_TEST(order == (std::vector<pid_t>{20, 40, 10, 5, 30, 50}),
               boost::test_tools::per_element());
    BOOST_TEST(hearth::throttle_order({}).empty());
}

// ---- cgroup ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cgroup_v1_moves_every_process_of_the_group_and_sets_the_quota) {
    TempDir root;
    fs::path cpu = fake_cgroup_v1(root);
    // Three processes in one group: the shell and its two children.
    Child task("sleep 30 & sleep 30 & wait");
    BOOST_TEST_REQUIRE(eventually([&] { return group_members(task.pid()).size() == 3; }));
    const std::vector<pid_t> members = group_members(task.pid());

    auto act = hearth::make_cgroup_actuator(root.path().string(), 2);
    BOOST_TEST(act->name() == "throttle/cgroup");
    BOOST_TEST(!act->unavailable().has_value());
    BOOST_TEST(act->state() == "cgroup v1 no quota (2 CPUs)");

    act->apply(0.45, {{task.pid(), -1}});
    fs::path child = cpu / "hearth";
    BOOST_TEST(fs::is_directory(child));
    BOOST_TEST(pids_in(child / "cgroup.procs") == members, boost::test_tools::per_element());
    BOOST_TEST(first_line(child / "cpu.cfs_quota_us") == "90000");  // 45% of 2 x 100 ms
    BOOST_TEST(first_line(child / "cpu.cfs_period_us") == "100000");
    BOOST_TEST(act->state() == "cgroup v1 quota 45% of 2 CPUs");
    BOOST_TEST(first_line(cpu / "cpu.cfs_quota_us") == "-1");  // the parent is left alone

    // Each process is moved once, however often the controller steps.
    act->apply(0.45, {{task.pid(), -1}});
    BOOST_TEST(pids_in(child / "cgroup.procs").size() == 3u);

    act->apply(0.0, {{task.pid(), -1}});  // at least 1% of a CPU: the kernel's minimum
    BOOST_TEST(first_line(child / "cpu.cfs_quota_us") == "2000");
    BOOST_TEST(act->state() == "cgroup v1 quota 1% of 2 CPUs");

    act->apply(1.0, {{task.pid(), -1}});
    BOOST_TEST(first_line(child / "cpu.cfs_quota_us") == "-1");
    BOOST_TEST(act->state() == "cgroup v1 no quota (2 CPUs)");

    act->apply(0.3, {{task.pid(), -1}});
    BOOST_TEST(first_line(child / "cpu.cfs_quota_us") == "60000");
    act->release();
    BOOST_TEST(first_line(child / "cpu.cfs_quota_us") == "-1");

    // The shell reaps its children (nothing here reaps orphans), then exits.
    for (pid_t p : members)
        if (p != task.pid()) ::kill(p, SIGKILL);
    BOOST_TEST(eventually([&] { return group_members(task.pid()).size() == 1; }));
}

BOOST_AUTO_TEST_CASE(cgroup_v1_found_under_cpu_cpuacct_and_a_gone_group_is_no_error) {
    TempDir root;
    fs::path cpu = fake_cgroup_v1(root, "cpu,cpuacct");
    pid_t gone = 0;
    {
        Child task("exit 0");
        gone = task.pid();
    }
    auto act = hearth::make_cgroup_actuator(root.path().string(), 1);
    BOOST_TEST(!act->unavailable().has_value());
    act->apply(0.5, {{gone, -1}});
    BOOST_TEST(pids_in(cpu / "hearth/cgroup.procs").empty());
    BOOST_TEST(first_line(cpu / "hearth/cpu.cfs_quota_us") == "50000");
    BOOST_TEST(act->state() == "cgroup v1 quota 50% of 1 CPU");
}

BOOST_AUTO_TEST_CASE(cgroup_v2_hands_the_cpu_controller_down_and_writes_cpu_max) {
    TempDir root;
    fs::path base = fake_cgroup_v2(root, "cpuset cpu io memory pids");
    Child task("exec sleep 30");
    auto act = hearth::make_cgroup_actuator(root.path().string(), 4, "hearth-a");
    BOOST_TEST(!act->unavailable().has_value());
    act->apply(0.25, {{task.pid(), 0.8}});
    BOOST_TEST(contains(slurp(base / "cgroup.subtree_control"), "+cpu"));
    BOOST_TEST(first_line(base / "hearth-a/cpu.max") == "100000 100000");
    BOOST_TEST(pids_in(base / "hearth-a/cgroup.procs") == std::vector<pid_t>{task.pid()});
    BOOST_TEST(act->state() == "cgroup v2 quota 25% of 4 CPUs");
    act->apply(1.0, {{task.pid(), 0.8}});
    BOOST_TEST(first_line(base / "hearth-a/cpu.max") == "max 100000");
    BOOST_TEST(act->state() == "cgroup v2 no quota (4 CPUs)");
    act->apply(0.5, {});
    BOOST_TEST(first_line(base / "hearth-a/cpu.max") == "200000 100000");
    act->release();
    BOOST_TEST(first_line(base / "hearth-a/cpu.max") == "max 100000");
}

BOOST_AUTO_TEST_CASE(cgroup_unavailable_says_why_and_what_to_do) {
    TempDir none;
    auto act = hearth::make_cgroup_actuator(none.path().string(), 2);
    BOOST_TEST_REQUIRE(act->unavailable().has_value());
    BOOST_TEST(*act->unavailable() == "no cgroup cpu controller under " + none.path().string() +
                                          "/sys/fs/cgroup (v1 'cpu' or v2 'cpu.max'); mount it "
                                          "or use the sigstop actuator");
    BOOST_CHECK_THROW(act->apply(0.5, {}), hearth::Error);
    BOOST_TEST(act->state() == "cgroup unavailable");

    TempDir v2;
    fake_cgroup_v2(v2, "cpuset io memory pids");
    auto no_cpu = hearth::make_cgroup_actuator(v2.path().string(), 2);
    BOOST_TEST_REQUIRE(no_cpu->unavailable().has_value());
    BOOST_TEST(contains(*no_cpu->unavailable(), "has no 'cpu' controller"));
    BOOST_TEST(contains(*no_cpu->unavailable(), "use the sigstop actuator"));

    BOOST_CHECK_EXCEPTION(hearth::make_cgroup_actuator(v2.path().string(), 2, "../x"),
                          hearth::Error, hearth::test::usage_mentioning("'../x'"));
}

BOOST_AUTO_TEST_CASE(cgroup_not_writable_names_the_directory_and_the_fix) {
    TempDir root;
    fs::path cpu = fake_cgroup_v1(root);
    fs::permissions(root.path(), fs::perms(0755));  // nobody may look, not write
    std::string why = as_nobody([&] {
        return hearth::make_cgroup_actuator(root.path().string(), 2)->unavailable().value_or("");
    });
    BOOST_TEST(why == "cannot create " + (cpu / "hearth").string() +
                          ": Permission denied; run grid-agent as root or delegate a cgroup to "
                          "its user");
}

BOOST_AUTO_TEST_CASE(cgroup_child_that_is_not_a_directory_fails_apply_clearly) {
    TempDir root;
    fs::path cpu = fake_cgroup_v1(root);
    put(cpu / "hearth", "a file in the way\n");
    auto act = hearth::make_cgroup_actuator(root.path().string(), 2);
    BOOST_CHECK_EXCEPTION(act->apply(0.5, {}), hearth::Error, [&](const hearth::Error& e) {
        BOOST_TEST_INFO("message: " << e.what());
        return contains(e.what(), "cannot create " + (cpu / "hearth").string()) &&
               contains(e.what(), "Not a directory");
    });
}

// The kernel's own cgroup v1, where this machine has one we may write: the
// process lands in it, the quota reads back, and the kernel throttles it.
BOOST_AUTO_TEST_CASE(cgroup_v1_real_kernel_throttles_a_busy_process) {
    const std::string cpu = "/sys/fs/cgroup/cpu";
    if (fs::exists("/sys/fs/cgroup/cgroup.controllers") || !fs::exists(cpu + "/cpu.cfs_quota_us")) {
        BOOST_TEST_MESSAGE("skipped: no cgroup v1 cpu hierarchy at " << cpu);
        return;
    }
    if (::access(cpu.c_str(), W_OK) != 0) {
        BOOST_TEST_MESSAGE("skipped: " << cpu << " is not writable (run the tests as root)");
        return;
    }
    const std::string name = "hearth-unit-" + std::to_string(::getpid());
    const std::string dir = cpu + "/" + name;
    Child busy("while :; do :; done");  // the shell itself spins: one process
    // Cleanup whatever happens: out of the cgroup, killed, cgroup removed.
    struct Cleanup {
        Child& child;
        std::string cpu, dir;
        ~Cleanup() {
            std::ofstream(cpu + "/cgroup.procs") << child.pid() << "\n";
            child.end();
            ::rmdir(dir.c_str());
        }
    } cleanup{busy, cpu, dir};

    auto act = hearth::make_cgroup_actuator("", 1, name);
    BOOST_TEST_REQUIRE(!act->unavailable().has_value());
    act->apply(0.1, {{busy.pid(), -1}});
    auto procs = pids_in(dir + "/cgroup.procs");
    BOOST_TEST(std::count(procs.begin(), procs.end(), busy.pid()) == 1);
    BOOST_TEST(contains(slurp("/proc/" + std::to_string(busy.pid()) + "/cgroup"), ":/" + name));
    BOOST_TEST(first_line(dir + "/cpu.cfs_quota_us") == "10000");
    BOOST_TEST(first_line(dir + "/cpu.cfs_period_us") == "100000");
    BOOST_TEST(act->state() == "cgroup v1 quota 10% of 1 CPU");
    // A busy loop under 10 ms per 100 ms is throttled in its first period.
    BOOST_TEST(eventually([&] {
        std::istringstream stat(slurp(dir + "/cpu.stat"));
        std::string key;
        long long value = 0;
        while (stat >> key >> value)
            if (key == "nr_throttled") return value > 0;
        return false;
    }));
    act->release();
    BOOST_TEST(first_line(dir + "/cpu.cfs_quota_us") == "-1");
}

// ---- sigstop -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sigstop_duty_cycles_all_tasks_when_no_ipc_is_known) {
    auto clock = std::make_shared<hearth::ManualClock>();
    auto act = hearth::make_sigstop_actuator(clock, 1.0);
    BOOST_TEST(act->name() == "throttle/sigstop");
    BOOST_TEST(!act->unavailable().has_value());
    Child a("exec sleep 30"), b("exec sleep 30");
    BOOST_TEST_REQUIRE(reaches(a.pid(), 'S'));  // asleep in sleep(1), not still starting
    BOOST_TEST_REQUIRE(reaches(b.pid(), 'S'));
    std::vector<ThrottleTask> tasks = {{a.pid(), -1}, {b.pid(), -1}};

    act->apply(0.3, tasks);  // runs for the first 300 ms of each second
    BOOST_TEST(state_of(a.pid()) == 'S');
    BOOST_TEST(state_of(b.pid()) == 'S');
    clock->advance(400ms);
    act->tick(clock->now());
    BOOST_TEST(reaches(a.pid(), 'T'));
    BOOST_TEST(reaches(b.pid(), 'T'));
    BOOST_TEST(act->state() == "sigstop duty cycle 30% of 1 s over 2 tasks (stopped)");
    clock->advance(500ms);  // 900 ms: still in the stopped part
    act->tick(clock->now());
    BOOST_TEST(state_of(a.pid()) == 'T');
    clock->advance(200ms);  // 1.1 s: the next period runs
    act->tick(clock->now());
    BOOST_TEST(reaches(a.pid(), 'S'));
    BOOST_TEST(reaches(b.pid(), 'S'));
    BOOST_TEST(act->state() == "sigstop duty cycle 30% of 1 s over 2 tasks (running)");

    act->apply(0.0, tasks);  // idle power only: everything stops at once
    BOOST_TEST(reaches(a.pid(), 'T'));
    BOOST_TEST(reaches(b.pid(), 'T'));
    BOOST_TEST(act->state() == "sigstop all 2 tasks stopped");
    act->apply(1.0, tasks);
    BOOST_TEST(reaches(a.pid(), 'S'));
    BOOST_TEST(reaches(b.pid(), 'S'));
    BOOST_TEST(act->state() == "sigstop no limit (2 tasks)");

    act->apply(0.999, tasks);  // close enough to no limit: never stops
    clock->advance(999'900us);
    act->tick(clock->now());
    BOOST_TEST(state_of(a.pid()) == 'S');

    act->apply(0.0, tasks);
    BOOST_TEST(reaches(a.pid(), 'T'));
    act->release();
    BOOST_TEST(reaches(a.pid(), 'S'));
    BOOST_TEST(reaches(b.pid(), 'S'));
    clock->advance(600ms);
    act->tick(clock->now());  // released: ticks change nothing
    BOOST_TEST(state_of(a.pid()) == 'S');
}

BOOST_AUTO_TEST_CASE(sigstop_with_ipc_stops_the_lowest_ipc_tasks_for_the_whole_period) {
    auto clock = std::make_shared<hearth::ManualClock>();
    auto act = hearth::make_sigstop_actuator(clock, 1.0);
    Child lo("exec sleep 30"), hi("exec sleep 30"), unknown("exec sleep 30");
    std::vector<ThrottleTask> tasks = {{hi.pid(), 2.0}, {unknown.pid(), -1}, {lo.pid(), 0.5}};
    for (pid_t p : {lo.pid(), hi.pid(), unknown.pid()}) BOOST_TEST_REQUIRE(reaches(p, 'S'));

    act->apply(0.5, tasks);  // round(0.5 x 3) = 2 stopped: lowest IPC, then the next known
    BOOST_TEST(reaches(lo.pid(), 'T'));
    BOOST_TEST(reaches(hi.pid(), 'T'));
    BOOST_TEST(state_of(unknown.pid()) == 'S');
    BOOST_TEST(act->state() == "sigstop 2 of 3 tasks stopped (lowest IPC first)");
    for (int i = 0; i < 5; ++i) {  // no duty cycle: the choice holds all period
        clock->advance(300ms);
        act->tick(clock->now());
        BOOST_TEST(state_of(lo.pid()) == 'T');
        BOOST_TEST(state_of(unknown.pid()) == 'S');
    }

    act->apply(0.8, tasks);  // round(0.2 x 3) = 1
    BOOST_TEST(reaches(hi.pid(), 'S'));
    BOOST_TEST(state_of(lo.pid()) == 'T');
    BOOST_TEST(act->state() == "sigstop 1 of 3 tasks stopped (lowest IPC first)");

    act->release();
    BOOST_TEST(reaches(lo.pid(), 'S'));
    BOOST_TEST(state_of(hi.pid()) == 'S');
    BOOST_TEST(state_of(unknown.pid()) == 'S');
}

BOOST_AUTO_TEST_CASE(sigstop_drops_a_task_that_ended_and_resumes_one_that_left) {
    auto clock = std::make_shared<hearth::ManualClock>();
    auto act = hearth::make_sigstop_actuator(clock, 2.0);
    Child a("exec sleep 30"), b("exec sleep 30"), c("exec sleep 30");
    act->apply(0.5, {{a.pid(), -1}, {b.pid(), -1}, {c.pid(), -1}});
    a.end();  // exits and is reaped while running: its group is gone (ESRCH)
    clock->advance(1500ms);
    BOOST_CHECK_NO_THROW(act->tick(clock->now()));
    BOOST_TEST(reaches(b.pid(), 'T'));
    BOOST_TEST(reaches(c.pid(), 'T'));
    BOOST_TEST(act->state() == "sigstop duty cycle 50% of 2 s over 2 tasks (stopped)");

    // c leaves the list (requeued elsewhere): it must not stay stopped.
    act->apply(0.5, {{b.pid(), -1}});
    BOOST_TEST(reaches(c.pid(), 'S'));
    BOOST_TEST(state_of(b.pid()) == 'T');
    BOOST_TEST(act->state() == "sigstop duty cycle 50% of 2 s over 1 task (stopped)");
    BOOST_CHECK_NO_THROW(act->release());
    BOOST_TEST(reaches(b.pid(), 'S'));
}

BOOST_AUTO_TEST_CASE(sigstop_destroyed_resumes_and_never_signals_its_own_group) {
    auto clock = std::make_shared<hearth::ManualClock>();
    Child a("exec sleep 30");
    {
        auto act = hearth::make_sigstop_actuator(clock);
        act->apply(0.0, {{a.pid(), -1}});
        BOOST_TEST(reaches(a.pid(), 'T'));
    }
    BOOST_TEST(reaches(a.pid(), 'S'));

    auto act = hearth::make_sigstop_actuator(clock);
    BOOST_CHECK_THROW(act->apply(0.0, {{0, -1}}), hearth::Error);
    BOOST_CHECK_THROW(act->apply(0.0, {{1, -1}}), hearth::Error);
    BOOST_CHECK_THROW(act->apply(0.0, {{::getpgrp(), -1}}), hearth::Error);
    BOOST_CHECK_EXCEPTION(hearth::make_sigstop_actuator(clock, 0.0), hearth::Error,
                          hearth::test::usage_mentioning("period"));
}

// ---- powercap ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(powercap_limits_the_package_zone_only_and_reports_the_read_back) {
    TempDir root;
    fs::path pc = root.path() / "sys/class/powercap";
    add_zone(pc / "intel-rapl:0", "package-0", 65'000'000, 95'000'000);
    add_zone(pc / "intel-rapl:0:0", "core", 40'000'000);
    add_zone(pc / "intel-rapl:1", "psys", 150'000'000);
    add_zone(pc / "intel-rapl-mmio:0", "package-0", 65'000'000);  // same package again

    auto act =
        hearth::make_powercap_actuator(root.path().string(), hearth::Watts{20}, hearth::Watts{120});
    BOOST_TEST(act->name() == "throttle/powercap");
    BOOST_TEST(!act->unavailable().has_value());
    BOOST_TEST(act->state() == "powercap no limit set (65.0 W over 1 package in force)");

    act->apply(0.5, {});  // 20 + 0.5 x (120 - 20) = 70 W
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "70000000");
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_1_power_limit_uw") == "130000000");
    BOOST_TEST(first_line(pc / "intel-rapl:0:0/constraint_0_power_limit_uw") == "40000000");
    BOOST_TEST(first_line(pc / "intel-rapl:1/constraint_0_power_limit_uw") == "150000000");
    BOOST_TEST(first_line(pc / "intel-rapl-mmio:0/constraint_0_power_limit_uw") == "65000000");
    BOOST_TEST(act->state() == "powercap limit 70.0 W over 1 package");

    // The hardware keeps a quantised value: state() tells what is in force.
    put(pc / "intel-rapl:0/constraint_0_power_limit_uw", "68500000\n");
    BOOST_TEST(act->state() == "powercap limit 68.5 W over 1 package");

    act->apply(0.99, {});  // 119 W, above the zone's 95 W maximum
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "95000000");

    act->apply(1.0, {});  // no limit: the one the node had
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "65000000");
    act->apply(0.0, {});
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "20000000");
    act->release();
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "65000000");
    BOOST_TEST(act->state() == "powercap no limit set (65.0 W over 1 package in force)");
}

BOOST_AUTO_TEST_CASE(powercap_splits_the_budget_across_packages_and_enables_the_limit) {
    TempDir root;
    fs::path pc = root.path() / "sys/class/powercap";
    add_zone(pc / "intel-rapl:0", "package-0", 100'000'000, 0, 0);
    add_zone(pc / "intel-rapl:1", "package-1", 100'000'000, 0, 1);
    auto act =
        hearth::make_powercap_actuator(root.path().string(), hearth::Watts{20}, hearth::Watts{120});
    act->apply(0.25, {});  // 45 W over two packages
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "22500000");
    BOOST_TEST(first_line(pc / "intel-rapl:1/constraint_0_power_limit_uw") == "22500000");
    BOOST_TEST(first_line(pc / "intel-rapl:0/enabled") == "1");  // a disabled PL1 limits nothing
    BOOST_TEST(act->state() == "powercap limit 45.0 W over 2 packages");
    act->release();
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "100000000");
    BOOST_TEST(first_line(pc / "intel-rapl:0/enabled") == "0");
    BOOST_TEST(first_line(pc / "intel-rapl:1/enabled") == "1");
}

BOOST_AUTO_TEST_CASE(powercap_without_a_limit_says_why) {
    TempDir root;
    fs::path pc = root.path() / "sys/class/powercap";
    // AMD: a package zone with an energy counter and no constraints.
    put(pc / "intel-rapl:0/name", "package-0\n");
    put(pc / "intel-rapl:0/energy_uj", "1000\n");
    add_zone(pc / "intel-rapl:1", "psys", 150'000'000);
    auto act =
        hearth::make_powercap_actuator(root.path().string(), hearth::Watts{20}, hearth::Watts{120});
    BOOST_TEST_REQUIRE(act->unavailable().has_value());
    BOOST_TEST(*act->unavailable() == "no writable RAPL power limit under " + pc.string() +
                                          " (VMs and AMD parts have none); use the cgroup or "
                                          "sigstop actuator");
    BOOST_CHECK_THROW(act->apply(0.5, {}), hearth::Error);
    BOOST_TEST(act->state() == "powercap unavailable");

    TempDir empty;  // a VM: no powercap at all
    auto vm = hearth::make_powercap_actuator(empty.path().string(), hearth::Watts{20},
                                             hearth::Watts{120});
    BOOST_TEST(vm->unavailable().has_value());

    BOOST_CHECK_EXCEPTION(hearth::make_powercap_actuator(empty.path().string(), hearth::Watts{120},
                                                         hearth::Watts{20}),
                          hearth::Error, hearth::test::usage_mentioning("idle 120"));
}

BOOST_AUTO_TEST_CASE(powercap_not_writable_reads_as_locked_or_not_root) {
    TempDir root;
    fs::path pc = root.path() / "sys/class/powercap";
    add_zone(pc / "intel-rapl:0", "package-0", 65'000'000);
    fs::permissions(root.path(), fs::perms(0755));
    std::string why = as_nobody([&] {
        return hearth::make_powercap_actuator(root.path().string(), hearth::Watts{20},
                                              hearth::Watts{120})
            ->unavailable()
            .value_or("");
    });
    BOOST_TEST(why == "RAPL power limit " +
                          (pc / "intel-rapl:0/constraint_0_power_limit_uw").string() +
                          " is not writable (Permission denied): locked by the BIOS or not "
                          "root; run grid-agent as root or use the cgroup or sigstop actuator");
    BOOST_TEST(first_line(pc / "intel-rapl:0/constraint_0_power_limit_uw") == "65000000");
}

// ---- a task's own cgroup (core/cgroup) -------------------------------------

BOOST_AUTO_TEST_CASE(sigstop_freezes_a_task_through_its_v2_cgroup_not_its_group) {
    TempDir root;
    const fs::path cg = root.path() / "sys/fs/cgroup/unified/hearth-w7/t0";
    put(cg / "cgroup.freeze", "0\n");
    auto clock = std::make_shared<hearth::ManualClock>();
    auto act = hearth::make_sigstop_actuator(clock, 1.0);
    Child a("exec sleep 30");
    BOOST_TEST_REQUIRE(reaches(a.pid(), 'S'));
    std::vector<ThrottleTask> tasks = {ThrottleTask{a.pid(), -1, cg.string(), true}};
    act->apply(0.0, tasks);
    BOOST_TEST(first_line(cg / "cgroup.freeze") == "1");
    // The kernel's freezer, not SIGSTOP: the task cannot SIGCONT itself.
    BOOST_TEST(state_of(a.pid()) == 'S');
    BOOST_TEST(act->state() == "sigstop all 1 task stopped");
    act->apply(1.0, tasks);
    BOOST_TEST(first_line(cg / "cgroup.freeze") == "0");
    act->apply(0.0, tasks);
    act->release();
    BOOST_TEST(first_line(cg / "cgroup.freeze") == "0");
}

BOOST_AUTO_TEST_CASE(sigstop_counts_a_task_whose_cgroup_is_gone_as_ended) {
    TempDir root;
    const fs::path cg = root.path() / "sys/fs/cgroup/unified/hearth-w7/t1";  // never made
    auto clock = std::make_shared<hearth::ManualClock>();
    auto act = hearth::make_sigstop_actuator(clock, 1.0);
    Child a("exec sleep 30");
    act->apply(0.0, {ThrottleTask{a.pid(), -1, cg.string(), true}});
    BOOST_TEST(act->state() == "sigstop all 0 tasks stopped");
    BOOST_TEST(state_of(a.pid()) != 'T');
}

BOOST_AUTO_TEST_CASE(cgroup_moves_every_process_of_a_task_cgroup_in_another_hierarchy) {
    // v1 cpu beside the v2 tree the worker made (this sandbox's layout):
    // every pid the task's cgroup lists joins the quota, setsid'd or not.
    TempDir root;
    fs::path cpu = fake_cgroup_v1(root);
    const fs::path cg = root.path() / "sys/fs/cgroup/unified/hearth-w7/t0";
    put(cg / "cgroup.procs", "4101\n4107\n");
    auto act = hearth::make_cgroup_actuator(root.path().string(), 2);
    act->apply(0.5, {ThrottleTask{4101, -1, cg.string(), true}});
    BOOST_TEST(pids_in(cpu / "hearth/cgroup.procs") == (std::vector<pid_t>{4101, 4107}),
               boost::test_tools::per_element());
    BOOST_TEST(first_line(cpu / "hearth/cpu.cfs_quota_us") == "100000");
}

BOOST_AUTO_TEST_CASE(cgroup_quotas_a_task_cgroup_in_its_own_hierarchy_in_place) {
    // v1 cpu,cpuacct co-mounted: the worker's task cgroups are in the
    // quota's hierarchy; moving their processes would take them out of
    // reach of a cancel, so each task cgroup gets its share in place.
    TempDir root;
    fs::path cpu = fake_cgroup_v1(root, "cpu,cpuacct");
    const fs::path t0 = cpu / "hearth-w7/t0", t1 = cpu / "hearth-w7/t1";
    put(t0 / "cpu.cfs_quota_us", "-1\n");
    put(t1 / "cpu.cfs_quota_us", "-1\n");
    put(t0 / "cgroup.procs", "4101\n");
    auto act = hearth::make_cgroup_actuator(root.path().string(), 2);
    act->apply(0.5, {ThrottleTask{4101, -1, t0.string(), false},
                     ThrottleTask{4201, -1, t1.string(), false}});
    // 50% of 2 CPUs: 100 ms per 100 ms period, half each.
    BOOST_TEST(first_line(t0 / "cpu.cfs_quota_us") == "50000");
    BOOST_TEST(first_line(t1 / "cpu.cfs_quota_us") == "50000");
    BOOST_TEST(pids_in(cpu / "hearth/cgroup.procs").empty());
    // t1 ended: its quota is lifted, t0 takes the whole.
    act->apply(0.5, {ThrottleTask{4101, -1, t0.string(), false}});
    BOOST_TEST(first_line(t1 / "cpu.cfs_quota_us") == "-1");
    BOOST_TEST(first_line(t0 / "cpu.cfs_quota_us") == "100000");
    act->apply(1.0, {ThrottleTask{4101, -1, t0.string(), false}});
    BOOST_TEST(first_line(t0 / "cpu.cfs_quota_us") == "-1");
}

BOOST_AUTO_TEST_CASE(cgroup_says_how_to_fix_a_v2_task_cgroup_without_the_cpu_controller) {
    TempDir root;
    fs::path base = fake_cgroup_v2(root, "cpu memory");
    const fs::path t0 = base / "site.service/hearth-w7/t0";
    put(t0 / "cgroup.procs", "4101\n");  // no cpu.max: not delegated
    auto act = hearth::make_cgroup_actuator(root.path().string(), 2);
    try {
        act->apply(0.5, {ThrottleTask{4101, -1, t0.string(), true}});
        BOOST_FAIL("a task cgroup without cpu.max was accepted");
    } catch (const hearth::Error& e) {
        BOOST_TEST(contains(e.what(), "has no cpu.max"), e.what());
        BOOST_TEST(contains(e.what(), "Delegate=cpu"), e.what());
    }
    BOOST_TEST(!fs::exists(t0 / "cpu.max"));
}

BOOST_AUTO_TEST_SUITE_END()
