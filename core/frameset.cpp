#include "core/frameset.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

// 2^62 leaves headroom so that first + k*step and prefix sums never overflow int64/uint64.
constexpr std::int64_t k_max_frame = std::int64_t{1} << 62;
constexpr const char* k_syntax_hint = "write parts as N, A-B or A-BxS (e.g. 1-10,15,20-40x2)";

// Why a piece of text is not a frame number; nullopt when it is one.
enum class NumberError { empty, not_digits, too_big };

std::optional<NumberError> parse_number(std::string_view s, std::int64_t& out) {
    if (s.empty()) return NumberError::empty;
    std::int64_t value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return NumberError::not_digits;
        // Checked before multiplying so the accumulator itself can never overflow.
        if (value > (k_max_frame - (c - '0')) / 10) return NumberError::too_big;
        value = value * 10 + (c - '0');
    }
    out = value;
    return std::nullopt;
}

std::string number_problem(NumberError err, std::string_view what, std::string_view number,
                           std::string_view part) {
    switch (err) {
        case NumberError::empty:
            return std::string(what) + " is missing in '" + std::string(part) + "'";
        case NumberError::not_digits:
            return "'" + std::string(number) + "' in '" + std::string(part) +
                   "' is not a non-negative whole number";
        case NumberError::too_big:
            return std::string(number) + " in '" + std::string(part) +
                   "' is above the largest allowed value " + std::to_string(k_max_frame) +
                   " (2^62)";
    }
    return "bad number";
}

struct ParsedPart {
    FrameRange range;
    std::string text;  // as written (trimmed), to name it in errors
};

FrameRange parse_part(std::string_view part, std::string_view whole) {
    const auto fail = [&](const std::string& problem, const std::string& fix) {
        return usage_error("bad frame set '" + std::string(whole) + "': " + problem + "; " + fix);
    };
    const auto number = [&](std::string_view s, std::string_view what) {
        std::int64_t v = 0;
        if (auto err = parse_number(s, v)) {
            const std::string fix =
                *err == NumberError::too_big ? "use smaller frame numbers" : k_syntax_hint;
            throw fail(number_problem(*err, what, s, part), fix);
        }
        return v;
    };

    if (part.front() == '-') {
        throw fail("'" + std::string(part) + "' starts with '-' but frames cannot be negative",
                   "use frames >= 0, e.g. 0-3");
    }
    const auto dash = part.find('-');
    const auto x = part.find('x');
    if (dash == std::string_view::npos) {
        const std::string_view before_x = part.substr(0, x);
        const bool step_on_number =
            x != std::string_view::npos && !before_x.empty() &&
            before_x.find_first_not_of("0123456789") == std::string_view::npos;
        if (step_on_number) {
            throw fail("'" + std::string(part) + "' has a step but no range",
                       "write a stepped range as A-BxS, e.g. 0-10x2");
        }
        const std::int64_t frame = number(part, "the frame");
        return FrameRange{frame, frame, 1};
    }
    if (x != std::string_view::npos && x < dash) {
        throw fail("'" + std::string(part) + "' puts the step before the range", k_syntax_hint);
    }
    const std::string_view a_text = part.substr(0, dash);
    const std::string_view rest = part.substr(dash + 1);
    const auto x_in_rest = rest.find('x');
    // "1-x" is a bad last frame, not a missing one followed by a step.
    const std::string_view b_text = x_in_rest == 0 ? rest : rest.substr(0, x_in_rest);
    const std::int64_t a = number(a_text, "the first frame");
    const std::int64_t b = number(b_text, "the last frame");
    std::int64_t step = 1;
    if (x_in_rest != std::string_view::npos && x_in_rest != 0) {
        step = number(rest.substr(x_in_rest + 1), "the step after 'x'");
        if (step == 0) {
            throw fail("step 0 in '" + std::string(part) + "' must be at least 1",
                       "write e.g. " + std::string(a_text) + "-" + std::string(b_text) + "x1");
        }
    }
    if (b < a) {
        std::string fixed = std::to_string(b) + "-" + std::to_string(a);
        if (step != 1) fixed += "x" + std::to_string(step);
        throw fail("range " + std::string(part) + " runs backwards", "write it as " + fixed);
    }
    // A last frame the step does not land on is accepted: render farms treat the end as a bound.
    const std::int64_t last = a + (b - a) / step * step;
    return FrameRange{a, last, last == a ? 1 : step};
}

using i128 = __int128;

i128 floor_div(i128 a, i128 b) {  // b > 0
    i128 q = a / b;
    if ((a % b != 0) && (a < 0)) --q;
    return q;
}

// Extended Euclid: returns g and sets x, y with a*x + b*y = g.
i128 ext_gcd(i128 a, i128 b, i128& x, i128& y) {
    if (b == 0) {
        x = 1;
        y = 0;
        return a;
    }
    i128 x1 = 0, y1 = 0;
    const i128 g = ext_gcd(b, a % b, x1, y1);
    x = y1;
    y = x1 - (a / b) * y1;
    return g;
}

// The smallest frame two progressions share, found by CRT inside their common window so
// that ranges of 1e12 frames cost nothing.
std::optional<std::int64_t> first_common_frame(const FrameRange& r1, const FrameRange& r2) {
    const i128 lo = std::max(r1.first, r2.first);
    const i128 hi = std::min(r1.last, r2.last);
    if (lo > hi) return std::nullopt;
    const i128 s1 = r1.step, s2 = r2.step;
    i128 p = 0, q = 0;
    const i128 g = ext_gcd(s1, s2, p, q);  // s1*p + s2*q = g
    const i128 diff = i128{r2.first} - r1.first;
    if (diff % g != 0) return std::nullopt;
    const i128 m2 = s2 / g;
    // x = r1.first + s1*k with s1*k ≡ diff (mod s2)  <=>  k ≡ (diff/g)*p (mod m2).
    i128 k = ((diff / g) % m2) * (p % m2) % m2;
    if (k < 0) k += m2;
    const i128 lcm = s1 * m2;
    const i128 x0 = i128{r1.first} + s1 * k;
    const i128 x = x0 + (floor_div(lo - x0 + lcm - 1, lcm)) * lcm;
    if (x > hi) return std::nullopt;
    return static_cast<std::int64_t>(x);
}

std::string range_text(const FrameRange& r) {
    if (r.first == r.last) return std::to_string(r.first);
    std::string s = std::to_string(r.first) + "-" + std::to_string(r.last);
    if (r.step != 1) s += "x" + std::to_string(r.step);
    return s;
}

void check_no_overlap(const std::vector<ParsedPart>& parts, std::string_view whole) {
    // Sweep by first frame so only parts whose spans overlap are compared; lists of many
    // single frames stay near-linear instead of quadratic.
    std::vector<std::size_t> order(parts.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return parts[a].range.first < parts[b].range.first;
    });
    std::vector<std::size_t> active;
    for (std::size_t idx : order) {
        const FrameRange& r = parts[idx].range;
        std::erase_if(active, [&](std::size_t k) { return parts[k].range.last < r.first; });
        for (std::size_t k : active) {
            if (auto frame = first_common_frame(parts[k].range, r)) {
                const std::size_t a = std::min(k, idx), b = std::max(k, idx);
                throw usage_error("bad frame set '" + std::string(whole) + "': parts '" +
                                  parts[a].text + "' and '" + parts[b].text + "' share frame " +
                                  std::to_string(*frame) + "; list every frame only once");
            }
        }
        active.push_back(idx);
    }
}

}  // namespace

FrameSet FrameSet::parse(std::string_view text) {
    const std::string_view whole = trim_view(text);
    if (whole.empty()) {
        throw usage_error("bad frame set '" + std::string(text) +
                          "': it is empty; give frames such as 1-240 or 1-10,15,20-40x2");
    }
    std::vector<ParsedPart> parts;
    std::size_t start = 0;
    std::size_t number = 1;
    while (true) {
        const auto comma = whole.find(',', start);
        const std::string_view raw =
            whole.substr(start, comma == std::string_view::npos ? whole.npos : comma - start);
        const std::string_view part = trim_view(raw);
        if (part.empty()) {
            throw usage_error("bad frame set '" + std::string(whole) + "': part " +
                              std::to_string(number) +
                              " is empty; remove the extra comma (e.g. 1,3 not 1,,3)");
        }
        parts.push_back(ParsedPart{parse_part(part, whole), std::string(part)});
        if (comma == std::string_view::npos) break;
        start = comma + 1;
        ++number;
    }
    check_no_overlap(parts, whole);

    FrameSet set;
    for (const auto& p : parts) {
        set.m_prefix.push_back(set.m_total);
        set.m_ranges.push_back(p.range);
        set.m_total += p.range.count();
    }
    return set;
}

FrameSet FrameSet::range(std::int64_t first, std::int64_t last) {
    if (first > last || first < 0) {
        throw std::invalid_argument("FrameSet::range: need 0 <= first <= last, got " +
                                    std::to_string(first) + ".." + std::to_string(last));
    }
    FrameSet set;
    set.m_ranges.push_back(FrameRange{first, last, 1});
    set.m_prefix.push_back(0);
    set.m_total = set.m_ranges.back().count();
    return set;
}

std::int64_t FrameSet::at(std::uint64_t i) const {
    if (i >= m_total) {
        throw std::out_of_range("FrameSet::at: index " + std::to_string(i) + " >= size " +
                                std::to_string(m_total));
    }
    const auto it = std::upper_bound(m_prefix.begin(), m_prefix.end(), i);
    const auto k = static_cast<std::size_t>(it - m_prefix.begin()) - 1;
    const FrameRange& r = m_ranges[k];
    return r.first + static_cast<std::int64_t>(i - m_prefix[k]) * r.step;
}

std::string FrameSet::to_string() const {
    std::string out;
    for (const auto& r : m_ranges) {
        if (!out.empty()) out += ',';
        out += range_text(r);
    }
    return out;
}

FrameSet parse_seed_range(std::string_view text) {
    const std::string_view t = trim_view(text);
    const auto fail = [&](const std::string& problem) {
        return usage_error("bad --seeds '" + std::string(text) + "': " + problem +
                           "; write --seeds A-B with 0 <= A <= B, e.g. --seeds 1-1000");
    };
    if (t.empty()) throw fail("it is empty");
    const auto dash = t.find('-');
    const std::string_view a_text = t.substr(0, dash);
    const std::string_view b_text = dash == std::string_view::npos ? a_text : t.substr(dash + 1);
    std::int64_t a = 0, b = 0;
    for (auto [s, v] : {std::pair{a_text, &a}, std::pair{b_text, &b}}) {
        if (auto err = parse_number(s, *v)) {
            switch (*err) {
                case NumberError::empty:
                    throw fail(t.front() == '-' ? "seeds cannot be negative"
                                                : "a bound of the range is missing");
                case NumberError::not_digits:
                    throw fail("'" + std::string(s) + "' is not a non-negative whole number");
                case NumberError::too_big:
                    throw fail(std::string(s) + " is above the largest allowed value " +
                               std::to_string(k_max_frame) + " (2^62)");
            }
        }
    }
    if (b < a) throw fail("range " + std::string(t) + " runs backwards");
    return FrameSet::range(a, b);
}

}  // namespace hearth
