#include "jobspec.hpp"

#include "error.hpp"
#include "task_env.hpp"

namespace hearth {

const char* to_string(SplitKind k) {
    switch (k) {
        case SplitKind::frames: return "frames";
        case SplitKind::seeds: return "seeds";
        case SplitKind::count: return "count";
        case SplitKind::items: return "items";
    }
    return "?";
}

nlohmann::json to_json(const JobSpec& j) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : j.nodes) {
        nlohmann::json node{{"host", n.host}, {"slots", n.slots}};
        if (n.gpus) node["gpus"] = *n.gpus;
        nodes.push_back(std::move(node));
    }
    return {{"id", j.id},
            {"name", j.name},
            {"tenant", j.tenant},
            {"split", to_string(j.split)},
            {"split_text", j.split_text},
            {"chunk", j.chunk},
            {"command", j.command},
            {"nodes", nodes},
            {"slurm", j.slurm},
            {"workers_per_host", j.workers_per_host},
            {"slots", j.slots},
            {"retries", j.retries},
            {"timeout_ms", j.timeout_ms},
            {"stage", j.stage},
            {"collect", j.collect},
            {"submitted_ms", j.submitted_ms},
            {"submit_cwd", j.submit_cwd},
            {"deadline_ms", j.deadline_ms},
            {"urgent", j.urgent},
            {"env", j.env},
            {"cores_per_task", j.cores_per_task},
            {"mem_per_task", j.mem_per_task},
            {"gpus_per_task", j.gpus_per_task},
            {"user", j.user}};
}

namespace {

// A whole number in [lo, hi]; nlohmann would silently wrap -1 or truncate 1.5.
std::uint64_t whole(const nlohmann::json& v, const char* key, std::uint64_t lo, std::uint64_t hi) {
    const auto& x = v.at(key);
    if (!x.is_number_unsigned() || x.get<std::uint64_t>() < lo || x.get<std::uint64_t>() > hi)
        throw std::runtime_error(std::string("'") + key + "' must be a whole number from " +
                                 std::to_string(lo) + " to " + std::to_string(hi));
    return x.get<std::uint64_t>();
}

}  // namespace

JobSpec job_from_json(const nlohmann::json& v) {
    try {
        JobSpec j;
        j.id = v.at("id").get<std::string>();
        j.name = v.at("name").get<std::string>();
        j.tenant = v.at("tenant").get<std::string>();
        std::string split = v.at("split").get<std::string>();
        if (split == "frames") j.split = SplitKind::frames;
        else if (split == "seeds") j.split = SplitKind::seeds;
        else if (split == "count") j.split = SplitKind::count;
        else if (split == "items") j.split = SplitKind::items;
        else throw std::runtime_error("unknown split '" + split + "'");
        j.split_text = v.at("split_text").get<std::string>();
        j.chunk = whole(v, "chunk", 1, std::uint64_t{1} << 62);
        j.command = v.at("command").get<std::vector<std::string>>();
        for (const auto& n : v.at("nodes")) {
            NodeSpec node{n.at("host").get<std::string>(),
                          static_cast<std::uint32_t>(whole(n, "slots", 0, 4096)),
                          {}};
            if (n.contains("gpus"))
                node.gpus = static_cast<std::uint32_t>(whole(n, "gpus", 0, k_max_node_gpus));
            j.nodes.push_back(std::move(node));
        }
        j.slurm = v.value("slurm", false);  // absent in jobs written before Slurm support
        j.workers_per_host = static_cast<std::uint32_t>(whole(v, "workers_per_host", 1, 64));
        j.slots = static_cast<std::uint32_t>(whole(v, "slots", 0, 4096));
        j.retries = static_cast<std::uint32_t>(whole(v, "retries", 0, 100));
        j.timeout_ms = whole(v, "timeout_ms", 0, std::uint64_t{1} << 50);
        j.stage = v.at("stage").get<std::vector<std::string>>();
        j.collect = v.at("collect").get<std::vector<std::string>>();
        j.submitted_ms = v.at("submitted_ms").get<std::int64_t>();
        j.submit_cwd = v.at("submit_cwd").get<std::string>();
        // Absent in jobs written before heat-aware dispatch.
        j.deadline_ms = v.value("deadline_ms", std::int64_t{0});
        j.urgent = v.value("urgent", false);
        // Absent in jobs written before a task had its own environment.
        if (v.contains("env")) j.env = v.at("env").get<std::vector<std::string>>();
        check_env_list(j.env, "'env' of job.json");
        j.mem_per_task =
            v.contains("mem_per_task") ? whole(v, "mem_per_task", 0, std::uint64_t{1} << 62) : 0;
        j.cores_per_task =
            v.contains("cores_per_task")
                ? static_cast<std::uint32_t>(whole(v, "cores_per_task", 1, k_max_cores_per_task))
                : 1;
        // Absent in jobs written before GPU tasks.
        j.gpus_per_task =
            v.contains("gpus_per_task")
                ? static_cast<std::uint32_t>(whole(v, "gpus_per_task", 0, k_max_gpus_per_task))
                : 0;
        j.user = v.value("user", "");
        if (j.chunk == 0 || j.command.empty() || j.workers_per_host == 0)
            throw std::runtime_error("chunk, command or workers_per_host is empty");
        return j;
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(std::string("job.json is not a valid Hearth job (") + e.what() +
                    "); it was written by another version or edited by hand");
    }
}

}  // namespace hearth
