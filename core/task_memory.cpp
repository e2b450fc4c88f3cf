#include "core/task_memory.hpp"

#include <limits>

#include "core/error.hpp"

namespace hearth {

std::uint64_t parse_byte_size(const std::string& text, const std::string& what) {
    const auto bad = [&](const std::string& why) {
        return usage_error(what + " '" + text.substr(0, 32) + "': " + why +
                           "; write a size such as 512M or 8G");
    };
    std::size_t i = 0;
    std::uint64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (n > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) throw bad("too large");
        n = n * 10 + static_cast<std::uint64_t>(text[i++] - '0');
    }
    if (i == 0) throw bad("not a size");
    std::string unit = text.substr(i);
    if (unit.size() == 3 && (unit.substr(1) == "iB" || unit.substr(1) == "ib")) unit.resize(1);
    if (unit.size() == 2 && (unit[1] == 'B' || unit[1] == 'b')) unit.resize(1);
    int shift = -1;
    if (unit == "K" || unit == "k") shift = 10;
    if (unit == "M" || unit == "m") shift = 20;
    if (unit == "G" || unit == "g") shift = 30;
    if (unit == "T" || unit == "t") shift = 40;
    if (shift < 0) throw bad(unit.empty() ? "no unit" : "unknown unit '" + unit.substr(0, 8) + "'");
    if (n == 0) throw bad("zero");
    if (n > (std::uint64_t{1} << (63 - shift))) throw bad("too large");
    return n << shift;
}

std::string format_byte_size(std::uint64_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < 4 && bytes != 0 && bytes % 1024 == 0) {
        bytes /= 1024;
        ++u;
    }
    return std::to_string(bytes) + " " + units[u];
}

namespace {

std::optional<std::uint64_t> meminfo_bytes(std::string_view meminfo, std::string_view key) {
    const auto at = meminfo.find(key);
    if (at == std::string_view::npos || (at != 0 && meminfo[at - 1] != '\n')) return std::nullopt;
    std::size_t i = at + key.size();
    while (i < meminfo.size() && meminfo[i] == ' ') ++i;
    std::uint64_t kb = 0;
    const std::size_t start = i;
    while (i < meminfo.size() && meminfo[i] >= '0' && meminfo[i] <= '9' &&
           kb < (std::uint64_t{1} << 50))
        kb = kb * 10 + static_cast<std::uint64_t>(meminfo[i++] - '0');
    if (i == start) return std::nullopt;
    return kb * 1024;  // the kernel writes kB, meaning KiB
}

}  // namespace

std::optional<std::uint64_t> parse_mem_available(std::string_view meminfo) {
    return meminfo_bytes(meminfo, "MemAvailable:");
}

std::optional<std::uint64_t> parse_mem_total(std::string_view meminfo) {
    return meminfo_bytes(meminfo, "MemTotal:");
}

std::optional<std::uint64_t> read_mem_available(const FsRoot& fs) {
    const ReadResult r = fs.read("/proc/meminfo");
    if (!r.text) return std::nullopt;
    return parse_mem_available(*r.text);
}

std::optional<std::uint64_t> read_mem_total(const FsRoot& fs) {
    const ReadResult r = fs.read("/proc/meminfo");
    if (!r.text) return std::nullopt;
    return parse_mem_total(*r.text);
}

std::uint32_t tasks_fitting(std::uint64_t available, std::uint64_t per_task) {
    if (per_task == 0) return std::numeric_limits<std::uint32_t>::max();
    const std::uint64_t n = available / per_task;
    return n > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                         : static_cast<std::uint32_t>(n);
}

}  // namespace hearth
