#pragma once
#include <chrono>
#include <string_view>

namespace hearth {

// "90", "90s", "1500ms", "5m", "1h30m", "2d": a positive duration. Throws
// usage_error naming the text and giving examples.
std::chrono::milliseconds parse_duration(std::string_view text);

}  // namespace hearth
