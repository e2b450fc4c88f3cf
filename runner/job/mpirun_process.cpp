#include "runner/job/mpirun_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace hearth {
namespace {

// Whether mpirun's name for a host (it may drop the domain) is `host`.
bool same_host(const std::string& said, const std::string& host) {
    return said == host || host.substr(0, host.find('.')) == said;
}

}  // namespace

// What mpirun printed since `offset`: the output of one launch.
std::string read_from(const std::string& path, std::uintmax_t offset) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    in.seekg(static_cast<std::streamoff>(offset));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::uintmax_t size_of(const std::string& path) {
    std::error_code ec;
    auto n = fs::file_size(path, ec);
    return ec ? 0 : n;
}

// The gist of what mpirun printed: its first lines of real text (the cause,
// such as "ssh: connect to host ... refused", comes before Open MPI's
// boxed explanation), joined on one line.
std::string mpirun_gist(const std::string& said, std::size_t n) {
    std::istringstream in(said);
    std::string l, out;
    std::size_t taken = 0;
    while (taken < n && std::getline(in, l)) {
        auto first = l.find_first_not_of(" \t*");
        if (first == std::string::npos || l.rfind("-----", 0) == 0) continue;
        out += (out.empty() ? "" : " ") + l.substr(first);
        ++taken;
    }
    return out.empty() ? "(it printed nothing)" : out;
}

pid_t launch_mpirun(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw Error("cannot fork to start mpirun: " + std::string(std::strerror(errno)));
    if (pid == 0) {
        // mpirun (and with it every rank) must not outlive a killed supervisor:
        // a later `hearth resume` would otherwise race a live dispatcher.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        if (devnull >= 0) ::dup2(devnull, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    return pid;
}

// The plan's hosts that died with the last launch, with why: those its launch
// agent cannot reach now. Inside a Slurm allocation, where there is no agent
// to ask, those whose daemon mpirun says it lost.
std::map<std::string, std::string> dead_hosts(const LaunchPlan& plan, const std::string& said) {
    std::vector<std::string> hosts = remote_hosts(plan);
    if (hosts.empty()) return {};
    if (auto probed = probe_hosts(hosts, std::chrono::seconds(5))) return *probed;
    std::map<std::string, std::string> dead;
    for (const auto& lost : hosts_mpirun_lost(said))
        for (const auto& h : hosts)
            if (same_host(lost, h)) dead[h] = "mpirun lost communication with its daemon there";
    return dead;
}

}  // namespace hearth
