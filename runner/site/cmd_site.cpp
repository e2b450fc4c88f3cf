// `hearth site`: the supervisor of one site on the host that runs its rank 0.
// It launches one long-lived mpirun over the site's nodes (rank 0: the site's
// dispatcher, runner/site_dispatcher; one worker rank per node), and outlives
// it: Open MPI 4.1 aborts the whole run when a host dies, so the supervisor
// relaunches on the live nodes within seconds, with a new run id; the new
// rank 0 tells the scheduler what the dead run held (WorkRequest.lost).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/hostlist.hpp"
#include "core/journal.hpp"
#include "core/listen.hpp"
#include "core/site_state.hpp"
#include "core/slurm_alloc.hpp"
#include "core/token_route.hpp"
#include "runner/cli/commands.hpp"
#include "runner/clients/credentials.hpp"
#include "runner/job/launch_plan.hpp"
#include "runner/job/mpirun_process.hpp"
#include "runner/job/supervisor.hpp"
#include "runner/site/site_dir.hpp"

namespace fs = std::filesystem;

namespace hearth {
namespace {

volatile sig_atomic_t g_signals = 0;
void on_signal(int) { g_signals = g_signals + 1; }

struct SiteNode {
    std::string name;  // the grid file's name (the scheduler places tasks by it)
    NodeSpec spec;     // where mpirun starts its worker
};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The site's nodes: a hostfile when given, else the grid file's nodes of the
// site, else the Slurm allocation `hearth site` runs in.
std::vector<SiteNode> site_nodes(const SiteArgs& a, const Grid& grid) {
    std::vector<SiteNode> nodes;
    if (a.hostfile) {
        std::ifstream in(*a.hostfile);
        if (!in)
            throw usage_error("cannot read hostfile '" + *a.hostfile + "': " + std::strerror(errno) +
                              "; give an Open MPI hostfile (one host a line, optional slots=N)");
        std::stringstream ss;
        ss << in.rdbuf();
        for (const auto& h : parse_hostfile(ss.str(), *a.hostfile))
            nodes.push_back({h.name, {h.name, h.slots.value_or(0), {}}});
        return nodes;
    }
    for (const auto& n : grid.nodes)
        if (n.site == a.site) nodes.push_back({n.name, {n.host, n.slots, n.gpus}});
    const auto alloc = read_slurm_allocation(process_env);
    if (!nodes.empty() && alloc) {
        // A site that is a Slurm cluster: the grid file lists its nodes, an
        // allocation (sbatch) gives some of them, with its tasks as slots.
        std::vector<SiteNode> given;
        std::string names;
        for (const auto& sn : alloc->nodes) {
            names += (names.empty() ? "" : ",") + sn.name;
            for (const auto& n : nodes)
                if (n.spec.host == sn.name || n.name == sn.name)
                    given.push_back({n.name, {n.spec.host, sn.tasks, n.spec.gpus}});
        }
        if (given.empty())
            throw usage_error("Slurm job " + alloc->job_id + "'s nodes (" + names +
                              ") are none of site '" + a.site + "''s nodes in " + a.grid +
                              "; list them there as [[node]] entries (host = the Slurm node name) "
                              "or ask Slurm for the site's nodes");
        return given;
    }
    if (!nodes.empty()) return nodes;
    if (alloc)
        for (const auto& sn : alloc->nodes) nodes.push_back({sn.name, {sn.name, sn.tasks, {}}});
    if (nodes.empty())
        throw usage_error("site '" + a.site + "' has no nodes in " + a.grid +
                          "; add [[node]] entries with site = \"" + a.site +
                          "\", give --hostfile, or run inside a Slurm allocation");
    return nodes;
}

// Gives each worker of the plan the grid's name of its node: plan_launch
// keeps the order of the nodes it was given within local and remote hosts.
void name_workers(LaunchPlan& plan, const std::vector<SiteNode>& nodes,
                  const std::set<std::string>& down) {
    std::vector<bool> used(nodes.size(), false);
    for (auto& w : plan.workers) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (used[i] || down.count(nodes[i].spec.host)) continue;
            const bool local = is_local_host(nodes[i].spec.host);
            if ((local && w.host == "localhost") || (!local && w.host == nodes[i].spec.host)) {
                used[i] = true;
                w.node = nodes[i].name;
                break;
            }
        }
    }
}

std::string new_run_id(const std::string& site, unsigned launch) {
    std::ostringstream o;
    o << site << "-" << std::hex << unix_ms_now() << "-" << std::dec << launch;
    return o.str();
}

// The ranks save what they hold within a few seconds of SIGTERM.
constexpr auto k_mpirun_grace = std::chrono::seconds(20);

// Waits for mpirun to end, or for a stop signal or restart() saying so (then
// stops it and waits).
int wait_mpirun(pid_t pid, const std::function<bool()>& restart) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    int status = 0;
    bool forwarded = false, killed = false;
    std::chrono::steady_clock::time_point forwarded_at;
    for (;;) {
        if (::waitpid(pid, &status, WNOHANG) == pid) break;
        if (!forwarded && (g_signals > 0 || restart())) {
            // mpirun passes SIGTERM to every rank: the dispatcher saves what it holds.
            ::kill(pid, SIGTERM);
            forwarded = true;
            forwarded_at = std::chrono::steady_clock::now();
        }
        // Open MPI 4.1's mpirun can deadlock in its PMIx server after the
        // ranks have gone: past the grace the site must not hang with it.
        if (forwarded && !killed &&
            std::chrono::steady_clock::now() - forwarded_at > k_mpirun_grace) {
            std::cerr << "hearth site: mpirun did not end within "
                      << std::chrono::duration_cast<std::chrono::seconds>(k_mpirun_grace).count()
                      << " s of SIGTERM; killed\n";
            ::kill(pid, SIGKILL);
            killed = true;
        }
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            ::poll(&p, 1, 200);
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    if (pidfd >= 0) ::close(pidfd);
    return status;
}

// Hosts found dead come back (a reboot, a link restored): every half minute
// the down ones are probed, and those that answer rejoin with a relaunch, but
// only while the site holds no attempt, so that no running task is cut short.
class Rejoin {
public:
    Rejoin(const SiteDir& dir, std::set<std::string>& down) : m_dir(dir), m_down(down) {}
    bool due() {
        if (m_down.empty()) return false;
        const auto now = std::chrono::steady_clock::now();
        if (now < m_next) return false;
        m_next = now + std::chrono::seconds(30);
        if (!held_from_text(read_text(m_dir.held())).empty()) return false;
        std::vector<std::string> hosts(m_down.begin(), m_down.end());
        auto dead = probe_hosts(hosts, std::chrono::seconds(5));
        if (!dead) return false;  // no launch agent to ask (Slurm): they stay out
        m_back.clear();
        for (const auto& h : hosts)
            if (!dead->count(h)) m_back.insert(h);
        return !m_back.empty();
    }
    void start() { m_next = std::chrono::steady_clock::now() + std::chrono::seconds(30); }
    // After the relaunch they asked for: the hosts back are up again.
    std::set<std::string> take_back() {
        for (const auto& h : m_back) m_down.erase(h);
        return std::exchange(m_back, {});
    }

private:
    const SiteDir& m_dir;
    std::set<std::string>& m_down;
    std::set<std::string> m_back;
    std::chrono::steady_clock::time_point m_next{};
};

}  // namespace

int cmd_site(const SiteArgs& a) {
    Grid grid = load_grid(a.grid);
    if (!grid.find_site(a.site)) {
        std::string names;
        for (const auto& s : grid.sites) names += (names.empty() ? "" : ", ") + s.name;
        throw usage_error("no site '" + a.site + "' in " + a.grid + " (its sites: " + names + ")");
    }
    if (a.server.rfind("http://", 0) != 0 && a.server.rfind("https://", 0) != 0)
        throw usage_error("--server '" + a.server + "' must be an http:// or https:// URL of hearth serve");
    // TLS by default between a site and its scheduler: the site's token and
    // every job's inputs and results cross that link.
    if (a.server.rfind("http://", 0) == 0 && !is_loopback_host(url_host_of(a.server)) &&
        !a.insecure_http)
        throw usage_error("--server " + a.server +
                          " is plain http to a host that is not loopback: the site's token and "
                          "the jobs would cross the network in clear; serve https (hearth serve "
                          "--tls-cert/--tls-key) and give --cacert, or --insecure-http on a "
                          "network you trust");
    std::vector<SiteNode> nodes = site_nodes(a, grid);

    SiteDir dir{a.state ? *a.state : "hearth-site-" + a.site};
    std::error_code ec;
    fs::create_directories(dir.path, ec);
    if (ec) throw usage_error("cannot create the state directory " + dir.path + ": " + ec.message());
    ::chmod(dir.path.c_str(), 0700);
    dir.path = fs::absolute(dir.path).string();
    // One supervisor per state directory: two would report each other's work lost.
    int lock = ::open(dir.file("lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0)
        throw usage_error("another 'hearth site' runs with the state directory " + dir.path);

    SiteSettings settings;
    settings.site = a.site;
    settings.server = a.server;
    settings.token_file = a.token_file ? fs::absolute(*a.token_file).string() : "";
    settings.cacert = a.cacert ? fs::absolute(*a.cacert).string() : "";
    settings.timeout_ms = a.timeout_ms;
    settings.max_buffer_bytes = a.max_buffer_mb << 20;
    for (const auto& t : grid.tenants)
        if (!t.user.empty()) settings.tenant_users[t.name] = t.user;
    // A token file that is unusable (mode, symlink): exit 2 now, not a
    // dispatcher failing every request later.
    if (!settings.token_file.empty()) {
        ::unsetenv("HEARTH_TOKEN");
        ::setenv("HEARTH_TOKEN_FILE", settings.token_file.c_str(), 1);
    }
    if (!settings.cacert.empty()) ::setenv("HEARTH_CACERT", settings.cacert.c_str(), 1);
    client_credentials();
    client_cacert();
    save_site_settings(dir, settings);

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    JobSpec spec;
    for (const auto& n : nodes) spec.nodes.push_back(n.spec);
    std::set<std::string> down;
    Rejoin rejoin(dir, down);
    unsigned launch = 0;
    unsigned quick_failures = 0;
    const std::string exe = self_exe();
    while (g_signals == 0) {
        LaunchPlan plan = plan_launch(spec, down);
        name_workers(plan, nodes, down);
        write_launch_files(dir.launch_dir(), plan);
        const std::string run = new_run_id(a.site, ++launch);
        auto argv = mpirun_argv(dir.launch_dir(), plan, std::vector<std::string>{exe, "site-rank", dir.path, run});
        const auto offset = size_of(dir.mpirun_log());
        const auto started_at = std::chrono::steady_clock::now();
        std::cerr << "hearth site " << a.site << ": launching run " << run << " on "
                  << plan.workers.size() << " node" << (plan.workers.size() == 1 ? "" : "s") << "\n";
        pid_t pid = launch_mpirun(argv, dir.mpirun_log());
        rejoin.start();
        bool rejoining = false;
        int status = wait_mpirun(pid, [&] { return rejoining = rejoin.due(); });
        if (g_signals > 0) break;
        if (rejoining) {
            for (const auto& h : rejoin.take_back())
                std::cerr << "hearth site " << a.site << ": host " << h << " answers again; relaunching with it\n";
            continue;
        }
        const bool started = read_text(dir.run()) == run + "\n";
        const std::string said = read_from(dir.mpirun_log(), offset);
        std::string why = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
        if (!started && launch == 1)
            throw Error("mpirun " + why + " before the site's dispatcher started: " +
                            mpirun_gist(said, 2) + " (full output: " + dir.mpirun_log() +
                            "; check that every node runs Open MPI and hearth, reachable by ssh)",
                        ExitCode::no_grid);
        auto dead = dead_hosts(plan, said);
        for (const auto& [host, reason] : dead) {
            down.insert(host);
            std::cerr << "hearth site " << a.site << ": lost host " << host << " (" << reason << ")\n";
        }
        std::size_t live = 0;
        for (const auto& n : nodes) live += down.count(n.spec.host) ? 0 : 1;
        if (live == 0) {
            // Every node is down: wait, then try them all again.
            std::cerr << "hearth site " << a.site << ": every node is down; trying again in 10 s\n";
            for (int i = 0; i < 50 && g_signals == 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
            down.clear();
            continue;
        }
        // A run that dies at once without a dead host to blame backs off,
        // from nothing to 30 s; one that ran a while relaunches at once.
        const bool quick = std::chrono::steady_clock::now() - started_at < std::chrono::seconds(10);
        quick_failures = quick && dead.empty() ? quick_failures + 1 : 0;
        std::cerr << "hearth site " << a.site << ": mpirun " << why << "; relaunching on " << live
                  << " node" << (live == 1 ? "" : "s") << " (" << mpirun_gist(said, 1) << ")\n";
        const unsigned wait_s = quick_failures == 0 ? 0 : std::min(30u, 1u << std::min(quick_failures, 5u));
        for (unsigned i = 0; i < wait_s * 5 && g_signals == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::cerr << "hearth site " << a.site << ": stopped; results not yet delivered stay in "
              << dir.results() << "\n";
    return 0;
}

}  // namespace hearth
