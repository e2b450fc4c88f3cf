#include <fstream>
#include <iostream>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "runner/cli/commands.hpp"
#include "runner/job/job_dir.hpp"

namespace hearth {

int cmd_logs(const std::string& job, std::uint64_t task, std::optional<std::uint32_t> attempt) {
    JobDir dir = resolve_job_dir(job);
    load_spec(dir);
    std::vector<nlohmann::json> found;
    read_journal(dir.journal(), [&](const nlohmann::json& r) {
        const std::string e = r.at("e").get<std::string>();
        if ((e == "done" || e == "fail") && r.at("t").get<std::uint64_t>() == task &&
            (!attempt || r.at("a").get<std::uint32_t>() == *attempt))
            found.push_back(r);
    });
    if (found.empty())
        throw usage_error("task " + std::to_string(task) +
                          (attempt ? " attempt " + std::to_string(*attempt) : std::string()) +
                          " has no finished attempt yet in " + dir.path +
                          "; see 'hearth status' for what ran");
    std::ifstream logs(dir.logs(), std::ios::binary | std::ios::ate);
    const auto log_size = logs ? static_cast<std::uint64_t>(logs.tellg()) : 0;
    for (const auto& r : found) {
        // The journal reader checked the record's kind and numbers; the rest
        // is read defensively: a damaged job dir gets a message, not a crash
        // or a huge allocation.
        const std::string e = r["e"].get<std::string>();
        const auto text = [&](const char* key) {
            auto it = r.find(key);
            return it != r.end() && it->is_string() ? it->get<std::string>() : std::string("?");
        };
        std::cout << "== task " << task << " attempt " << r.value("a", 0u) << " on " << text("n") << ": "
                  << (e == "done" ? std::string("done") : "failed, " + text("reason")) << " ==\n";
        auto lg = r.find("log");
        if (lg == r.end() || !lg->is_array() || lg->size() != 2 || !(*lg)[0].is_number_unsigned() ||
            !(*lg)[1].is_number_unsigned())
            continue;  // no output was kept for this attempt
        const auto off = (*lg)[0].get<std::uint64_t>();
        const auto len = (*lg)[1].get<std::uint64_t>();
        if (len == 0) continue;
        if (off > log_size || len > log_size - off)
            throw Error("the journal points past the end of " + dir.logs() + " for task " + std::to_string(task) +
                        "; the job directory is damaged (was logs truncated?)");
        std::string buf(len, '\0');
        logs.clear();
        logs.seekg(static_cast<std::streamoff>(off));
        logs.read(buf.data(), static_cast<std::streamsize>(len));
        std::cout << buf;
        if (!buf.empty() && buf.back() != '\n') std::cout << "\n";
    }
    return 0;
}

}  // namespace hearth
