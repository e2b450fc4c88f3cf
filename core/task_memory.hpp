#pragma once
// --mem-per-task: the size a user writes, the memory a node has free
// (/proc/meminfo's MemAvailable, read through the FsRoot seam), and how many
// tasks of that size fit. Pure parsers plus one reader.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/fsroot.hpp"

namespace hearth {

// "512M", "8G", "1536K", "2T" (binary multiples; "8GiB" and "8GB" read the
// same). Throws usage_error naming `what` for no unit, zero, or too large.
std::uint64_t parse_byte_size(const std::string& text, const std::string& what);
// 8589934592 -> "8 GiB", 1610612736 -> "1536 MiB": the largest unit that divides it.
std::string format_byte_size(std::uint64_t bytes);

// MemAvailable of /proc/meminfo's text, in bytes; nullopt when absent.
std::optional<std::uint64_t> parse_mem_available(std::string_view meminfo);
std::optional<std::uint64_t> read_mem_available(const FsRoot& fs);
// MemTotal, likewise: what a task could ever have on the node.
std::optional<std::uint64_t> parse_mem_total(std::string_view meminfo);
std::optional<std::uint64_t> read_mem_total(const FsRoot& fs);

// Tasks of per_task bytes that fit in available (per_task 0: no limit, UINT32_MAX).
std::uint32_t tasks_fitting(std::uint64_t available, std::uint64_t per_task);

}  // namespace hearth
