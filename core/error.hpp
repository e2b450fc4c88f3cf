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
    explicit Error(const std::string& message, ExitCode code = ExitCode::internal, int http = 0)
        : std::runtime_error(message), m_code(code), m_http(http) {}
    ExitCode code() const noexcept { return m_code; }
    // The HTTP status a server answers with: 400 for usage errors, 500 for
    // internal ones, unless the thrower named another (403, 404, 409).
    int http_status() const noexcept {
        if (m_http) return m_http;
        return m_code == ExitCode::usage ? 400 : 500;
    }

private:
    ExitCode m_code;
    int m_http;
};

// Bad input from a user: exit 2, nothing started or written.
inline Error usage_error(const std::string& message) { return Error(message, ExitCode::usage); }
// Outside the caller's role (HTTP 403), absent or not the caller's (404), or
// not possible in the current state (409): exit 2 in a CLI.
inline Error forbidden_error(const std::string& message) { return Error(message, ExitCode::usage, 403); }
inline Error not_found_error(const std::string& message) { return Error(message, ExitCode::usage, 404); }
inline Error conflict_error(const std::string& message) { return Error(message, ExitCode::usage, 409); }

}  // namespace hearth
