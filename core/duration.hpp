#pragma once
#include <chrono>
#include <cstdint>
#include <string_view>

namespace hearth {

// "90", "90s", "1500ms", "5m", "1h30m", "2d": a positive duration. Throws
// usage_error naming the text and giving examples.
std::chrono::milliseconds parse_duration(std::string_view text);

// A deadline as people give it: a UTC time (core/utc_time's forms) or a
// duration from now ("6h"). Unix milliseconds; usage_error when it is
// unreadable or not after now_ms.
std::int64_t parse_deadline_ms(std::string_view text, std::int64_t now_ms);

}  // namespace hearth
