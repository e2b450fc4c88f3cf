#pragma once
// The agent's log: one line to stderr each, which journald (or a test's
// capture) timestamps.
#include <iostream>
#include <string>

namespace hearth {

inline void log_line(const std::string& s) {
    std::cerr << "grid-agent: " << s << std::endl;
}

}  // namespace hearth
