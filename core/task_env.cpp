#include "core/task_env.hpp"

#include <set>

#include "core/error.hpp"

namespace hearth {
namespace {

constexpr std::string_view k_cpu_list_var = "OMPI_MCA_hwloc_base_cpu_list";
constexpr std::string_view k_cuda_devices = "CUDA_VISIBLE_DEVICES";
constexpr std::string_view k_cuda_order = "CUDA_DEVICE_ORDER";

// Names Hearth sets on a node with GPUs: the task's GPUs are the worker's
// choice, since the agent charges their energy to the task.
bool is_gpu_var(std::string_view name) {
    return name == k_cuda_devices || name == k_cuda_order;
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

std::string_view name_of(std::string_view entry) {
    return entry.substr(0, entry.find('='));
}

// Names Hearth sets in every task: --env may not give them.
bool is_hearth_set(std::string_view name) {
    return starts_with(name, "HEARTH_") || name == "PWD" || name == "TMPDIR";
}

void check_name(std::string_view name, const std::string& what) {
    if (is_gpu_var(name))
        throw usage_error(what + ": Hearth sets " + std::string(name) +
                          " itself from the GPUs it gives each task; ask for GPUs with "
                          "--gpus-per-task N instead");
    if (!is_env_name(name))
        throw usage_error(what + ": '" + std::string(name.substr(0, 64)) +
                          "' is not a variable name; use letters, digits and '_', not starting "
                          "with a digit, e.g. --env OMP_PROC_BIND=close");
    if (is_hearth_set(name))
        throw usage_error(what + ": Hearth sets " + std::string(name) +
                          " in every task itself; pass another name (see hearth(1), The task's "
                          "environment)");
}

}  // namespace

bool is_worker_variable(std::string_view name) {
    for (std::string_view p : {"OMPI_", "PMIX_", "OPAL_", "ORTE_", "PRTE_", "HEARTH_"})
        if (starts_with(name, p)) return true;
    return name == "IPATH_NO_BACKTRACE" || name == "HFI_NO_BACKTRACE" || name == "PWD" ||
           name == "OLDPWD" || name == "TMPDIR";
}

bool is_env_name(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    if (name[0] >= '0' && name[0] <= '9') return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    return true;
}

std::string resolve_env_word(const std::string& word,
                             const std::function<const char*(const std::string&)>& lookup) {
    const auto eq = word.find('=');
    const std::string name = word.substr(0, eq);
    check_name(name, "--env " + word.substr(0, 64));
    if (eq != std::string::npos) return word;
    const char* value = lookup(name);
    if (!value)
        throw usage_error("--env " + name + ": " + name +
                          " is not set here; set it, or give its "
                          "value as --env " +
                          name + "=VALUE");
    return name + "=" + value;
}

void check_env_entry(const std::string& entry, const std::string& what) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos)
        throw usage_error(what + ": '" + entry.substr(0, 64) + "' must be NAME=VALUE");
    check_name(std::string_view(entry).substr(0, eq), what);
    if (entry.find('\0') != std::string::npos)
        throw usage_error(what + ": the value of " + entry.substr(0, eq) + " holds a NUL byte");
}

void check_env_list(const std::vector<std::string>& entries, const std::string& what) {
    if (entries.size() > k_max_env_entries)
        throw usage_error(what + ": " + std::to_string(entries.size()) + " variables; at most " +
                          std::to_string(k_max_env_entries) +
                          " (stage a file the task sources instead)");
    std::size_t bytes = 0;
    std::set<std::string_view> names;
    for (const auto& e : entries) {
        check_env_entry(e, what);
        bytes += e.size();
        if (!names.insert(name_of(e)).second)
            throw usage_error(what + ": " + std::string(name_of(e)) + " is given twice; keep one");
    }
    if (bytes > k_max_env_bytes)
        throw usage_error(what + ": the variables hold " + std::to_string(bytes) +
                          " bytes; at most " + std::to_string(k_max_env_bytes) +
                          " (stage a file the task sources instead)");
}

std::vector<std::string> job_environment(const std::vector<std::string>& worker_env,
                                         const std::vector<std::string>& passed,
                                         std::uint32_t cores) {
    std::set<std::string_view> given;
    for (const auto& e : passed) given.insert(name_of(e));
    const std::string n = std::to_string(cores ? cores : 1);
    std::vector<std::string> threads;
    for (const char* v : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"})
        if (!given.count(v)) threads.push_back(std::string(v) + "=" + n);
    std::set<std::string_view> set_here(given);
    for (const auto& t : threads) set_here.insert(name_of(t));
    std::vector<std::string> env;
    env.reserve(worker_env.size() + threads.size() + passed.size());
    for (const auto& e : worker_env) {
        const auto name = name_of(e);
        if (name.size() == e.size() || is_worker_variable(name) || set_here.count(name)) continue;
        env.push_back(e);
    }
    env.insert(env.end(), threads.begin(), threads.end());
    env.insert(env.end(), passed.begin(), passed.end());
    return env;
}

std::vector<std::string> task_environment(const std::vector<std::string>& job_env,
                                          const TaskAttemptVars& id) {
    std::vector<std::string> env;
    env.reserve(job_env.size() + 13);
    if (id.gpus) {
        for (const auto& e : job_env)
            if (!is_gpu_var(name_of(e))) env.push_back(e);
        const std::string list = cpu_list_text(*id.gpus);
        env.push_back(std::string(k_cuda_devices) + "=" + list);
        env.push_back(std::string(k_cuda_order) + "=PCI_BUS_ID");
        env.push_back("HEARTH_GPUS=" + list);
    } else {
        env.insert(env.end(), job_env.begin(), job_env.end());
    }
    env.push_back("HEARTH_JOB=" + id.job);
    env.push_back("HEARTH_TASK=" + std::to_string(id.task));
    env.push_back("HEARTH_ATTEMPT=" + std::to_string(id.attempt));
    env.push_back("HEARTH_TENANT=" + id.tenant);
    env.push_back("HEARTH_FIRST=" + id.first);
    env.push_back("HEARTH_LAST=" + id.last);
    env.push_back("HEARTH_CORES=" + std::to_string(id.cores ? id.cores : 1));
    env.push_back("PWD=" + id.dir);
    env.push_back("TMPDIR=" + id.dir);
    if (!id.cpu_list.empty()) {
        bool given = false;
        for (const auto& e : job_env) given = given || name_of(e) == k_cpu_list_var;
        if (!given) env.push_back(std::string(k_cpu_list_var) + "=" + id.cpu_list);
    }
    return env;
}

std::string cpu_list_text(const std::vector<unsigned>& cores) {
    std::string s;
    for (unsigned c : cores) {
        if (!s.empty()) s += ',';
        s += std::to_string(c);
    }
    return s;
}

}  // namespace hearth
