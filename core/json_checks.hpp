#pragma once
// Field checks shared by the agent's request parsers (core/api_request, the
// HTTP bodies; core/agent_socket, the socket's lines): each refusal is a
// usage_error naming the key and what it must be, never nlohmann's own
// exception (tests/fuzz found those).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "error.hpp"

namespace hearth::json_checks {

// A finite number; `what` says what it is in the message.
double finite_number(const nlohmann::json& j, const char* key, const char* what);
// A safe name (is_safe_name).
std::string safe_string(const nlohmann::json& j, const char* key, const char* what);

// A whole number in [lo, hi].
template <class T>
T whole(const nlohmann::json& j, const char* key, T lo, T hi, const char* what) {
    if (!j.contains(key)) throw usage_error(std::string("missing '") + key + "' (" + what + ")");
    const nlohmann::json& v = j.at(key);
    if (!v.is_number_integer())
        throw usage_error(std::string("'") + key + "' must be a whole number (" + what + ")");
    // Compare as the widest type first: a huge unsigned must not wrap into range.
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        // lo too: a pid or cores of 0 is unsigned (tests/fuzz), and kill(2) reads pid 0 as
        // the agent's own process group.
        if (u > static_cast<std::uint64_t>(hi) || (lo > 0 && u < static_cast<std::uint64_t>(lo)))
            throw usage_error(std::string("'") + key + "' is out of range (" + what + ")");
        return static_cast<T>(u);
    }
    // nlohmann keeps every non-negative integer as unsigned: this one is negative.
    const auto s = v.get<std::int64_t>();
    if (s < static_cast<std::int64_t>(lo))
        throw usage_error(std::string("'") + key + "' is out of range (" + what + ")");
    return static_cast<T>(s);
}

}  // namespace hearth::json_checks
