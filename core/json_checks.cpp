#include "json_checks.hpp"

#include <cmath>

#include "grid.hpp"

namespace hearth::json_checks {

double finite_number(const nlohmann::json& j, const char* key, const char* what) {
    if (!j.contains(key)) throw usage_error(std::string("missing '") + key + "' (" + what + ")");
    const nlohmann::json& v = j.at(key);
    if (!v.is_number())
        throw usage_error(std::string("'") + key + "' must be a number (" + what + ")");
    const double d = v.get<double>();
    if (!std::isfinite(d))
        throw usage_error(std::string("'") + key + "' must be finite (" + what + ")");
    return d;
}

std::string safe_string(const nlohmann::json& j, const char* key, const char* what) {
    // at() would throw nlohmann's out_of_range, not a usage error (tests/fuzz).
    if (!j.contains(key)) throw usage_error(std::string("missing '") + key + "' (" + what + ")");
    const nlohmann::json& v = j.at(key);
    if (!v.is_string())
        throw usage_error(std::string("'") + key + "' must be a string (" + what + ")");
    std::string s = v.get<std::string>();
    if (!is_safe_name(s))
        throw usage_error(std::string("'") + key +
                          "' must be 1-64 letters, digits, '.', '_' or '-' (" + what + ")");
    return s;
}

}  // namespace hearth::json_checks
