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

// A CA and the test scheduler's certificate for `host`, made once in `at`
// with hearth tls: the netns grids' scheduler serves https with them, and
// its sites and clients verify it against the CA, as a real grid would.
struct TestCa {
    fs::path dir;
    // "" when made, else what hearth tls said.
    std::string make(const fs::path& at, const std::string& host) {
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"tls", "ca", at.string()},
              std::vector<std::string>{"tls", "cert", at.string(), "--host", host, "--name",
                                       "sched"}}) {
            Result r = run_hearth(args, at.parent_path());
            if (r.code != 0) return r.err;
        }
        dir = at;
        return "";
    }
    std::string cacert() const { return (dir / "ca.pem").string(); }
    std::string serve_args() const {
        return " --tls-cert " + quote((dir / "sched.pem").string()) + " --tls-key " +
               quote((dir / "sched.key").string());
    }
};

}  // namespace hearth::test
