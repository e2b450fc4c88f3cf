// The checkpoint of a source of raw energy counters (powercap zones, hwmon
// meters): "DIR=RAW;DIR=RAW", what the agent keeps so that a restart counts
// the energy used while it was down. One format for every such source.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace hearth {

std::string format_counter_checkpoint(
    const std::vector<std::pair<std::string, std::uint64_t>>& raw);
// Each counter's raw value by its directory; items that do not parse are
// left out (their counter starts afresh), a repeated directory takes the last.
std::map<std::string, std::uint64_t> parse_counter_checkpoint(const std::string& checkpoint);

}  // namespace hearth
