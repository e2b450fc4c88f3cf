// What the network-namespace suites (grid, grid_shared, grid_slurm) share:
// the test grid's script and the parsing of what it prints.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace hearth::test {

inline std::string grid_script() {
    return repo_root() + "/tests/grid/testgrid.sh";
}

inline std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// The non-empty lines of a command's output.
inline std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    std::string l;
    while (std::getline(ss, l))
        if (!l.empty()) v.push_back(l);
    return v;
}

}  // namespace hearth::test
