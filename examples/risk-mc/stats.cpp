#include "examples/risk-mc/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "examples/risk-mc/model.hpp"

namespace risk_mc {

namespace {

// a / n rounded to the nearest integer, halves away from zero (n > 0).
std::int64_t div_round(__int128 a, std::uint64_t n) {
    const __int128 d = n;
    __int128 q = a / d, r = a % d;
    if (2 * (r < 0 ? -r : r) >= d) q += a < 0 ? -1 : 1;
    return static_cast<std::int64_t>(q);
}

}  // namespace

std::uint64_t var_rank(std::uint64_t count) {
    return (k_level_num * count + k_level_den - 1) / k_level_den;
}

std::uint64_t tail_size(std::uint64_t count) {
    return count == 0 ? 0 : count - var_rank(count) + 1;
}

void Tail::add_sorted(const std::vector<std::int64_t>& ascending) {
    const std::size_t take = std::min<std::uint64_t>(m_size, ascending.size());
    m_kept.insert(m_kept.end(), ascending.end() - static_cast<std::ptrdiff_t>(take),
                  ascending.end());
    // Trimming at twice the size keeps memory at O(size) and the work linear.
    if (m_kept.size() > 2 * m_size) trim();
}

void Tail::trim() {
    if (m_kept.size() <= m_size) return;
    const auto cut = m_kept.end() - static_cast<std::ptrdiff_t>(m_size);
    std::nth_element(m_kept.begin(), cut, m_kept.end());
    m_kept.erase(m_kept.begin(), cut);
}

std::vector<std::int64_t> Tail::take() {
    trim();
    std::sort(m_kept.begin(), m_kept.end());
    return std::move(m_kept);
}

void summarize(Summary& s, __int128 sum, unsigned __int128 sum_squares,
               const std::vector<std::int64_t>& tail) {
    const std::uint64_t n = s.count;
    if (n == 0) throw std::runtime_error("no losses to summarize; give at least one path");
    if (tail.size() != tail_size(n))
        throw std::logic_error("summarize: the tail holds " + std::to_string(tail.size()) +
                               " losses, not " + std::to_string(tail_size(n)));
    const std::uint64_t m = var_rank(n);
    s.mean = div_round(sum, n);
    s.var = tail.front();
    __int128 above = 0;
    for (std::size_t i = 1; i < tail.size(); ++i) above += tail[i];
    // ES x N (1 - a) x den, all whole: den (sum above) + (den m - num N) L(m).
    const __int128 scaled =
        static_cast<__int128>(k_level_den) * above +
        (static_cast<__int128>(k_level_den) * m - static_cast<__int128>(k_level_num) * n) * s.var;
    s.es = div_round(scaled, n * (k_level_den - k_level_num));
    // The sample standard deviation from exact sums; long double keeps the
    // figure the same for the same sums, which is all equality needs.
    if (n > 1) {
        const long double s1 = static_cast<long double>(sum);
        const long double s2 = static_cast<long double>(sum_squares);
        const long double ln = static_cast<long double>(n);
        const long double variance = std::max(0.0L, (s2 - s1 * s1 / ln) / (ln - 1));
        s.stddev = static_cast<std::int64_t>(std::llroundl(std::sqrt(variance)));
    } else {
        s.stddev = 0;
    }
}

std::string format_micro(std::int64_t micro) {
    const __int128 v = micro;
    const __int128 a = v < 0 ? -v : v;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%lld.%06lld", v < 0 ? "-" : "",
                  static_cast<long long>(a / k_micro), static_cast<long long>(a % k_micro));
    return buf;
}

std::string format_text(const Summary& s) {
    auto line = [](const char* key, const std::string& value) {
        std::string l = key;
        l.resize(19, ' ');
        return l + value + "\n";
    };
    using std::to_string;
    return line("book value today", format_micro(s.value_today)) +
           line("blocks", s.blocks + " (" + to_string(s.block_count) + " blocks x " +
                              to_string(s.paths_per_block) + " paths)") +
           line("paths", to_string(s.count)) + line("mean loss", format_micro(s.mean)) +
           line("loss std dev", format_micro(s.stddev)) +
           line("VaR 99% 1-day", format_micro(s.var)) + line("ES 99% 1-day", format_micro(s.es));
}

std::string format_json(const Summary& s) {
    char model[20];
    std::snprintf(model, sizeof model, "%016llx", static_cast<unsigned long long>(s.fingerprint));
    using std::to_string;
    return "{\"blocks\":\"" + s.blocks + "\",\"block_count\":" + to_string(s.block_count) +
           ",\"paths_per_block\":" + to_string(s.paths_per_block) +
           ",\"paths\":" + to_string(s.count) + ",\"value_today\":" + format_micro(s.value_today) +
           ",\"mean_loss\":" + format_micro(s.mean) + ",\"loss_stddev\":" + format_micro(s.stddev) +
           ",\"var99\":" + format_micro(s.var) + ",\"es99\":" + format_micro(s.es) +
           ",\"model\":\"" + model + "\"}\n";
}

}  // namespace risk_mc
