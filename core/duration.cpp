#include "core/duration.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/text.hpp"
#include "core/utc_time.hpp"

namespace hearth {
namespace {

constexpr const char* k_examples = "e.g. 30s, 5m, 1h30m";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Milliseconds per unit; 0 for an unknown unit.
std::int64_t unit_ms(std::string_view unit) {
    if (unit == "ms") return 1;
    if (unit == "s") return 1000;
    if (unit == "m") return 60 * 1000;
    if (unit == "h") return 60 * 60 * 1000;
    if (unit == "d") return 24 * 60 * 60 * 1000;
    return 0;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
    const auto fail = [&](const std::string& problem) {
        return usage_error("bad duration '" + std::string(text) + "': " + problem +
                           "; write a positive number with a unit (ms, s, m, h, d), " + k_examples);
    };
    const std::string_view t = trim_view(text, " \t");
    if (t.empty()) throw fail("it is empty");
    if (t.front() == '-') throw fail("it is negative");

    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    std::int64_t total = 0;
    std::size_t i = 0;
    while (i < t.size()) {
        const std::size_t num_start = i;
        std::int64_t n = 0;
        while (i < t.size() && is_digit(t[i])) {
            const int d = t[i] - '0';
            if (n > (max - d) / 10) throw fail("it is too long to represent");
            n = n * 10 + d;
            ++i;
        }
        if (i == num_start) {
            throw fail("'" + std::string(t.substr(i, 1)) + "' at position " +
                       std::to_string(i + 1) + " is not part of a number");
        }
        const std::size_t unit_start = i;
        while (i < t.size() && is_letter(t[i])) ++i;
        const std::string_view unit = t.substr(unit_start, i - unit_start);
        std::int64_t per = 0;
        if (unit.empty()) {
            // A bare number means seconds, but only alone: "1h30" is more likely a typo
            // for 1h30m than a request for 1h and 30 seconds.
            if (num_start != 0 || i != t.size()) {
                if (i < t.size() && (t[i] == '.' || t[i] == ',')) {
                    throw fail("fractions are not supported (write 90m, not 1.5h)");
                }
                if (i < t.size()) {
                    throw fail("'" + std::string(t.substr(i, 1)) + "' is not a unit");
                }
                throw fail("the last number has no unit");
            }
            per = 1000;
        } else {
            per = unit_ms(unit);
            if (per == 0) throw fail("unknown unit '" + std::string(unit) + "'");
        }
        if (n > max / per || total > max - n * per) throw fail("it is too long to represent");
        total += n * per;
    }
    if (total <= 0) throw fail("it must be greater than zero");
    return std::chrono::milliseconds(total);
}

std::int64_t parse_deadline_ms(std::string_view text, std::int64_t now_ms) {
    const std::int64_t at = text.find('-') != std::string_view::npos
                                ? parse_utc_ms(text)
                                : now_ms + parse_duration(text).count();
    if (at <= now_ms)
        throw usage_error("--deadline " + std::string(text) +
                          " is in the past; give a later time or a duration such as 6h");
    return at;
}

}  // namespace hearth
