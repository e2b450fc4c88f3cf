#include "core/attribution.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace hearth {

namespace {

// Exact unsigned integers of any size, little-endian 64-bit limbs, no leading
// zero limbs. Every double is m * 2^e with an integer m < 2^53, so scaling all
// weights by the smallest 2^e turns them into integers and the shares become
// exact rationals: no rounding can make the parts miss the total or misorder
// the remainders, whatever the spread of the weights (1e-300 next to 1e300).
using Big = std::vector<std::uint64_t>;
using u128 = unsigned __int128;

void trim(Big& a) {
    while (!a.empty() && a.back() == 0) a.pop_back();
}

Big shifted(std::uint64_t m, long shift) {
    const auto word = static_cast<std::size_t>(shift / 64);
    const auto bit = static_cast<unsigned>(shift % 64);
    Big r(word + 2, 0);
    r[word] = m << bit;
    if (bit != 0) r[word + 1] = m >> (64 - bit);
    trim(r);
    return r;
}

void add_to(Big& a, const Big& b) {
    if (a.size() < b.size()) a.resize(b.size(), 0);
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const u128 s = static_cast<u128>(a[i]) + (i < b.size() ? b[i] : 0) + carry;
        a[i] = static_cast<std::uint64_t>(s);
        carry = static_cast<std::uint64_t>(s >> 64);
    }
    if (carry != 0) a.push_back(carry);
}

Big times(const Big& a, std::uint64_t m) {
    Big r(a.size() + 1, 0);
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const u128 p = static_cast<u128>(a[i]) * m + carry;
        r[i] = static_cast<std::uint64_t>(p);
        carry = static_cast<std::uint64_t>(p >> 64);
    }
    r[a.size()] = carry;
    trim(r);
    return r;
}

int compare(const Big& a, const Big& b) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    for (std::size_t i = a.size(); i-- > 0;) {
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

// a - b, requires a >= b.
Big minus(const Big& a, const Big& b) {
    Big r(a.size(), 0);
    std::uint64_t borrow = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const std::uint64_t bi = i < b.size() ? b[i] : 0;
        const std::uint64_t d = a[i] - bi - borrow;
        borrow = (a[i] < bi || (a[i] == bi && borrow != 0)) ? 1 : 0;
        r[i] = d;
    }
    trim(r);
    return r;
}

// The largest q in [0, cap] with q * s <= t; callers guarantee t <= cap * s.
// Starts from a floating-point guess (normally within a unit or two) and
// gallops outwards, so the exact answer costs a handful of multiplications.
std::uint64_t floor_quotient(const Big& t, const Big& s, std::uint64_t cap, std::uint64_t guess) {
    const auto fits = [&](std::uint64_t q) { return compare(times(s, q), t) <= 0; };
    guess = std::min(guess, cap);
    std::uint64_t lo = 0;    // fits(lo) holds throughout
    std::uint64_t hi = cap;  // the answer is <= hi throughout
    if (fits(guess)) {
        lo = guess;
        for (unsigned k = 0; k < 64; ++k) {
            const std::uint64_t step = std::uint64_t{1} << k;
            if (hi - lo < step) break;
            if (!fits(lo + step)) {
                hi = lo + step - 1;
                break;
            }
            lo += step;
        }
    } else {
        hi = guess - 1;  // guess > 0 here because 0 always fits
        for (unsigned k = 0; k < 64; ++k) {
            const std::uint64_t step = std::uint64_t{1} << k;
            if (hi - lo < step) break;
            if (fits(hi - step)) {
                lo = hi - step;
                break;
            }
            hi -= step + 1;
        }
    }
    while (lo < hi) {
        const std::uint64_t mid = lo + (hi - lo) / 2 + 1;
        if (fits(mid)) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

// Negative and NaN weights carry no claim.
double usable_weight(double w) {
    return w > 0 ? w : 0.0;
}

}  // namespace

std::vector<std::uint64_t> split_largest_remainder(std::uint64_t total,
                                                   const std::vector<double>& weights) {
    if (weights.empty()) {
        if (total == 0) return {};
        throw std::invalid_argument("split_largest_remainder: " + std::to_string(total) +
                                    " units to split but no parts to split them into");
    }
    const std::size_t n = weights.size();
    std::vector<std::uint64_t> parts(n, 0);
    if (total == 0) return parts;

    std::vector<double> w(n);
    std::transform(weights.begin(), weights.end(), w.begin(), usable_weight);
    // An infinite weight swamps every finite one; the infinite ones share equally.
    if (std::any_of(w.begin(), w.end(), [](double x) { return std::isinf(x); })) {
        for (double& x : w) x = std::isinf(x) ? 1.0 : 0.0;
    }
    if (std::all_of(w.begin(), w.end(), [](double x) { return x == 0; })) {
        parts.back() = total;
        return parts;
    }

    // Exact integer form: w[i] = mant[i] * 2^(expo[i]); subnormals included.
    std::vector<std::uint64_t> mant(n, 0);
    std::vector<long> expo(n, 0);
    long min_expo = std::numeric_limits<long>::max();
    for (std::size_t i = 0; i < n; ++i) {
        if (w[i] == 0) continue;
        int e = 0;
        const double f = std::frexp(w[i], &e);  // w = f * 2^e, f in [0.5, 1)
        mant[i] = static_cast<std::uint64_t>(std::ldexp(f, 53));
        expo[i] = static_cast<long>(e) - 53;
        min_expo = std::min(min_expo, expo[i]);
    }
    std::vector<Big> scaled(n);
    Big sum;
    for (std::size_t i = 0; i < n; ++i) {
        if (mant[i] == 0) continue;
        scaled[i] = shifted(mant[i], expo[i] - min_expo);
        add_to(sum, scaled[i]);
    }

    // part i = floor(total * scaled[i] / sum) with remainder rem[i] (over sum).
    const long double sum_ld = std::accumulate(
        w.begin(), w.end(), 0.0L,
        [](long double acc, double x) { return acc + static_cast<long double>(x); });
    std::vector<Big> rem(n);
    std::uint64_t assigned = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (mant[i] == 0) continue;
        const Big t = times(scaled[i], total);
        const long double est = static_cast<long double>(total) * (w[i] / sum_ld);
        const std::uint64_t guess =
            est >= static_cast<long double>(total) ? total : static_cast<std::uint64_t>(est);
        parts[i] = floor_quotient(t, sum, total, guess);
        rem[i] = minus(t, times(sum, parts[i]));
        assigned += parts[i];  // the floors sum to at most total: no overflow
    }

    // The remainders add up to (total - assigned) whole units, each below one,
    // so at least that many parts have a non-zero remainder: a zero weight
    // never receives a unit.
    std::uint64_t left = total - assigned;
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return compare(rem[a], rem[b]) > 0; });
    for (std::size_t k = 0; k < n && left > 0; ++k, --left) ++parts[order[k]];
    return parts;
}

NodeParts split_node_meter(Microjoules node, Microjoules parts) {
    NodeParts p;
    p.exceeded = parts.value > node.value;
    p.explained = Microjoules{std::min(parts.value, node.value)};
    p.overhead = Microjoules{node.value - p.explained.value};
    return p;
}

IntervalSplit attribute_interval(const IntervalInput& in) {
    const double dt = in.seconds;
    if (!(dt >= 0) || std::isinf(dt)) {
        throw std::invalid_argument(
            "attribute_interval: interval length must be finite and >= 0, got " +
            std::to_string(dt) + " s");
    }
    const std::size_t n = in.tasks.size();

    // GPU energy goes to the tasks holding the GPUs (and the house for the
    // others) as measured; at most what the parts (or the node) measured:
    // past that, the measured shares are scaled down to fit, exactly.
    std::vector<double> gpu_w(n + 1, 0.0);
    std::uint64_t gpu_total = in.gpu_house.value;
    for (std::size_t i = 0; i < n; ++i) {
        gpu_total += in.tasks[i].gpu.value;
        gpu_w[i] = static_cast<double>(in.tasks[i].gpu.value);
    }
    gpu_w[n] = static_cast<double>(in.gpu_house.value);
    const std::uint64_t gpu_room =
        in.explained ? std::min(in.explained->value, in.energy.value) : in.energy.value;
    std::vector<std::uint64_t> gpu(n + 1, 0);
    if (gpu_total > 0) {
        if (gpu_total <= gpu_room) {
            for (std::size_t i = 0; i < n; ++i) gpu[i] = in.tasks[i].gpu.value;
            gpu[n] = in.gpu_house.value;
        } else {
            gpu = split_largest_remainder(gpu_room, gpu_w);
        }
    }
    const std::uint64_t gpu_charged = std::min(gpu_total, gpu_room);
    const std::uint64_t de = in.energy.value - gpu_charged;
    std::optional<Microjoules> rest_explained;
    if (in.explained)
        rest_explained = Microjoules{std::min(in.explained->value, in.energy.value) - gpu_charged};

    // Idle power is what the node would burn empty; it cannot exceed what was
    // measured (an idle estimate that is too high must not invent energy).
    const double idle_uj = in.idle.value * dt * 1e6;
    // With parts: the overhead is static (charged by reservation) and the
    // node's idle power covers it first; what idle power is left is the
    // parts' static share, capped at what they measured.
    const NodeParts parts = rest_explained ? split_node_meter(Microjoules{de}, *rest_explained)
                                           : NodeParts{Microjoules{de}, Microjoules{0}, false};
    const std::uint64_t measured = parts.explained.value;
    const double parts_idle_uj = std::max(0.0, idle_uj - static_cast<double>(parts.overhead.value));
    std::uint64_t static_total = parts.overhead.value;
    if (parts_idle_uj > 0) {
        static_total += parts_idle_uj >= static_cast<double>(measured)
                            ? measured
                            : std::min(measured, static_cast<std::uint64_t>(parts_idle_uj));
    }
    const std::uint64_t dynamic_total = de - static_total;

    // Static part: like a standing charge, by cores x time held. Capacity no
    // task holds is the house's; oversubscribed, the tasks share it all.
    const double capacity = static_cast<double>(in.cores) * dt;
    std::vector<double> static_w(n + 1, 0.0);
    double reserved = 0;
    for (std::size_t i = 0; i < n; ++i) {
        static_w[i] = usable_weight(in.tasks[i].reserved_core_s);
        reserved += static_w[i];
    }
    double unreserved = capacity - reserved;
    // Reservations derived from timestamps that exactly fill the node leave a
    // rounding crumb; it must not bill the house for a microjoule of noise.
    if (unreserved <= capacity * 1e-9) unreserved = 0;
    static_w[n] = unreserved;

    // Dynamic part: by work done, the node's other work going to the house.
    // All weights zero sends everything to the last part, the house.
    std::vector<double> dynamic_w(n + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) dynamic_w[i] = usable_weight(in.tasks[i].work);
    dynamic_w[n] = usable_weight(in.house_work);

    const std::vector<std::uint64_t> s = split_largest_remainder(static_total, static_w);
    const std::vector<std::uint64_t> d = split_largest_remainder(dynamic_total, dynamic_w);

    IntervalSplit out;
    out.tasks.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        out.tasks[i].static_part = Microjoules{s[i]};
        out.tasks[i].dynamic_part = Microjoules{d[i] + gpu[i]};
    }
    out.house_static = Microjoules{s[n]};
    out.house_dynamic = Microjoules{d[n] + gpu[n]};
    return out;
}

}  // namespace hearth
