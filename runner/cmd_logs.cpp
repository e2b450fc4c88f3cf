#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "core/error.hpp"
#include "core/journal.hpp"
#include "job_dir.hpp"

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
    std::ifstream logs(dir.logs(), std::ios::binary);
    for (const auto& r : found) {
        const std::string e = r["e"].get<std::string>();
        std::cout << "== task " << task << " attempt " << r["a"] << " on "
                  << r["n"].get<std::string>() << ": "
                  << (e == "done" ? std::string("done") : "failed, " + r["reason"].get<std::string>())
                  << " ==\n";
        auto off = r["log"][0].get<std::uint64_t>();
        auto len = r["log"][1].get<std::uint64_t>();
        if (len == 0) continue;
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
