#include "runner/cli/job_submit.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/safe_path.hpp"
#include "core/scenario.hpp"
#include "core/task_env.hpp"
#include "core/task_memory.hpp"

namespace hearth {
namespace {

namespace fs = std::filesystem;

std::string tenant_of(const RunArgs& a) {
    if (!a.tenant.empty()) return a.tenant;
    const char* t = std::getenv("HEARTH_TENANT");
    // "" lets a tenant's token speak for itself: the scheduler fills it in.
    return t ? t : "";
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::vector<std::string> resolve_env(const std::vector<std::string>& words) {
    std::vector<std::string> env;
    for (const auto& w : words)
        env.push_back(
            resolve_env_word(w, [](const std::string& n) { return std::getenv(n.c_str()); }));
    check_env_list(env, "--env");
    return env;
}

std::uint32_t checked_cores_per_task(std::uint32_t n) {
    if (n == 0 || n > k_max_cores_per_task)
        throw usage_error("--cores-per-task " + std::to_string(n) + ": give 1 to " +
                          std::to_string(k_max_cores_per_task) + " cores a task");
    return n;
}

std::uint32_t checked_gpus_per_task(std::uint32_t n) {
    if (n > k_max_gpus_per_task)
        throw usage_error("--gpus-per-task " + std::to_string(n) + ": give 0 to " +
                          std::to_string(k_max_gpus_per_task) + " GPUs a task");
    return n;
}

void check_submit_args(const RunArgs& a) {
    // These place a job on nodes of the caller's choosing; a scheduler places
    // it on its grid's sites.
    const auto local = [&](bool given, const char* opt) {
        if (given)
            throw usage_error(std::string(opt) + " has no meaning with a server: its grid file places the "
                              "tasks; drop it, or run here without --server (and without HEARTH_SERVER)");
    };
    local(a.hosts.has_value(), "--hosts");
    local(a.grid.has_value(), "--grid");
    local(a.slots != 0, "--slots");
    local(a.workers_per_host != 1, "--workers-per-host");
    local(a.job_dir.has_value(), "--job-dir");
    const std::string tenant = tenant_of(a);
    if (!tenant.empty() && (!is_safe_name(tenant) || tenant == "house"))
        throw usage_error("bad tenant '" + tenant + "': use 1-64 letters, digits, '.', '_' or '-' (not 'house')");
    if (!a.name.empty() && !is_safe_name(a.name))
        throw usage_error("bad --name '" + a.name + "': use letters, digits, '.', '_' or '-'");
    const int ways = (a.frames ? 1 : 0) + (a.seeds ? 1 : 0) + (a.count ? 1 : 0) + (a.items ? 1 : 0);
    if (ways != 1)
        throw usage_error(std::string(ways ? "more than one way to split" : "nothing to split") +
                          ": give exactly one of --frames SET, --seeds A-B, --count N, --items FILE");
    if (a.chunk == 0) throw usage_error("--chunk 0: a task needs at least one item; use --chunk 1 or more");
    if (a.command.empty())
        throw usage_error("no command: put it after '--', e.g. hearth submit --count 10 -- echo {item}");
    if (a.retries > 100) throw usage_error("--retries " + std::to_string(a.retries) + " is too many; use 0-100");
    if (a.priority < k_min_priority || a.priority > k_max_priority)
        throw usage_error("--priority " + std::to_string(a.priority) + " is out of range; use -1000 to 1000");
    for (const auto& g : a.collect) check_relative_path(g, "--collect");
    resolve_env(a.env);
    checked_cores_per_task(a.cores_per_task);
    checked_gpus_per_task(a.gpus_per_task);
    if (a.mem_per_task) parse_byte_size(*a.mem_per_task, "--mem-per-task");
}

JobSubmit build_submit(const RunArgs& a, const ServerClient& server) {
    check_submit_args(a);
    JobSubmit s;
    s.tenant = tenant_of(a);
    s.name = a.name;
    if (a.frames) s.split = SplitKind::frames, s.split_text = *a.frames;
    if (a.seeds) s.split = SplitKind::seeds, s.split_text = *a.seeds;
    if (a.count) s.split = SplitKind::count, s.split_text = *a.count;
    if (a.items) s.split = SplitKind::items, s.split_text = "items";
    s.chunk = a.chunk;
    s.command = a.command;
    s.retries = a.retries;
    if (a.timeout) s.timeout_ms = static_cast<std::uint64_t>(parse_duration(*a.timeout).count());
    s.collect = a.collect;
    s.urgent = a.urgent;
    s.priority = a.priority;
    s.env = resolve_env(a.env);
    s.cores_per_task = a.cores_per_task;
    s.gpus_per_task = a.gpus_per_task;
    if (a.mem_per_task) s.mem_per_task = parse_byte_size(*a.mem_per_task, "--mem-per-task");
    if (a.deadline) s.deadline_ms = parse_deadline_ms(*a.deadline, now_ms());
    // Every name is checked before the first byte is sent.
    std::set<std::string> names;
    std::vector<std::pair<std::string, std::string>> stage;  // path, name in the scratch directory
    for (const auto& p : a.stage) {
        std::error_code ec;
        if (!fs::is_regular_file(p, ec))
            throw usage_error("--stage '" + p + "' is not a file; through a server only files travel (tar a "
                              "directory and stage the archive)");
        const std::string base = fs::path(p).filename().string();
        if (!names.insert(base).second) throw usage_error("--stage: two inputs are named '" + base + "'; rename one");
        stage.emplace_back(p, base);
    }
    if (a.items && !fs::is_regular_file(*a.items))
        throw usage_error("cannot read items file '" + *a.items + "'; check the path");
    if (a.items) s.items_sha256 = server.upload(*a.items, "items").sha256;
    for (const auto& [path, name] : stage) s.stage.push_back(server.upload(path, name));
    return s;
}

}  // namespace hearth
