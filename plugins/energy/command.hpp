#pragma once
// The command seam: runs one program (no shell) with a time limit and a cap
// on what it may print, for energy sources that read a meter through a tool
// (ipmitool, FreeIPMI's ipmi-dcmi). The real runner is posix_spawn; tests
// put a fake behind the interface or a stand-in program first on PATH.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hearth {

struct CommandResult {
    enum class Outcome { exited, missing, timed_out, too_much_output, failed };
    Outcome outcome = Outcome::failed;
    int status = -1;     // exit status when exited (128+N after signal N)
    std::string output;  // stdout, then stderr, up to the cap
    std::string error;   // why not exited: "ipmitool: not found on PATH"
};

struct CommandLimits {
    double timeout_s = 5;
    std::size_t max_bytes = 64 * 1024;
};

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    // argv[0] is looked up on PATH. env: variables added to the
    // environment (a password, so that it never appears in argv).
    virtual CommandResult run(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env,
                              const CommandLimits& limits) = 0;
    // Where argv0 would be found ("" if nowhere).
    virtual std::string find(const std::string& argv0) const;
};

std::unique_ptr<CommandRunner> make_real_command_runner();

// Where argv0 is on PATH ("" if nowhere), as posix_spawnp would find it.
std::string find_on_path(const std::string& argv0);

}  // namespace hearth
