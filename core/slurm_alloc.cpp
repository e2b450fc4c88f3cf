#include "core/slurm_alloc.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "core/hostlist.hpp"

namespace hearth {
namespace {

// Far above any node's CPU count; stops a garbled count from meaning millions of tasks.
constexpr unsigned k_max_count = 1u << 20;

bool parse_count(std::string_view s, unsigned& out) {
    if (s.empty() || s.size() > 7) return false;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return v <= k_max_count;
}

}  // namespace

std::vector<unsigned> expand_slurm_counts(std::string_view text, std::string_view var) {
    const auto fail = [&](const std::string& problem) {
        return usage_error(std::string(var) + "='" + std::string(text) + "' " + problem +
                           "; Slurm writes it like 2(x3),1 (run hearth inside salloc or sbatch, "
                           "or unset the SLURM_* variables and give --hosts)");
    };
    std::vector<unsigned> counts;
    if (text.empty()) throw fail("is empty");
    std::size_t start = 0;
    while (start <= text.size()) {
        auto comma = text.find(',', start);
        std::string_view item =
            text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        unsigned n = 0, times = 1;
        auto paren = item.find('(');
        if (paren != std::string_view::npos) {
            if (item.size() < paren + 4 || item.substr(paren, 2) != "(x" || item.back() != ')' ||
                !parse_count(item.substr(paren + 2, item.size() - paren - 3), times) || times == 0)
                throw fail("has a bad repeat '" + std::string(item) + "' (write N(xK))");
            item = item.substr(0, paren);
        }
        if (!parse_count(item, n) || n == 0)
            throw fail("has '" + std::string(item) + "' where a count of 1 or more belongs");
        if (counts.size() + times > k_max_count) throw fail("counts too many nodes");
        counts.insert(counts.end(), times, n);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return counts;
}

std::optional<SlurmAllocation> read_slurm_allocation(const EnvLookup& env) {
    auto id = env("SLURM_JOB_ID");
    if (!id || id->empty()) id = env("SLURM_JOBID");
    if (!id || id->empty()) return std::nullopt;
    SlurmAllocation a;
    a.job_id = *id;
    auto list = env("SLURM_JOB_NODELIST");
    if (!list || list->empty()) list = env("SLURM_NODELIST");
    if (!list || list->empty())
        throw usage_error("Slurm job " + a.job_id +
                          " has no nodes (SLURM_JOB_NODELIST is empty or unset); run hearth "
                          "inside an allocation (salloc -N1 hearth run ..., or sbatch), or unset "
                          "SLURM_JOB_ID and give --hosts");
    std::vector<std::string> names;
    try {
        names = expand_slurm_hostlist(*list);
    } catch (const Error& e) {
        throw usage_error("SLURM_JOB_NODELIST of Slurm job " + a.job_id + ": " + e.what());
    }
    // Tasks per node: what mpirun would start there (srun's -n spread over -N).
    auto per_node = env("SLURM_TASKS_PER_NODE");
    std::vector<unsigned> counts;
    if (per_node && !per_node->empty()) {
        counts = expand_slurm_counts(*per_node, "SLURM_TASKS_PER_NODE");
    } else if (auto cpus = env("SLURM_JOB_CPUS_PER_NODE"); cpus && !cpus->empty()) {
        counts = expand_slurm_counts(*cpus, "SLURM_JOB_CPUS_PER_NODE");
    } else {
        counts.assign(names.size(), 1);
    }
    if (counts.size() != names.size())
        throw usage_error("Slurm job " + a.job_id + " lists " + std::to_string(names.size()) +
                          " node(s) in SLURM_JOB_NODELIST='" + *list + "' but " +
                          std::to_string(counts.size()) +
                          " task count(s) in SLURM_TASKS_PER_NODE; run hearth as Slurm started "
                          "it (not under an srun step of another shape)");
    for (std::size_t i = 0; i < names.size(); ++i) a.nodes.push_back({names[i], counts[i]});
    return a;
}

std::vector<NodeSpec> slurm_node_specs(const SlurmAllocation& alloc) {
    std::vector<NodeSpec> nodes;
    for (const auto& n : alloc.nodes) nodes.push_back({n.name, n.tasks, {}});
    return nodes;
}

std::optional<std::string> process_env(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
}

}  // namespace hearth
