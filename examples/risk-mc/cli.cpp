#include "examples/risk-mc/cli.hpp"

#include <algorithm>

namespace risk_mc {

namespace {

bool all_digits(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits only, at most 18 of them (so the value fits before any range check).
bool to_uint(const std::string& s, std::uint64_t& v) {
    if (!all_digits(s) || s.size() > 18) return false;
    v = std::stoull(s);
    return true;
}

}  // namespace

BlockSet BlockSet::parse(const std::string& option, const std::string& text) {
    const std::string form = option + " '" + text + "': ";
    const std::string hint = "write A-B or a comma list of numbers and ranges, e.g. 0-63 or 0-9,12";
    BlockSet set;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = text.find(',', start);
        std::string part = text.substr(start, comma == std::string::npos ? comma : comma - start);
        std::size_t dash = part.find('-');
        std::uint64_t a = 0, b = 0;
        bool ok = dash == std::string::npos
                      ? to_uint(part, a) && to_uint(part, b)
                      : to_uint(part.substr(0, dash), a) && to_uint(part.substr(dash + 1), b);
        if (!ok) throw UsageError(form + "not a block set; " + hint);
        if (a > b) throw UsageError(form + "range '" + part + "' is reversed; write it low-high");
        if (b > k_max_block)
            throw UsageError(form + "block numbers go up to " + std::to_string(k_max_block));
        set.m_ranges.emplace_back(a, b);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    std::sort(set.m_ranges.begin(), set.m_ranges.end());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> joined;
    for (const auto& r : set.m_ranges) {
        if (!joined.empty() && r.first <= joined.back().second)
            throw UsageError(form + "block " + std::to_string(r.first) +
                             " is listed twice; list each block once");
        if (!joined.empty() && r.first == joined.back().second + 1)
            joined.back().second = r.second;
        else
            joined.push_back(r);
    }
    set.m_ranges = std::move(joined);
    return set;
}

std::uint64_t BlockSet::size() const {
    std::uint64_t n = 0;
    for (const auto& [a, b] : m_ranges) n += b - a + 1;
    return n;
}

std::string BlockSet::str() const {
    std::string s;
    for (const auto& [a, b] : m_ranges) {
        if (!s.empty()) s += ',';
        s += std::to_string(a);
        if (b != a) s += "-" + std::to_string(b);
    }
    return s;
}

std::uint64_t parse_count(const std::string& option, const std::string& text, std::uint64_t lo,
                          std::uint64_t hi) {
    std::uint64_t v = 0;
    if (!to_uint(text, v) || v < lo || v > hi)
        throw UsageError(option + " '" + text + "': expected a whole number from " +
                         std::to_string(lo) + " to " + std::to_string(hi));
    return v;
}

bool take_flag(const std::vector<std::string>& args, std::size_t& i, const std::string& name) {
    if (args[i] != name) return false;
    ++i;
    return true;
}

std::string option_name(const std::string& arg) {
    return arg.substr(0, arg.find('='));
}

std::string option_value(const std::vector<std::string>& args, std::size_t& i) {
    const std::string& arg = args[i];
    if (std::size_t eq = arg.find('='); eq != std::string::npos) {
        ++i;
        return arg.substr(eq + 1);
    }
    if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
    i += 2;
    return args[i - 1];
}

}  // namespace risk_mc
