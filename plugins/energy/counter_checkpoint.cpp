#include "counter_checkpoint.hpp"

#include "core/text.hpp"

namespace hearth {

std::string format_counter_checkpoint(
    const std::vector<std::pair<std::string, std::uint64_t>>& raw) {
    std::string out;
    for (const auto& [dir, value] : raw) {
        if (!out.empty()) out += ';';
        out += dir + "=" + std::to_string(value);
    }
    return out;
}

std::map<std::string, std::uint64_t> parse_counter_checkpoint(const std::string& checkpoint) {
    std::map<std::string, std::uint64_t> out;
    std::size_t start = 0;
    while (start < checkpoint.size()) {
        std::size_t end = checkpoint.find(';', start);
        if (end == std::string::npos) end = checkpoint.size();
        const std::string item = checkpoint.substr(start, end - start);
        start = end + 1;
        const auto eq = item.rfind('=');
        if (eq == std::string::npos) continue;
        if (auto raw = parse_u64(item.substr(eq + 1)))
            out.insert_or_assign(item.substr(0, eq), *raw);
    }
    return out;
}

}  // namespace hearth
