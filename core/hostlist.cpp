#include "core/hostlist.hpp"

#include <cstdint>
#include <unordered_map>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

constexpr unsigned k_max_slots = 4096;
// Far above any real cluster; stops "n[0-999999999]" from exhausting memory.
constexpr std::size_t k_max_hosts = 1000000;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// Not '\n': a line break inside an expression is an error, not padding.
constexpr std::string_view k_pad = " \t\r\v\f";

std::vector<std::string_view> split_words(std::string_view s) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        const std::size_t start = i;
        while (i < s.size() && !is_space(s[i])) ++i;
        if (i > start) words.push_back(s.substr(start, i - start));
    }
    return words;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// Parses a decimal number no larger than max; false when it is not one.
bool parse_bounded(std::string_view s, std::uint64_t max, std::uint64_t& out) {
    if (!all_digits(s)) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

std::string host_name_rule() {
    return "use letters, digits, '.', '-' and '_' (1 to 253 characters, not starting with "
           "'-' or '.')";
}

// One expression without top-level commas, e.g. "r[1-2]n[01-03]": every bracket group
// multiplies the result, as in Slurm.
void expand_one(std::string_view expr, std::string_view whole, const std::string& prefix,
                std::vector<std::string>& out) {
    const auto fail = [&](const std::string& problem) {
        return usage_error("bad Slurm host list '" + std::string(whole) + "': " + problem +
                           "; write it like node[01-03,07],gpu1");
    };
    const auto open = expr.find('[');
    if (open == std::string_view::npos) {
        out.push_back(prefix + std::string(expr));
        if (out.size() > k_max_hosts) {
            throw fail("it expands to more than " + std::to_string(k_max_hosts) + " hosts");
        }
        return;
    }
    const auto close = expr.find(']', open);
    if (close == std::string_view::npos) throw fail("'[' is not closed");
    const std::string head = prefix + std::string(expr.substr(0, open));
    const std::string_view body = expr.substr(open + 1, close - open - 1);
    const std::string_view tail = expr.substr(close + 1);
    if (body.empty()) throw fail("'[]' is empty");

    std::size_t start = 0;
    while (true) {
        const auto comma = body.find(',', start);
        const std::string_view item =
            body.substr(start, comma == std::string_view::npos ? body.npos : comma - start);
        if (item.empty()) throw fail("an empty entry inside '[" + std::string(body) + "]'");
        const auto dash = item.find('-');
        const std::string_view lo_text = item.substr(0, dash);
        const std::string_view hi_text =
            dash == std::string_view::npos ? lo_text : item.substr(dash + 1);
        std::uint64_t lo = 0, hi = 0;
        // 18 digits keeps every value and the loop counter far from overflow.
        constexpr std::uint64_t max = 999999999999999999ULL;
        if (!parse_bounded(lo_text, max, lo) || !parse_bounded(hi_text, max, hi)) {
            throw fail("'" + std::string(item) + "' is not a number or a range like 01-03");
        }
        if (hi < lo) {
            throw fail("range '" + std::string(item) + "' runs backwards (write " +
                       std::string(hi_text) + "-" + std::string(lo_text) + ")");
        }
        if (hi - lo >= k_max_hosts) {
            throw fail("it expands to more than " + std::to_string(k_max_hosts) + " hosts");
        }
        // Slurm pads to the width of the low bound: node[01-10] gives node01..node10.
        const std::size_t width = lo_text.size();
        for (std::uint64_t n = lo; n <= hi; ++n) {
            std::string digits = std::to_string(n);
            if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
            expand_one(tail, whole, head + digits, out);
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
}

}  // namespace

bool is_valid_host_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    if (name.front() == '-' || name.front() == '.') return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

std::vector<HostEntry> parse_hostfile(std::string_view text, std::string_view file_name) {
    std::vector<HostEntry> hosts;
    std::unordered_map<std::string, std::size_t> first_line;  // host -> line it was listed on
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;

        const std::string where = std::string(file_name) + ":" + std::to_string(line_no);
        const auto fail = [&](const std::string& problem, const std::string& fix) {
            return usage_error(where + ": " + problem + "; " + fix);
        };
        const auto hash = line.find('#');
        if (hash != std::string_view::npos) line = line.substr(0, hash);
        const auto words = split_words(trim_view(line, k_pad));
        if (words.empty()) continue;

        HostEntry entry;
        entry.name = std::string(words[0]);
        if (!is_valid_host_name(entry.name)) {
            throw fail("'" + entry.name + "' is not a valid host name", host_name_rule());
        }
        bool seen_max_slots = false;
        for (std::size_t k = 1; k < words.size(); ++k) {
            const std::string_view word = words[k];
            const auto eq = word.find('=');
            const std::string_view key = word.substr(0, eq);
            const std::string_view value =
                eq == std::string_view::npos ? std::string_view() : word.substr(eq + 1);
            if (key == "slots" && eq != std::string_view::npos) {
                if (entry.slots) {
                    throw fail("slots is given twice for '" + entry.name + "'", "keep one slots=N");
                }
                std::uint64_t n = 0;
                if (!parse_bounded(value, k_max_slots, n) || n == 0) {
                    throw fail("bad slot count '" + std::string(word) + "'",
                               "write slots=N with N from 1 to " + std::to_string(k_max_slots));
                }
                entry.slots = static_cast<unsigned>(n);
            } else if (key == "max_slots" && eq != std::string_view::npos) {
                // Open MPI's oversubscription cap; Hearth never oversubscribes, so it is
                // accepted for compatibility and otherwise ignored.
                if (seen_max_slots) {
                    throw fail("max_slots is given twice for '" + entry.name + "'",
                               "keep one max_slots=N");
                }
                seen_max_slots = true;
            } else {
                throw fail(
                    "unknown entry '" + std::string(word) + "' after host '" + entry.name + "'",
                    "write 'host', 'host slots=N' or 'host slots=N max_slots=M'");
            }
        }
        const auto [it, inserted] = first_line.emplace(entry.name, line_no);
        if (!inserted) {
            throw fail("host '" + entry.name + "' is listed twice (lines " +
                           std::to_string(it->second) + " and " + std::to_string(line_no) + ")",
                       "list each host once and give it slots=N");
        }
        hosts.push_back(std::move(entry));
    }
    if (hosts.empty()) {
        throw usage_error("hostfile '" + std::string(file_name) +
                          "' lists no hosts; put one host a line, e.g. 'node01 slots=8'");
    }
    return hosts;
}

std::vector<std::string> expand_slurm_hostlist(std::string_view text) {
    const auto fail = [&](const std::string& problem) {
        return usage_error("bad Slurm host list '" + std::string(text) + "': " + problem +
                           "; write it like node[01-03,07],gpu1");
    };
    // Split at commas outside brackets; commas inside belong to the bracket.
    std::vector<std::string_view> exprs;
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || (text[i] == ',' && depth == 0)) {
            exprs.push_back(trim_view(text.substr(start, i - start), k_pad));
            start = i + 1;
            continue;
        }
        if (text[i] == '[') {
            if (depth != 0) throw fail("brackets cannot be nested");
            depth = 1;
        } else if (text[i] == ']') {
            if (depth == 0) throw fail("']' at position " + std::to_string(i + 1) + " has no '['");
            depth = 0;
        }
    }
    if (depth != 0) throw fail("'[' is not closed");

    std::vector<std::string> hosts;
    for (std::string_view expr : exprs) {
        if (expr.empty()) {
            throw fail(text.empty() || trim_view(text, k_pad).empty() ? "it is empty"
                                                                      : "it has an empty entry");
        }
        const std::size_t before = hosts.size();
        expand_one(expr, text, "", hosts);
        for (std::size_t k = before; k < hosts.size(); ++k) {
            if (!is_valid_host_name(hosts[k])) {
                throw usage_error("bad Slurm host list '" + std::string(text) + "': '" + hosts[k] +
                                  "' is not a valid host name; " + host_name_rule());
            }
        }
    }
    return hosts;
}

}  // namespace hearth
