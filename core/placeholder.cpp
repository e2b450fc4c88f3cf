#include "core/placeholder.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/error.hpp"

namespace hearth {
namespace {

// Wide enough for any sane zero-padded frame number; larger is almost surely a typo.
constexpr unsigned k_max_width = 64;

std::string join_command(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& word : argv) {
        if (!out.empty()) out += ' ';
        out += word;
    }
    return out;
}

std::string valid_list() {
    std::string out;
    for (const auto& name : CommandTemplate::valid_names()) {
        if (!out.empty()) out += ' ';
        out += '{' + name + '}';
    }
    return out;
}

std::string pad(std::string value, unsigned width, bool zero_pad) {
    // Zero padding is plain left padding with '0': "-5" at width 4 becomes "00-5" and "ab"
    // becomes "00ab". Interpreting signs would make the result depend on the item's type,
    // and items are text; users who need signed numbers can pad them themselves.
    if (value.size() < width) value.insert(0, width - value.size(), zero_pad ? '0' : ' ');
    return value;
}

}  // namespace

const std::vector<std::string>& CommandTemplate::valid_names() {
    static const std::vector<std::string> names = {"item",    "first",  "last", "items", "task",
                                                   "attempt", "tenant", "job",  "cores"};
    return names;
}

CommandTemplate CommandTemplate::parse(const std::vector<std::string>& argv, std::uint64_t chunk) {
    CommandTemplate result;
    result.m_words = argv;
    const std::string command = join_command(argv);
    const auto fail = [&](const std::string& problem, const std::string& fix) {
        return usage_error(problem + " in '" + command + "'; " + fix);
    };

    for (const auto& word : argv) {
        std::vector<Piece> pieces;
        std::string literal;
        const auto flush = [&] {
            if (!literal.empty()) pieces.push_back(Piece{std::move(literal), "", 0, false});
            literal.clear();
        };
        for (std::size_t i = 0; i < word.size(); ++i) {
            const char c = word[i];
            if (c == '}') {
                if (i + 1 < word.size() && word[i + 1] == '}') {
                    literal += '}';
                    ++i;
                    continue;
                }
                throw fail("stray '}'", "write a literal brace as }}");
            }
            if (c != '{') {
                literal += c;
                continue;
            }
            if (i + 1 < word.size() && word[i + 1] == '{') {
                literal += '{';
                ++i;
                continue;
            }
            const auto close = word.find('}', i + 1);
            if (close == std::string::npos) {
                throw fail("unclosed '{'",
                           "close the placeholder with } or write a literal brace as {{");
            }
            const std::string body = word.substr(i + 1, close - i - 1);
            const std::string whole = word.substr(i, close - i + 1);
            const auto colon = body.find(':');
            const std::string name = body.substr(0, colon);
            Piece piece{"", name, 0, false};
            const auto& names = valid_names();
            if (std::find(names.begin(), names.end(), name) == names.end()) {
                throw usage_error("unknown placeholder " + whole + " in '" + command +
                                  "'; valid placeholders: " + valid_list());
            }
            if (colon != std::string::npos) {
                const std::string width = body.substr(colon + 1);
                const bool digits = !width.empty() && width.size() <= 3 &&
                                    std::all_of(width.begin(), width.end(),
                                                [](char d) { return d >= '0' && d <= '9'; });
                const unsigned value = digits ? static_cast<unsigned>(std::stoul(width)) : 0;
                if (!digits || value == 0 || value > k_max_width) {
                    throw fail("bad width '" + width + "' of " + whole,
                               "write a width from 1 to " + std::to_string(k_max_width) +
                                   ", e.g. {" + name + ":04} to zero-pad or {" + name +
                                   ":4} to pad with spaces");
                }
                piece.width = value;
                piece.zero_pad = width.front() == '0';
            }
            if (name == "item" && chunk > 1) {
                throw usage_error("{item} in '" + command +
                                  "' stands for a single item, but each task gets " +
                                  std::to_string(chunk) + " items (chunk " + std::to_string(chunk) +
                                  "); use {first}, {last} or {items}");
            }
            flush();
            pieces.push_back(std::move(piece));
            i = close;
        }
        flush();
        result.m_parsed.push_back(std::move(pieces));
    }
    return result;
}

std::vector<std::string> CommandTemplate::expand(const TaskValues& values) const {
    const auto value_of = [&](const std::string& name) -> std::string {
        if (name == "item" || name == "first") {
            return values.items.empty() ? std::string() : values.items.front();
        }
        if (name == "last") return values.items.empty() ? std::string() : values.items.back();
        if (name == "items") {
            std::string out;
            for (std::size_t k = 0; k < values.items.size(); ++k) {
                if (k != 0) out += ',';
                out += values.items[k];
            }
            return out;
        }
        if (name == "task") return std::to_string(values.task);
        if (name == "attempt") return std::to_string(values.attempt);
        if (name == "tenant") return values.tenant;
        if (name == "cores") return std::to_string(values.cores);
        return values.job;  // parse() admits no other name
    };

    std::vector<std::string> out;
    out.reserve(m_parsed.size());
    for (const auto& pieces : m_parsed) {
        // Values are appended, never scanned again, so an item holding "{x}" stays literal.
        std::string word;
        for (const auto& piece : pieces) {
            if (piece.name.empty()) {
                word += piece.literal;
            } else {
                word += pad(value_of(piece.name), piece.width, piece.zero_pad);
            }
        }
        out.push_back(std::move(word));
    }
    return out;
}

bool CommandTemplate::has_placeholder(std::size_t i) const {
    const auto& pieces = m_parsed.at(i);
    return std::any_of(pieces.begin(), pieces.end(),
                       [](const Piece& p) { return !p.name.empty(); });
}

}  // namespace hearth
