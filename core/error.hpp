#pragma once
// The one error type of Hearth: it carries a message a user can act on (the
// problem and the fix) and the exit code the program should end with.
#include <stdexcept>
#include <string>

namespace hearth {

enum class ExitCode : int {
    ok = 0,
    tasks_failed = 1,  // some tasks failed after their retries
    usage = 2,         // bad input: nothing was started
    no_grid = 3,       // the grid could not run the job (no usable node)
    internal = 4,      // a fault of Hearth or of the system (disk full, ...)
};

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, ExitCode code = ExitCode::internal)
        : std::runtime_error(message), m_code(code) {}
    ExitCode code() const noexcept { return m_code; }

private:
    ExitCode m_code;
};

// Bad input from a user: exit 2, nothing started or written.
inline Error usage_error(const std::string& message) { return Error(message, ExitCode::usage); }

}  // namespace hearth
