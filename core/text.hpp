#pragma once
// Small text helpers every layer needs (kernel files, tokens, config
// values). One definition each: the copies that grew in several files
// disagreed on which characters count as space.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hearth {

// What sysfs, /proc, token files and people's typing surround values with.
inline constexpr std::string_view k_spaces = " \t\n\r\v\f";

// s without leading and trailing characters from `chars`.
std::string_view trim_view(std::string_view s, std::string_view chars = k_spaces);
std::string trimmed(std::string_view s, std::string_view chars = k_spaces);
// s without trailing characters from `chars` ("http://a/" -> "http://a").
std::string_view trim_end(std::string_view s, std::string_view chars = k_spaces);

// ASCII lower case: the names people type (days, units) are ASCII, and the
// C locale must not decide what matches.
std::string lower(std::string_view s);

// An errno value as a message ("Permission denied"), thread-safe unlike
// strerror.
std::string errno_text(int e);

// A whole decimal number, surrounding space allowed ("123456\n" from sysfs);
// nullopt for anything else, including overflow and a sign on parse_u64.
std::optional<std::uint64_t> parse_u64(std::string_view text);
std::optional<std::int64_t> parse_i64(std::string_view text);

}  // namespace hearth
