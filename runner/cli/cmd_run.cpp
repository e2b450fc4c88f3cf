#include <netdb.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/hostlist.hpp"
#include "core/placeholder.hpp"
#include "core/safe_path.hpp"
#include "core/scenario.hpp"
#include "core/slurm_alloc.hpp"
#include "core/task_env.hpp"
#include "core/task_memory.hpp"
#include "runner/cli/commands.hpp"
#include "runner/cli/job_submit.hpp"
#include "runner/clients/server_client.hpp"
#include "runner/job/job_items.hpp"
#include "runner/job/launch_plan.hpp"
#include "runner/job/supervisor.hpp"

namespace fs = std::filesystem;

namespace hearth {
namespace {

// "YYYYmmdd-HHMMSS-xxxx", and a "-" after --name: the id must stay a safe
// name (core/grid.hpp) of at most 64 characters, as the agents check it.
constexpr std::size_t k_max_name = 64 - 21;

std::string make_job_id() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    std::random_device rd;
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%04x", rd() & 0xffff);
    return std::string(buf) + "-" + suffix;
}

bool executable_on_path(const std::string& cmd) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) dir = ".";
        if (::access((dir + "/" + cmd).c_str(), X_OK) == 0) return true;
    }
    return false;
}

// Checks the command can start on the nodes, as far as the submit host can tell.
void check_command(const std::vector<std::string>& command, const CommandTemplate& tmpl,
                   const std::vector<std::string>& staged, bool remote_nodes) {
    if (tmpl.has_placeholder(0)) return;  // the program itself varies per task
    const std::string& prog = command[0];
    auto is_staged = [&](const std::string& p) {
        std::string rel = p.rfind("./", 0) == 0 ? p.substr(2) : p;
        for (const auto& s : staged)
            if (rel == s || rel.rfind(s + "/", 0) == 0) return true;
        return false;
    };
    if (prog.find('/') == std::string::npos) {
        if (executable_on_path(prog)) return;
        if (is_staged(prog))
            throw usage_error("command '" + prog + "' is staged but tasks do not search the " +
                              "scratch directory on PATH; write it as ./" + prog);
        throw usage_error("command '" + prog + "' not found on PATH; install it, give its full " +
                          "path, or --stage it and write ./" + prog);
    }
    if (prog[0] == '/') {
        if (!remote_nodes && ::access(prog.c_str(), X_OK) != 0)
            throw usage_error("command '" + prog + "' does not exist or is not executable; " +
                              "check the path");
        return;
    }
    if (!is_staged(prog))
        throw usage_error("command '" + prog + "' is a relative path, but tasks run in a fresh " +
                          "scratch directory; --stage it, or give an absolute path");
}

// Inside a Slurm allocation, --hosts may only narrow it: every host must be
// one of its nodes, or mpirun (which places ranks on the allocation only)
// would refuse the launch after the job directory was made.
void check_hosts_in_allocation(const std::vector<NodeSpec>& nodes, const SlurmAllocation& alloc,
                               const std::string& file) {
    std::set<std::string> allocated;
    std::string names;
    for (const auto& n : alloc.nodes) {
        allocated.insert(n.name);
        names += (names.empty() ? "" : ",") + n.name;
    }
    for (const auto& n : nodes)
        if (!allocated.count(n.host))
            throw usage_error("--hosts " + file + " names '" + n.host +
                              "', which is not in Slurm job " + alloc.job_id + "'s allocation (" +
                              names +
                              "); drop --hosts to use the allocation's nodes, or ask Slurm for "
                              "those nodes (salloc -w)");
}

// A GPU job that no node can run is refused before anything is written: the
// grid file gives every node's GPUs and none has enough. Nodes whose GPUs
// the grid file leaves to their agent are known only when they start.
void check_gpu_nodes(const JobSpec& s, const RunArgs& a) {
    if (s.gpus_per_task == 0) return;
    if (s.workers_per_host > 1)
        throw usage_error("--gpus-per-task with --workers-per-host " +
                          std::to_string(s.workers_per_host) +
                          ": the workers of one host would hand out the same GPUs; use "
                          "--workers-per-host 1");
    if (!a.grid || s.nodes.empty()) return;
    std::uint32_t most = 0;
    for (const auto& n : s.nodes) {
        if (!n.gpus) return;
        most = std::max(most, *n.gpus);
    }
    if (most < s.gpus_per_task)
        throw usage_error("--gpus-per-task " + std::to_string(s.gpus_per_task) + ": no node in " +
                          *a.grid + " has that many GPUs (the most is " + std::to_string(most) +
                          ", its nodes' gpus); ask for " + std::to_string(most) +
                          " or fewer, or give the nodes' gpus");
}

std::vector<NodeSpec> read_nodes(const RunArgs& a, bool& slurm) {
    std::vector<NodeSpec> nodes;
    slurm = false;
    if (a.hosts && a.grid)
        throw usage_error("both --hosts and --grid name the nodes; give one of them");
    // Read (and checked) before the other sources: an allocation Hearth cannot
    // use is an error even with --hosts, as the launch would run in it.
    std::optional<SlurmAllocation> alloc;
    if (!a.grid) alloc = read_slurm_allocation(process_env);
    if (a.grid) {
        for (const auto& n : load_grid(*a.grid).nodes) nodes.push_back({n.host, n.slots, n.gpus});
    } else if (a.hosts) {
        std::ifstream in(*a.hosts);
        if (!in)
            throw usage_error("cannot read hostfile '" + *a.hosts + "': " + std::strerror(errno) +
                              "; give an Open MPI hostfile (one host a line, optional slots=N)");
        std::stringstream ss;
        ss << in.rdbuf();
        for (const auto& h : parse_hostfile(ss.str(), *a.hosts))
            nodes.push_back({h.name, h.slots.value_or(0), {}});
        if (alloc) check_hosts_in_allocation(nodes, *alloc, *a.hosts);
    } else if (alloc) {
        nodes = slurm_node_specs(*alloc);
        slurm = true;
    }
    for (const auto& n : nodes) {
        // Slurm knows its nodes' addresses and srun reaches them: their names
        // need not resolve here (a login node may not know them).
        if (alloc || is_local_host(n.host)) continue;
        addrinfo* res = nullptr;
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        int rc = ::getaddrinfo(n.host.c_str(), nullptr, &hints, &res);
        if (rc != 0)
            throw usage_error("unknown host '" + n.host + "'" +
                              (a.grid ? " in " + *a.grid : " in " + a.hosts.value_or("")) + ": " +
                              ::gai_strerror(rc) + "; fix the name or add it to /etc/hosts");
        ::freeaddrinfo(res);
    }
    return nodes;
}

JobSpec build_spec(const RunArgs& a) {
    JobSpec s;
    s.tenant = a.tenant;
    if (s.tenant.empty())
        if (const char* t = std::getenv("HEARTH_TENANT")) s.tenant = t;
    if (s.tenant.empty())
        throw usage_error("no tenant: say who pays with --tenant NAME (or set HEARTH_TENANT)");
    // The tenant names ledger rows and is sent to the agents: a safe name only.
    if (!is_safe_name(s.tenant))
        throw usage_error("bad tenant '" + s.tenant + "': use 1-64 letters, digits, '.', '_' or " +
                          "'-', not starting with '.' or '-'");
    // The grid file's tenant table names the Unix user its tasks run as
    // (when the workers are root: core/task_identity).
    if (a.grid)
        if (const TenantSpec* t = load_grid(*a.grid).find_tenant(s.tenant)) s.user = t->user;
    if (s.tenant == "house")
        throw usage_error("tenant name 'house' is reserved for the energy nobody's tasks used; "
                          "choose another --tenant");
    if (!a.name.empty() && (!is_safe_name(a.name) || a.name.size() > k_max_name))
        throw usage_error("bad --name '" + a.name + "': use 1-" + std::to_string(k_max_name) +
                          " letters, digits, '.', '_' or '-', not starting with '.' or '-'");
    int ways = (a.frames ? 1 : 0) + (a.seeds ? 1 : 0) + (a.count ? 1 : 0) + (a.items ? 1 : 0);
    if (ways != 1)
        throw usage_error(std::string(ways ? "more than one way to split" : "nothing to split") +
                          ": give exactly one of --frames SET, --seeds A-B, --count N, --items FILE");
    if (a.frames) s.split = SplitKind::frames, s.split_text = *a.frames;
    if (a.seeds) s.split = SplitKind::seeds, s.split_text = *a.seeds;
    if (a.count) s.split = SplitKind::count, s.split_text = *a.count;
    if (a.items) s.split = SplitKind::items, s.split_text = "items";
    if (a.chunk == 0) throw usage_error("--chunk 0: a task needs at least one item; use --chunk 1 or more");
    s.chunk = a.chunk;
    if (a.command.empty())
        throw usage_error("no command: put it after '--', e.g. hearth run --count 10 -- echo {item}");
    s.command = a.command;
    if (a.slots > 4096) throw usage_error("--slots " + std::to_string(a.slots) + " is too many; use 1-4096");
    s.slots = a.slots;
    if (a.workers_per_host == 0 || a.workers_per_host > 64)
        throw usage_error("--workers-per-host must be 1-64");
    s.workers_per_host = a.workers_per_host;
    if (a.retries > 100) throw usage_error("--retries " + std::to_string(a.retries) + " is too many; use 0-100");
    s.retries = a.retries;
    if (a.timeout) s.timeout_ms = static_cast<std::uint64_t>(parse_duration(*a.timeout).count());
    // Outputs are read only inside the task's scratch directory (see also
    // ScratchArea::collect, which refuses symlinks the task made).
    for (const auto& g : a.collect) {
        check_relative_path(g, "--collect");
        s.collect.push_back(g);
    }
    std::set<std::string> names;
    for (const auto& p : a.stage) {
        std::error_code ec;
        if (!fs::exists(p, ec))
            throw usage_error("--stage '" + p + "' does not exist; check the path");
        // The input may be anywhere the user can read; in the scratch
        // directory it is its last name, which must stay inside it.
        std::string base = fs::path(p).lexically_normal().filename().string();
        if (base.empty()) base = fs::absolute(p).lexically_normal().parent_path().filename().string();
        if (!is_clean_relative_path(base))
            throw usage_error("bad --stage '" + p + "': it would be named '" + base + "' in the " +
                              "task's scratch directory, outside it or nothing; name the file or " +
                              "directory itself, e.g. --stage ../inputs/scene.pov");
        if (!names.insert(base).second)
            throw usage_error("--stage: two inputs are named '" + base + "'; rename one");
        s.stage.push_back(base);
    }
    s.nodes = read_nodes(a, s.slurm);
    s.name = a.name;
    s.submitted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    s.urgent = a.urgent;
    if (a.deadline) s.deadline_ms = parse_deadline_ms(*a.deadline, s.submitted_ms);
    s.submit_cwd = fs::current_path().string();
    s.env = resolve_env(a.env);
    s.cores_per_task = checked_cores_per_task(a.cores_per_task);
    if (a.mem_per_task) s.mem_per_task = parse_byte_size(*a.mem_per_task, "--mem-per-task");
    s.gpus_per_task = checked_gpus_per_task(a.gpus_per_task);
    check_gpu_nodes(s, a);
    CommandTemplate tmpl = CommandTemplate::parse(s.command, s.chunk);
    bool remote = false;
    for (const auto& n : s.nodes) remote = remote || !is_local_host(n.host);
    check_command(s.command, tmpl, s.stage, remote);
    return s;
}

// Writes the job directory under a temporary name and renames it into place,
// so a failure leaves nothing half-made under the name the user will look for.
JobDir create_job_dir(JobSpec& spec, const RunArgs& a) {
    spec.id = (spec.name.empty() ? "" : spec.name + "-") + make_job_id();
    fs::path final_dir = a.job_dir ? fs::path(*a.job_dir) : fs::path("hearth-jobs") / spec.id;
    final_dir = fs::absolute(final_dir).lexically_normal();
    if (fs::exists(final_dir))
        throw usage_error("job directory " + final_dir.string() + " exists already; " +
                          "continue that job with 'hearth resume', or choose another --job-dir");
    fs::create_directories(final_dir.parent_path());
    fs::path tmp = final_dir.parent_path() / ("." + final_dir.filename().string() + ".creating");
    fs::remove_all(tmp);
    try {
        fs::create_directory(tmp);
        if (a.items) {
            std::error_code ec;
            fs::copy_file(*a.items, tmp / "items", ec);
            if (ec)
                throw usage_error("cannot read items file '" + *a.items + "': " + ec.message() +
                                  "; check the path");
        }
        fs::create_directory(tmp / "stage");
        for (std::size_t i = 0; i < a.stage.size(); ++i)
            fs::copy(a.stage[i], tmp / "stage" / spec.stage[i], fs::copy_options::recursive);
        fs::create_directory(tmp / "out");
        fs::create_directory(tmp / "logs");
        JobDir probe{tmp.string()};
        // Parse the split for real (items file included) before committing the dir.
        std::uint64_t n = total_tasks(spec, probe);
        if (n == 0) throw usage_error("the job has no tasks; check the split");
        {
            std::ofstream out(tmp / "job.json");
            out << to_json(spec).dump(2) << "\n";
            if (!out) throw Error("cannot write " + (tmp / "job.json").string());
        }
        fs::rename(tmp, final_dir);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
    return JobDir{final_dir.string()};
}

}  // namespace

int cmd_run(const RunArgs& a) {
    if (auto server = server_url(a.server)) return cmd_run_remote(a, *server);
    if (a.out) throw usage_error("--out is for a job run through a server (--server); here outputs go to JOBDIR/out");
    if (a.priority != 0) throw usage_error("--priority orders jobs at a server (--server); a job run here is alone");
    JobSpec spec = build_spec(a);
    // Check the split before anything is written (errors name the user's file).
    make_item_source(spec, a.items ? *a.items : "");
    JobDir dir = create_job_dir(spec, a);
    SuperviseOptions opt;
    opt.json = a.json || !::isatty(1);
    opt.quiet = a.quiet;
    int rc = supervise(dir, opt);
    if (std::getenv("HEARTH_RUSAGE")) {
        rusage ru{};
        ::getrusage(RUSAGE_SELF, &ru);
        std::fprintf(stderr, "hearth rusage: supervisor user %.1f ms sys %.1f ms\n",
                     ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3,
                     ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
    }
    return rc;
}

int cmd_resume(const std::string& job, bool json, bool quiet) {
    JobDir dir = resolve_job_dir(job);
    SuperviseOptions opt;
    opt.json = json || !::isatty(1);
    opt.quiet = quiet;
    return supervise(dir, opt);
}

}  // namespace hearth
