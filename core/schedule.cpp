#include "core/schedule.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {

namespace {

constexpr int k_minutes_per_day = 1440;
constexpr int k_minutes_per_week = 7 * k_minutes_per_day;
constexpr std::uint8_t k_all_days = 0x7f;
constexpr std::uint8_t k_weekdays = 0x1f;
constexpr std::uint8_t k_weekends = 0x60;
constexpr std::array<const char*, 7> k_day_names = {"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};
constexpr std::array<const char*, 7> k_day_full_names = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

const char* const k_day_forms =
    "write daily, weekdays, weekends, mon..sun, a range like mon-fri or a list like sat,sun";
const char* const k_time_form = "write HH:MM from 00:00 to 24:00";
const char* const k_temp_form = "write degrees C like 60, 60.5 or 60C";

[[noreturn]] void fail(const std::string& msg) {
    throw usage_error("schedule: " + msg);
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A rule as words and the punctuation ',' and '-' (each its own token), so
// that "mon-fri", "mon - fri", "06:00-22:00" and "sat, sun" all read alike.
std::vector<std::string> tokenize(std::string_view rule) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < rule.size()) {
        char c = rule[i];
        if (is_space(c)) {
            ++i;
        } else if (c == ',' || c == '-') {
            out.emplace_back(1, c);
            ++i;
        } else {
            std::size_t j = i;
            while (j < rule.size() && !is_space(rule[j]) && rule[j] != ',' && rule[j] != '-') ++j;
            out.emplace_back(rule.substr(i, j - i));
            i = j;
        }
    }
    return out;
}

// The day of the week (0 = Monday) a word names, or -1.
int day_index(const std::string& word) {
    const std::string w = lower(word);
    for (int d = 0; d < 7; ++d)
        if (w == k_day_names[d] || w == k_day_full_names[d]) return d;
    return -1;
}

// Plain digits, never "1e+25" or "1e-05": the parser reads digits and one
// '.' only, and canonical text must parse back. The shortest fixed form that
// round-trips; 400 chars hold any double (DBL_MAX has 309 digits, the least
// subnormal about 330 after "0.").
std::string format_number(double v) {
    char buf[400];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    return std::string(buf, r.ptr);
}

std::string format_time(int minutes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
    return buf;
}

class RuleParser {
public:
    RuleParser(std::vector<std::string> tokens, std::string rule)
        : m_tok(std::move(tokens)), m_rule(std::move(rule)) {}

    bool at_end() const { return m_pos >= m_tok.size(); }
    const std::string& peek(std::size_t ahead = 0) const {
        static const std::string none;
        return m_pos + ahead < m_tok.size() ? m_tok[m_pos + ahead] : none;
    }
    std::string next() { return at_end() ? std::string() : m_tok[m_pos++]; }
    bool next_is(std::string_view word, std::size_t ahead = 0) const {
        return m_pos + ahead < m_tok.size() && lower(m_tok[m_pos + ahead]) == word;
    }

    // "otherwise T": the whole rule.
    Celsius otherwise() {
        next();  // "otherwise"
        Celsius t = temperature("otherwise");
        if (!at_end())
            fail("unexpected " + quoted(peek()) + " after 'otherwise " + format_number(t.value) +
                 "'; 'otherwise' takes one temperature, end the rule with ';'");
        return t;
    }

    // [days] HH:MM-HH:MM at T {, HH:MM-HH:MM at T}
    void windows(std::vector<ScheduleWindow>& out) {
        const std::uint8_t days = day_set();
        if (at_end())
            fail(quoted(m_rule) + " has no window; write e.g. '" + m_rule + " 06:00-22:00 at 60'");
        for (;;) {
            ScheduleWindow w;
            w.days = days;
            const std::string start_word = peek();
            w.start_min = time();
            if (next() != "-")
                fail("expected '-' after " + quoted(start_word) +
                     "; write a window as HH:MM-HH:MM at T");
            const std::string end_word = peek();
            w.end_min = time();
            const std::string window = start_word + "-" + end_word;
            if (w.end_min <= w.start_min)
                fail("window " + quoted(window) +
                     " ends at or before its start; a window may not wrap past midnight, so "
                     "write two (e.g. 22:00-24:00 and 00:00-06:00)");
            if (!next_is("at"))
                fail("expected 'at' after " + quoted(window) + ", found " + found() +
                     "; write HH:MM-HH:MM at T");
            next();
            w.target = temperature("at");
            out.push_back(w);
            if (at_end()) return;
            if (peek() != ",")
                fail("unexpected " + quoted(peek()) + " after " +
                     quoted(window + " at " + format_number(w.target.value)) +
                     "; separate windows with ',' and rules with ';'");
            next();
            if (at_end()) fail("nothing after the last ','; remove it or add a window");
        }
    }

private:
    std::string found() const { return at_end() ? "the end of the rule" : quoted(peek()); }

    std::uint8_t day_set() {
        std::uint8_t days = 0;
        while (!at_end() && is_letter(peek()[0])) {
            const std::string word = next();
            const std::string w = lower(word);
            if (w == "daily") {
                days |= k_all_days;
            } else if (w == "weekdays") {
                days |= k_weekdays;
            } else if (w == "weekends") {
                days |= k_weekends;
            } else if (w == "at") {
                fail("'at' needs a window before it; write HH:MM-HH:MM at T");
            } else if (w == "otherwise") {
                fail("'otherwise' must be a rule of its own; put a ';' before it");
            } else {
                const int first = day_index(word);
                if (first < 0) fail(quoted(word) + " is not a day; " + k_day_forms);
                int last = first;
                if (peek() == "-" && !peek(1).empty() && is_letter(peek(1)[0])) {
                    next();
                    const std::string to = next();
                    last = day_index(to);
                    if (last < 0) fail(quoted(to) + " is not a day; " + k_day_forms);
                }
                // A range may wrap the week end: "fri-mon" is Friday to Monday.
                for (int d = first;; d = (d + 1) % 7) {
                    days |= static_cast<std::uint8_t>(1u << d);
                    if (d == last) break;
                }
            }
            if (peek() == "," && !peek(1).empty() && is_letter(peek(1)[0]))
                next();
            else
                break;
        }
        return days ? days : k_all_days;
    }

    int time() {
        if (at_end())
            fail("expected a time, found the end of the rule; " + std::string(k_time_form));
        const std::string word = next();
        if (lower(word) == "otherwise")
            fail("'otherwise' must be a rule of its own; put a ';' before it");
        auto t = parse_clock_time(word);
        if (!t) fail(quoted(word) + " is not a time; " + k_time_form);
        return *t;
    }

    Celsius temperature(const char* after) {
        if (at_end())
            fail("expected a temperature after '" + std::string(after) + "'; " + k_temp_form);
        std::string word = next();
        bool negative = false;
        if (word == "-" && !at_end()) {
            negative = true;
            word = next();
        }
        std::string number = word;
        if (!number.empty() && (number.back() == 'C' || number.back() == 'c')) number.pop_back();
        // Digits and one '.' only: strtod alone would also take "nan", "inf" and "0x3c".
        bool ok = !number.empty() && number != ".";
        int dots = 0;
        for (char c : number) {
            if (c == '.')
                ++dots;
            else if (!is_digit(c))
                ok = false;
        }
        double v = ok && dots <= 1 ? std::strtod(number.c_str(), nullptr) : NAN;
        if (!std::isfinite(v))
            fail(quoted(negative ? "-" + word : word) + " is not a temperature; " + k_temp_form);
        if (negative) v = -v;
        // "60 C": the unit as a word of its own.
        if (number.size() == word.size() && (peek() == "C" || peek() == "c")) next();
        return Celsius{v};
    }

    std::vector<std::string> m_tok;
    std::string m_rule;
    std::size_t m_pos = 0;
};

}  // namespace

std::optional<int> parse_clock_time(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3)
        return std::nullopt;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (i != colon && !is_digit(text[i])) return std::nullopt;
    int h = 0;
    for (std::size_t i = 0; i < colon; ++i) h = h * 10 + (text[i] - '0');
    const int m = (text[colon + 1] - '0') * 10 + (text[colon + 2] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
}

Schedule parse_schedule(const std::string& spec) {
    if (trimmed(spec).empty()) fail("empty; write e.g. 'weekdays 06:00-22:00 at 60; otherwise 55'");
    Schedule s;
    bool have_otherwise = false;
    std::size_t begin = 0;
    for (;;) {
        const std::size_t semi = spec.find(';', begin);
        const std::string rule = trimmed(std::string_view(spec).substr(
            begin, semi == std::string::npos ? std::string::npos : semi - begin));
        if (rule.empty())
            fail("empty rule (two ';' in a row, or a ';' at either end); remove the extra ';'");
        RuleParser p(tokenize(rule), rule);
        if (p.next_is("otherwise")) {
            if (have_otherwise) fail("two 'otherwise' rules; keep one");
            s.otherwise = p.otherwise();
            have_otherwise = true;
        } else {
            p.windows(s.windows);
        }
        if (semi == std::string::npos) break;
        begin = semi + 1;
    }
    if (!have_otherwise)
        fail(
            "no 'otherwise' rule; end the schedule with e.g. '; otherwise 55' to give the "
            "target outside its windows");
    return s;
}

Celsius Schedule::target_at(int minute) const {
    minute %= k_minutes_per_week;
    if (minute < 0) minute += k_minutes_per_week;
    const int day = minute / k_minutes_per_day;
    const int of_day = minute % k_minutes_per_day;
    for (const auto& w : windows)
        if ((w.days >> day & 1) && w.start_min <= of_day && of_day < w.end_min) return w.target;
    return otherwise;
}

std::vector<Celsius> Schedule::all_targets() const {
    std::vector<Celsius> out;
    auto add = [&out](Celsius t) {
        if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    };
    for (const auto& w : windows) add(w.target);
    add(otherwise);
    return out;
}

namespace {

std::string format_days(std::uint8_t days) {
    if (days == k_all_days) return "daily";
    if (days == k_weekdays) return "weekdays";
    if (days == k_weekends) return "weekends";
    std::string out;
    for (int d = 0; d < 7;) {
        if (!(days >> d & 1)) {
            ++d;
            continue;
        }
        int e = d;
        while (e + 1 < 7 && (days >> (e + 1) & 1)) ++e;
        if (!out.empty()) out += ',';
        out += k_day_names[d];
        if (e == d + 1)
            out += std::string(",") + k_day_names[e];
        else if (e > d + 1)
            out += std::string("-") + k_day_names[e];
        d = e + 1;
    }
    return out;
}

}  // namespace

std::string format_schedule(const Schedule& s) {
    std::string out;
    const ScheduleWindow* prev = nullptr;
    for (const auto& w : s.windows) {
        // A window on no day never applies, and no text can say so.
        if ((w.days & k_all_days) == 0) continue;
        if (prev && prev->days == w.days) {
            out += ", ";
        } else {
            if (!out.empty()) out += "; ";
            out += format_days(w.days & k_all_days) + " ";
        }
        out += format_time(w.start_min) + "-" + format_time(w.end_min) + " at " +
               format_number(w.target.value);
        prev = &w;
    }
    if (!out.empty()) out += "; ";
    return out + "otherwise " + format_number(s.otherwise.value);
}

int minute_of_week(std::int64_t unix_s, std::int64_t utc_offset_s) {
    constexpr std::int64_t day_s = 86400;
    // Days and seconds of each part apart, so that no sum can overflow.
    auto split = [](std::int64_t t, std::int64_t& days, std::int64_t& secs) {
        days = t / day_s;
        secs = t % day_s;
        if (secs < 0) {
            secs += day_s;
            --days;
        }
    };
    std::int64_t d1, s1, d2, s2;
    split(unix_s, d1, s1);
    split(utc_offset_s, d2, s2);
    std::int64_t secs = s1 + s2;
    std::int64_t carry = secs >= day_s ? 1 : 0;
    secs -= carry * day_s;
    // 1970-01-01 was a Thursday: day 3 counting from Monday.
    std::int64_t dow = ((d1 % 7) + (d2 % 7) + carry + 3) % 7;
    if (dow < 0) dow += 7;
    return static_cast<int>(dow * k_minutes_per_day + secs / 60);
}

}  // namespace hearth
