#pragma once
// The risk figures of a set of losses, and how they are printed.
//
// With N losses sorted ascending, L(1) <= ... <= L(N), and level a = 99%:
//   VaR = L(m), m = ceil(a N): the smallest loss with at least a N losses at
//         or below it;
//   ES  = (sum of L(i) for i > m  +  (m - a N) L(m)) / (N (1 - a)), the
//         discrete form of Acerbi and Tasche's expected shortfall; when a N
//         is whole it is the mean of the N - m largest losses.
// Both need only the N - m + 1 largest losses, so the merge keeps only those.
// All of it is integer arithmetic on fixed-point losses; the printed figures
// are rounded to the fixed-point unit (1e-6) half away from zero.
#include <cstdint>
#include <string>
#include <vector>

namespace risk_mc {

// The confidence level as a fraction, for exact arithmetic.
constexpr std::uint64_t k_level_num = 99, k_level_den = 100;

// m = ceil(a N), the rank of VaR among N ascending losses (1-based).
std::uint64_t var_rank(std::uint64_t count);

// How many of the largest losses the figures need: N - m + 1.
std::uint64_t tail_size(std::uint64_t count);

// Keeps the `size` largest of the losses offered to it.
class Tail {
public:
    explicit Tail(std::uint64_t size) : m_size(size) {}
    // Offers the largest `size` of an ascending vector.
    void add_sorted(const std::vector<std::int64_t>& ascending);
    // The kept losses, ascending.
    std::vector<std::int64_t> take();

private:
    void trim();
    std::uint64_t m_size;
    std::vector<std::int64_t> m_kept;
};

struct Summary {
    std::string blocks;  // canonical block set
    std::uint64_t block_count = 0;
    std::uint64_t paths_per_block = 0;
    std::uint64_t count = 0;
    std::uint64_t fingerprint = 0;
    std::int64_t value_today = 0;
    std::int64_t mean = 0;
    std::int64_t stddev = 0;
    std::int64_t var = 0;
    std::int64_t es = 0;
};

// The figures from the exact totals and the largest tail_size(count) losses
// (ascending). Fills the numeric fields of s; s.count must be set.
void summarize(Summary& s, __int128 sum, unsigned __int128 sum_squares,
               const std::vector<std::int64_t>& tail);

// Fixed point as a decimal: -12.345678.
std::string format_micro(std::int64_t micro);

// The report: one "key  value" line per figure, or one JSON object.
std::string format_text(const Summary& s);
std::string format_json(const Summary& s);

}  // namespace risk_mc
