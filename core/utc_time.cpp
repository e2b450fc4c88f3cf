#include "core/utc_time.hpp"

#include <cstdio>

#include "core/error.hpp"

namespace hearth {
namespace {

constexpr std::int64_t k_ms_per_day = 86'400'000;

// Howard Hinnant's days_from_civil: pure arithmetic, so neither the TZ
// variable nor the C library's timegm can change what a time means.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t year;
    unsigned month, day;
};

Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

unsigned days_in_month(std::int64_t y, unsigned m) {
    static constexpr unsigned k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : k_days[m - 1];
}

// A cursor over the text: each read takes exactly what the form allows.
class Reader {
public:
    explicit Reader(std::string_view s) : m_s(s) {}
    bool done() const { return m_i == m_s.size(); }
    bool take(char c) {
        if (done() || m_s[m_i] != c) return false;
        ++m_i;
        return true;
    }
    std::optional<char> peek() const {
        return done() ? std::nullopt : std::optional<char>(m_s[m_i]);
    }
    // Exactly n digits.
    std::optional<unsigned> digits(std::size_t n) {
        if (m_s.size() - m_i < n) return std::nullopt;
        unsigned v = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const char c = m_s[m_i + k];
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        m_i += n;
        return v;
    }
    // Milliseconds of the digits after a decimal mark (at least one).
    std::optional<unsigned> fraction_ms() {
        unsigned ms = 0, scale = 100;
        std::size_t n = 0;
        while (!done() && m_s[m_i] >= '0' && m_s[m_i] <= '9') {
            ms += static_cast<unsigned>(m_s[m_i] - '0') * scale;
            scale /= 10;
            ++m_i;
            ++n;
        }
        return n ? std::optional<unsigned>(ms) : std::nullopt;
    }

private:
    std::string_view m_s;
    std::size_t m_i = 0;
};

// Minutes east of UTC of a zone designator at the end of the text.
std::optional<std::int64_t> zone_minutes(Reader& r) {
    if (r.done()) return 0;
    if (r.take('Z') || r.take('z')) return 0;
    const int sign = r.take('+') ? 1 : r.take('-') ? -1 : 0;
    if (!sign) return std::nullopt;
    auto hh = r.digits(2);
    if (!hh || *hh > 23) return std::nullopt;
    unsigned mm = 0;
    if (!r.done()) {
        r.take(':');  // +01:00 and +0100 alike
        auto m = r.digits(2);
        if (!m || *m > 59) return std::nullopt;
        mm = *m;
    }
    return sign * static_cast<std::int64_t>(*hh * 60 + mm);
}

std::optional<std::int64_t> parse_text(std::string_view text) {
    Reader r(text);
    auto y = r.digits(4);
    if (!y || !r.take('-')) return std::nullopt;
    auto mo = r.digits(2);
    if (!mo || *mo < 1 || *mo > 12 || !r.take('-')) return std::nullopt;
    auto d = r.digits(2);
    if (!d || *d < 1 || *d > days_in_month(*y, *mo)) return std::nullopt;
    std::int64_t ms = days_from_civil(*y, *mo, *d) * k_ms_per_day;
    if (r.done()) return ms;
    if (!(r.take('T') || r.take('t') || r.take(' '))) return std::nullopt;
    auto h = r.digits(2);
    if (!h || *h > 23 || !r.take(':')) return std::nullopt;
    auto mi = r.digits(2);
    if (!mi || *mi > 59) return std::nullopt;
    unsigned s = 0, frac = 0;
    if (r.take(':')) {
        // 60: a leap second, as RFC 3339 allows; it reads as the next second.
        auto sec = r.digits(2);
        if (!sec || *sec > 60) return std::nullopt;
        s = *sec;
        if (r.take('.') || r.take(',')) {
            auto f = r.fraction_ms();
            if (!f) return std::nullopt;
            frac = *f;
        }
    }
    ms += ((static_cast<std::int64_t>(*h) * 60 + *mi) * 60 + s) * 1000 + frac;
    auto zone = zone_minutes(r);
    if (!zone || !r.done()) return std::nullopt;
    return ms - *zone * 60'000;
}

std::optional<std::int64_t> parse_epoch_ms(std::string_view text) {
    if (text.empty() || text.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace

std::optional<std::int64_t> try_parse_utc_ms(std::string_view text, EpochNumbers numbers) {
    if (numbers == EpochNumbers::milliseconds)
        if (auto ms = parse_epoch_ms(text)) return ms;
    return parse_text(text);
}

std::int64_t parse_utc_ms(std::string_view text, EpochNumbers numbers) {
    if (auto ms = try_parse_utc_ms(text, numbers)) return *ms;
    throw usage_error(
        "'" + std::string(text.substr(0, 80)) +
        "' is not a UTC time; write it as 2027-01-04T06:00:00Z (RFC 3339), "
        "2027-01-04T06:00Z, 2027-01-04 06:00:00, 2027-01-04T07:00:00+01:00, "
        "2027-01-04T06:00:00.250Z or 2027-01-04" +
        (numbers == EpochNumbers::milliseconds ? ", or milliseconds since the epoch" : ""));
}

std::int64_t parse_utc_seconds(std::string_view text) {
    const std::int64_t ms = parse_utc_ms(text);
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

std::string format_utc(std::int64_t unix_s) {
    const std::int64_t days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
    const std::int64_t in_day = unix_s - days * 86400;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", format_utc_date(unix_s).c_str(),
                  static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                  static_cast<int>(in_day % 60));
    return buf;
}

std::string format_utc_date(std::int64_t unix_s) {
    const std::int64_t days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
    const Civil c = civil_from_days(days);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                  c.day);
    return buf;
}

}  // namespace hearth
