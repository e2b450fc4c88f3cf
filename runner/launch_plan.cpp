#include "launch_plan.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/split.hpp"
#include "job_items.hpp"

namespace hearth {

bool is_local_host(const std::string& host) {
    if (host == "localhost" || host == "127.0.0.1" || host == "::1") return true;
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return false;
    std::string self(name);
    if (host == self) return true;
    auto dot = self.find('.');
    return dot != std::string::npos && host == self.substr(0, dot);
}

LaunchPlan plan_launch(const JobSpec& spec) {
    std::vector<NodeSpec> nodes = spec.nodes;
    if (nodes.empty()) nodes.push_back({"localhost", 0});
    LaunchPlan plan;
    // Local nodes first: they share the dispatcher's hostfile line.
    std::vector<NodeSpec> ordered;
    for (const auto& n : nodes)
        if (is_local_host(n.host)) ordered.push_back(n);
    unsigned local_workers = static_cast<unsigned>(ordered.size()) * spec.workers_per_host;
    for (const auto& n : nodes)
        if (!is_local_host(n.host)) ordered.push_back(n);
    plan.hostfile.emplace_back("localhost", 1 + local_workers);
    int rank = 1;
    for (const auto& n : ordered) {
        bool local = is_local_host(n.host);
        if (!local) plan.hostfile.emplace_back(n.host, spec.workers_per_host);
        for (unsigned k = 1; k <= spec.workers_per_host; ++k) {
            RankNode r;
            r.rank = rank++;
            r.host = local ? "localhost" : n.host;
            r.node = spec.workers_per_host > 1 ? n.host + "#" + std::to_string(k) : n.host;
            r.slots = spec.slots ? spec.slots : n.slots;
            plan.workers.push_back(r);
        }
    }
    return plan;
}

void write_launch_files(const JobDir& dir, const LaunchPlan& plan) {
    {
        std::ofstream out(dir.file("mpi-hosts"));
        out << "# written by hearth for this launch: rank 0 (dispatcher) is on the first line\n";
        for (const auto& [host, slots] : plan.hostfile) out << host << " slots=" << slots << "\n";
    }
    nlohmann::json ranks = nlohmann::json::array();
    for (const auto& r : plan.workers)
        ranks.push_back({{"rank", r.rank}, {"host", r.host}, {"node", r.node}, {"slots", r.slots}});
    std::ofstream out(dir.launch());
    out << nlohmann::json{{"ranks", ranks}}.dump(2) << "\n";
}

std::vector<std::string> mpirun_argv(const JobDir& dir, const LaunchPlan& plan,
                                     const std::string& exe) {
    std::vector<std::string> a = {"mpirun",    "--hostfile", dir.file("mpi-hosts"),
                                  "-np",       std::to_string(plan.np()),
                                  "--map-by",  "slot",       "--bind-to", "none"};
    if (::geteuid() == 0) a.push_back("--allow-run-as-root");
    // The control traffic is small; TCP and shared memory work everywhere,
    // unlike fabric transports that warn on machines without the hardware.
    // A user who set these in the environment keeps their choice.
    if (!std::getenv("OMPI_MCA_btl")) {
        a.insert(a.end(), {"--mca", "btl", "self,vader,tcp"});
        // Containers forbid the cross-memory attach vader uses by default.
        a.insert(a.end(), {"--mca", "btl_vader_single_copy_mechanism", "none"});
    }
    if (!std::getenv("OMPI_MCA_pml")) a.insert(a.end(), {"--mca", "pml", "ob1"});
    a.insert(a.end(), {exe, "worker", dir.path});
    return a;
}

std::uint64_t total_tasks(const JobSpec& spec, const JobDir& dir) {
    auto items = make_item_source(spec, dir.items());
    return ChunkPlan{items->size(), spec.chunk}.tasks();
}

}  // namespace hearth
