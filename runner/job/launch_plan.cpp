#include "runner/job/launch_plan.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/split.hpp"
#include "runner/job/job_items.hpp"

namespace hearth {

namespace {

// An address of one of this machine's interfaces: a node listed by address
// (198.18.0.2) that is the machine itself must share the dispatcher's
// hostfile line, or Open MPI sees the machine twice and refuses the slots.
bool is_own_address(const std::string& host) {
    in_addr v4{};
    in6_addr v6{};
    const bool is4 = ::inet_pton(AF_INET, host.c_str(), &v4) == 1;
    const bool is6 = !is4 && ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
    if (!is4 && !is6) return false;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return false;
    bool found = false;
    for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
        if (!a->ifa_addr) continue;
        if (is4 && a->ifa_addr->sa_family == AF_INET)
            found = reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr == v4.s_addr;
        if (is6 && a->ifa_addr->sa_family == AF_INET6)
            found = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr, &v6,
                                sizeof v6) == 0;
    }
    ::freeifaddrs(list);
    return found;
}

}  // namespace

bool is_local_host(const std::string& host) {
    if (host == "localhost" || host == "127.0.0.1" || host == "::1") return true;
    if (is_own_address(host)) return true;
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return false;
    std::string self(name);
    if (host == self) return true;
    auto dot = self.find('.');
    return dot != std::string::npos && host == self.substr(0, dot);
}

LaunchPlan plan_launch(const JobSpec& spec, const std::set<std::string>& down) {
    std::vector<NodeSpec> nodes;
    for (const auto& n : spec.nodes)
        if (!down.count(n.host)) nodes.push_back(n);
    if (spec.nodes.empty()) nodes.push_back({"localhost", 0, {}});
    LaunchPlan plan;
    // Inside an allocation (nodes from it, or --hosts narrowing it).
    const char* job = std::getenv("SLURM_JOB_ID");
    const bool slurm = spec.slurm || (job && *job);
    plan.oversubscribe = slurm;
    // Local nodes first: they share the dispatcher's hostfile line.
    std::vector<NodeSpec> ordered;
    for (const auto& n : nodes)
        if (is_local_host(n.host)) ordered.push_back(n);
    unsigned local_workers = static_cast<unsigned>(ordered.size()) * spec.workers_per_host;
    // Under Slurm every rank must be on an allocated node: with none here,
    // the first node holds the dispatcher.
    std::string head = "localhost";
    if (slurm && ordered.empty() && !nodes.empty()) {
        head = nodes.front().host;
        local_workers = spec.workers_per_host;
    }
    for (const auto& n : nodes)
        if (!is_local_host(n.host) && n.host != head) ordered.push_back(n);
    if (head != "localhost") ordered.insert(ordered.begin(), nodes.front());
    plan.hostfile.emplace_back(head, 1 + local_workers);
    int rank = 1;
    for (const auto& n : ordered) {
        bool local = is_local_host(n.host) || n.host == head;
        if (!local) plan.hostfile.emplace_back(n.host, spec.workers_per_host);
        for (unsigned k = 1; k <= spec.workers_per_host; ++k) {
            RankNode r;
            r.rank = rank++;
            r.host = local ? head : n.host;
            r.node = spec.workers_per_host > 1 ? n.host + "#" + std::to_string(k) : n.host;
            r.slots = spec.slots ? spec.slots : n.slots;
            r.gpus = n.gpus;
            plan.workers.push_back(r);
        }
    }
    return plan;
}

std::vector<std::string> remote_hosts(const LaunchPlan& plan) {
    std::vector<std::string> hosts;
    std::set<std::string> seen;
    for (const auto& r : plan.workers)
        if (r.host != "localhost" && seen.insert(r.host).second) hosts.push_back(r.host);
    return hosts;
}

void write_launch_files(const JobDir& dir, const LaunchPlan& plan) {
    {
        std::ofstream out(dir.file("mpi-hosts"));
        out << "# written by hearth for this launch: rank 0 (dispatcher) is on the first line\n";
        for (const auto& [host, slots] : plan.hostfile) out << host << " slots=" << slots << "\n";
    }
    nlohmann::json ranks = nlohmann::json::array();
    for (const auto& r : plan.workers) {
        nlohmann::json rank{
            {"rank", r.rank}, {"host", r.host}, {"node", r.node}, {"slots", r.slots}};
        if (r.gpus) rank["gpus"] = *r.gpus;
        ranks.push_back(std::move(rank));
    }
    std::ofstream out(dir.launch());
    out << nlohmann::json{{"ranks", ranks}}.dump(2) << "\n";
}

std::vector<std::string> mpirun_argv(const JobDir& dir, const LaunchPlan& plan,
                                     const std::string& exe) {
    return mpirun_argv(dir, plan, std::vector<std::string>{exe, "worker", dir.path});
}

std::vector<std::string> mpirun_argv(const JobDir& dir, const LaunchPlan& plan,
                                     const std::vector<std::string>& program) {
    std::vector<std::string> a = {"mpirun",    "--hostfile", dir.file("mpi-hosts"),
                                  "-np",       std::to_string(plan.np()),
                                  "--map-by",  "slot",       "--bind-to", "none"};
    if (::geteuid() == 0) a.push_back("--allow-run-as-root");
    if (plan.oversubscribe) {
        a.push_back("--oversubscribe");
        // mpirun starts its daemons as one srun step. After a node dies that
        // step lingers, holding its CPUs, until slurmctld declares the node
        // down (SlurmdTimeout) and beyond: the relaunch's step would wait for
        // them. --overlap (Slurm 20.11+) lets it share them and start at once.
        if (!std::getenv("OMPI_MCA_plm_slurm_args"))
            a.insert(a.end(), {"--mca", "plm_slurm_args", "--overlap"});
    }
    // The control traffic is small; TCP and shared memory work everywhere,
    // unlike fabric transports that warn on machines without the hardware.
    // A user who set these in the environment keeps their choice.
    if (!std::getenv("OMPI_MCA_btl")) {
        a.insert(a.end(), {"--mca", "btl", "self,vader,tcp"});
        // Containers forbid the cross-memory attach vader uses by default.
        a.insert(a.end(), {"--mca", "btl_vader_single_copy_mechanism", "none"});
    }
    if (!std::getenv("OMPI_MCA_pml")) a.insert(a.end(), {"--mca", "pml", "ob1"});
    // A host that vanishes (power cut, link down) sends no FIN: without
    // keepalives mpirun would wait on its daemon's idle connection for
    // minutes. With these it gives up after about 4 s of silence and exits
    // (about 5 s after the host died, measured on the test grid), and the
    // supervisor relaunches without the host.
    if (!std::getenv("OMPI_MCA_oob_tcp_keepalive_time"))
        a.insert(a.end(),
                 {"--mca", "oob_tcp_keepalive_time", "1", "--mca", "oob_tcp_keepalive_intvl", "1",
                  "--mca", "oob_tcp_keepalive_probes", "3"});
    a.insert(a.end(), program.begin(), program.end());
    return a;
}

std::uint64_t total_tasks(const JobSpec& spec, const JobDir& dir) {
    auto items = make_item_source(spec, dir.items());
    return ChunkPlan{items->size(), spec.chunk}.tasks();
}

namespace {

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> w;
    std::istringstream in(s);
    std::string x;
    while (in >> x) w.push_back(x);
    return w;
}

bool runnable(const std::string& prog) {
    if (prog.find('/') != std::string::npos) return ::access(prog.c_str(), X_OK) == 0;
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':'))
        if (::access(((dir.empty() ? "." : dir) + "/" + prog).c_str(), X_OK) == 0) return true;
    return false;
}

// The agent mpirun would pick: the first runnable one of plm_rsh_agent's
// alternatives ("ssh : rsh" unless the environment says otherwise).
std::vector<std::string> launch_agent() {
    const char* env = std::getenv("OMPI_MCA_plm_rsh_agent");
    std::string list = env && *env ? env : "ssh : rsh";
    std::istringstream alts(list);
    std::string alt;
    while (std::getline(alts, alt, ':')) {
        auto w = words(alt);
        if (w.empty() || !runnable(w[0])) continue;
        std::string base = w[0].substr(w[0].rfind('/') + 1);
        if (base == "ssh") w.insert(w.begin() + 1, {"-o", "BatchMode=yes"});
        if (const char* extra = std::getenv("OMPI_MCA_plm_rsh_args"))
            for (auto& x : words(extra)) w.push_back(x);
        return w;
    }
    return {};
}

struct Probe {
    std::string host;
    pid_t pid = -1;
    int out = -1;
    std::string said;
    int status = 0;
    bool ended = false;
};

void drain(Probe& p) {
    char buf[512];
    ssize_t n;
    while (p.out >= 0 && (n = ::read(p.out, buf, sizeof buf)) > 0)
        if (p.said.size() < 4096) p.said.append(buf, static_cast<std::size_t>(n));
}

std::string first_line(const std::string& s) {
    std::istringstream in(s);
    std::string l;
    while (std::getline(in, l))
        if (l.find_first_not_of(" \t\r") != std::string::npos) return l;
    return "";
}

}  // namespace

std::optional<std::map<std::string, std::string>> probe_hosts(const std::vector<std::string>& hosts,
                                                              std::chrono::milliseconds limit) {
    // In an allocation mpirun starts its daemons with srun: ssh may not work there.
    const char* slurm = std::getenv("SLURM_JOB_ID");
    if (!slurm) slurm = std::getenv("SLURM_JOBID");
    if (slurm && *slurm && !std::getenv("OMPI_MCA_plm_rsh_agent")) return std::nullopt;
    std::vector<std::string> agent = launch_agent();
    std::map<std::string, std::string> dead;
    if (agent.empty()) {
        for (const auto& h : hosts) dead[h] = "no launch agent (ssh) to reach it";
        return dead;
    }
    auto secs = std::max<long>(1, static_cast<long>(limit.count() / 1000));
    if (agent[0].substr(agent[0].rfind('/') + 1) == "ssh")
        agent.insert(agent.begin() + 1, {"-o", "ConnectTimeout=" + std::to_string(secs)});
    std::vector<Probe> probes;
    pid_t parent = ::getpid();
    for (const auto& h : hosts) {
        Probe p;
        p.host = h;
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            dead[h] = std::string("cannot probe it: ") + std::strerror(errno);
            continue;
        }
        std::vector<std::string> argv = agent;
        argv.push_back(h);
        argv.push_back("true");
        p.pid = ::fork();
        if (p.pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
            ::setpgid(0, 0);  // the whole agent (and what it starts) can be killed at once
            int devnull = ::open("/dev/null", O_RDONLY);
            if (devnull >= 0) ::dup2(devnull, 0);
            ::dup2(fds[1], 1);
            ::dup2(fds[1], 2);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
            ::_exit(127);
        }
        ::close(fds[1]);
        if (p.pid < 0) {
            ::close(fds[0]);
            dead[h] = std::string("cannot probe it: ") + std::strerror(errno);
            continue;
        }
        ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
        p.out = fds[0];
        probes.push_back(std::move(p));
    }
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        bool all = true;
        for (auto& p : probes) {
            drain(p);
            if (!p.ended && ::waitpid(p.pid, &p.status, WNOHANG) == p.pid) p.ended = true;
            all = all && p.ended;
        }
        if (all || std::chrono::steady_clock::now() >= end) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& p : probes) {
        drain(p);
        if (!p.ended) {
            ::kill(-p.pid, SIGKILL);
            ::kill(p.pid, SIGKILL);
            ::waitpid(p.pid, &p.status, 0);
            dead[p.host] = "no answer within " + std::to_string(secs) + " s";
        } else if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
            std::string why = first_line(p.said);
            if (why.empty())
                why = WIFEXITED(p.status) ? "the launch agent exited with status " +
                                                std::to_string(WEXITSTATUS(p.status))
                                          : "the launch agent was killed";
            dead[p.host] = why;
        }
        ::close(p.out);
    }
    return dead;
}

std::set<std::string> hosts_mpirun_lost(const std::string& output) {
    std::set<std::string> lost;
    std::istringstream in(output);
    std::string l;
    const std::string mark = "Remote daemon:";
    while (std::getline(in, l)) {
        if (l.find(mark) == std::string::npos) continue;
        auto at = l.rfind(" on node ");
        if (at == std::string::npos) continue;
        auto w = words(l.substr(at + 9));
        if (!w.empty()) lost.insert(w[0]);
    }
    return lost;
}

}  // namespace hearth
