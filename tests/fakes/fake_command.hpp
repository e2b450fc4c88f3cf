#pragma once
// A fake behind the CommandRunner seam: answers every run with what the
// test set (a transcript, a timeout, a missing program) and records the
// argv and environment it was given.
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "plugins/energy/command.hpp"

namespace hearth::test {

struct FakeCommandState {
    CommandResult next;                               // what every run returns
    std::vector<std::string> on_path = {"ipmitool"};  // programs find() knows
    std::vector<std::vector<std::string>> runs;       // argv of each run
    std::map<std::string, std::string> last_env;
    // The file after --config-file as the tool would find it during the
    // run (it is removed after): its path, content and permission bits,
    // and those of its directory.
    std::string config_path, config_text;
    unsigned config_mode = 0, config_dir_mode = 0;
};

class FakeCommand final : public CommandRunner {
public:
    explicit FakeCommand(FakeCommandState& s) : m_s(s) {}
    CommandResult run(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env,
                      const CommandLimits&) override {
        m_s.runs.push_back(argv);
        m_s.last_env = env;
        for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
            if (argv[i] != "--config-file") continue;
            m_s.config_path = argv[i + 1];
            std::ifstream in(m_s.config_path);
            m_s.config_text.assign(std::istreambuf_iterator<char>(in), {});
            struct stat st {};
            if (::stat(m_s.config_path.c_str(), &st) == 0) m_s.config_mode = st.st_mode & 07777;
            const std::string dir = m_s.config_path.substr(0, m_s.config_path.rfind('/'));
            if (::stat(dir.c_str(), &st) == 0) m_s.config_dir_mode = st.st_mode & 07777;
        }
        return m_s.next;
    }
    std::string find(const std::string& argv0) const override {
        for (const auto& p : m_s.on_path)
            if (p == argv0) return "/usr/bin/" + p;
        return "";
    }

private:
    FakeCommandState& m_s;
};

// What ipmitool 1.8.19 printed against a BMC (OpenIPMI's ipmi_sim with the
// DCMI module) reading `watts`; the timestamp line has no newline, as printed.
inline CommandResult ipmitool_reading(unsigned watts) {
    CommandResult r;
    r.outcome = CommandResult::Outcome::exited;
    r.status = 0;
    const std::string w = std::to_string(watts);
    r.output = "\n    Instantaneous power reading:                   " + w +
               " Watts\n    Minimum during sampling period:                " + w +
               " Watts\n    Maximum during sampling period:                " + w +
               " Watts\n    Average power reading over sample period:      " + w +
               " Watts\n    IPMI timestamp:                           12/06/26 23:02:49 UTC    "
               "Sampling period:                          00000001 Seconds.\n    Power reading "
               "state is:                   activated\n\n\nUnable to Get Channel Cipher Suites\n";
    return r;
}

}  // namespace hearth::test
