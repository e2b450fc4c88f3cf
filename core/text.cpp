#include "core/text.hpp"

#include <charconv>
#include <system_error>

namespace hearth {
namespace {

template <class T>
std::optional<T> parse_whole(std::string_view text) {
    const std::string_view t = trim_view(text);
    T v{};
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc{} || end != t.data() + t.size()) return std::nullopt;
    return v;
}

}  // namespace

std::string_view trim_view(std::string_view s, std::string_view chars) {
    const auto b = s.find_first_not_of(chars);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

std::string trimmed(std::string_view s, std::string_view chars) {
    return std::string(trim_view(s, chars));
}

std::string_view trim_end(std::string_view s, std::string_view chars) {
    const auto e = s.find_last_not_of(chars);
    return e == std::string_view::npos ? std::string_view{} : s.substr(0, e + 1);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string errno_text(int e) {
    return std::error_code(e, std::generic_category()).message();
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    return parse_whole<std::uint64_t>(text);
}

std::optional<std::int64_t> parse_i64(std::string_view text) {
    return parse_whole<std::int64_t>(text);
}

}  // namespace hearth
