#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/attribution.hpp"
#include "core/units.hpp"

using hearth::attribute_interval;
using hearth::IntervalInput;
using hearth::IntervalSplit;
using hearth::Microjoules;
using hearth::split_largest_remainder;
using hearth::TaskUsage;
using hearth::Watts;
using Parts = std::vector<std::uint64_t>;

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
const double not_a_number = std::numeric_limits<double>::quiet_NaN();

std::uint64_t sum_of(const Parts& parts) {
    // Checked so a broken split cannot hide behind a wrapped-around sum.
    std::uint64_t s = 0;
    for (const auto p : parts) {
        BOOST_TEST_REQUIRE(p <= std::numeric_limits<std::uint64_t>::max() - s);
        s += p;
    }
    return s;
}

// Largest remainder for integer weights, done exactly in 128 bits: the
// reference the general implementation must match.
Parts reference_split(std::uint64_t total, const std::vector<std::uint64_t>& w) {
    using u128 = unsigned __int128;
    const u128 sum = std::accumulate(w.begin(), w.end(), u128{0});
    Parts parts(w.size(), 0);
    if (sum == 0) {
        parts.back() = total;
        return parts;
    }
    std::vector<u128> rem(w.size());
    std::uint64_t assigned = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const u128 t = static_cast<u128>(total) * w[i];
        parts[i] = static_cast<std::uint64_t>(t / sum);
        rem[i] = t % sum;
        assigned += parts[i];
    }
    std::vector<std::size_t> order(w.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return rem[a] > rem[b]; });
    for (std::size_t k = 0; assigned < total; ++k, ++assigned) ++parts[order[k]];
    return parts;
}

std::uint64_t total_of(const IntervalSplit& s) {
    std::uint64_t sum = s.house().value;
    for (const auto& t : s.tasks) sum += t.total().value;
    return sum;
}

std::uint64_t random_total(std::mt19937_64& rng) {
    switch (rng() % 6) {
        case 0:
            return rng() % 1000;
        case 1:
            return rng() % 10'000'000'000ULL;
        case 2:
            return UINT64_MAX;
        case 3:
            return UINT64_MAX / 4;
        case 4:
            return (std::uint64_t{1} << 53) + rng() % 5 - 2;
        default:
            return rng();
    }
}

// Weights of many shapes: plain, spread over the whole double range, tiny next
// to huge, subnormal, and the ones that count as zero.
std::vector<double> random_weights(std::mt19937_64& rng, std::size_t n) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uniform_int_distribution<int> exponent(-1070, 1020);
    const int shape = static_cast<int>(rng() % 5);
    std::vector<double> w(n);
    for (auto& x : w) {
        switch (shape) {
            case 0:
                x = unit(rng);
                break;
            case 1:
                x = std::ldexp(0.5 + unit(rng) / 2, exponent(rng));
                break;
            case 2:
                x = rng() % 2 == 0 ? 1e300 * unit(rng) : 1e-300 * unit(rng);
                break;
            case 3: {
                const double specials[] = {0.0,
                                           -1.0,
                                           not_a_number,
                                           std::numeric_limits<double>::denorm_min(),
                                           std::numeric_limits<double>::max(),
                                           std::numeric_limits<double>::min(),
                                           1.0,
                                           unit(rng)};
                x = specials[rng() % 8];
                break;
            }
            default:
                x = rng() % 4 == 0 ? 0.0 : std::ldexp(unit(rng), -int(rng() % 200));
                break;
        }
    }
    return w;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(attribution)

BOOST_AUTO_TEST_CASE(split_simple_cases) {
    BOOST_TEST(split_largest_remainder(10, {1, 1}) == (Parts{5, 5}));
    BOOST_TEST(split_largest_remainder(10, {3, 1}) == (Parts{8, 2}));  // 7.5 : 2.5, tie -> A
    BOOST_TEST(split_largest_remainder(100, {1, 2, 3, 4}) == (Parts{10, 20, 30, 40}));
    BOOST_TEST(split_largest_remainder(0, {1, 2}) == (Parts{0, 0}));
    BOOST_TEST(split_largest_remainder(7, {0.2, 0.8}) == (Parts{1, 6}));  // 1.4 : 5.6
}

BOOST_AUTO_TEST_CASE(split_ties_go_to_lower_index) {
    BOOST_TEST(split_largest_remainder(1, {1, 1, 1}) == (Parts{1, 0, 0}));
    BOOST_TEST(split_largest_remainder(2, {1, 1, 1}) == (Parts{1, 1, 0}));
    BOOST_TEST(split_largest_remainder(5, {1, 1}) == (Parts{3, 2}));
    BOOST_TEST(split_largest_remainder(5, {0, 1, 0, 1}) == (Parts{0, 3, 0, 2}));
}

BOOST_AUTO_TEST_CASE(split_zero_and_invalid_weights) {
    BOOST_TEST(split_largest_remainder(7, {0, 0, 0}) == (Parts{0, 0, 7}));
    // Negative and NaN weights count as zero.
    BOOST_TEST(split_largest_remainder(7, {-1, not_a_number, 0}) == (Parts{0, 0, 7}));
    BOOST_TEST(split_largest_remainder(7, {-1, 2, not_a_number}) == (Parts{0, 7, 0}));
    // Infinite weights outweigh every finite one and share equally.
    BOOST_TEST(split_largest_remainder(3, {infinity, 1, infinity}) == (Parts{2, 0, 1}));
}

BOOST_AUTO_TEST_CASE(split_single_and_empty) {
    BOOST_TEST(split_largest_remainder(123, {5.0}) == (Parts{123}));
    BOOST_TEST(split_largest_remainder(123, {0.0}) == (Parts{123}));
    BOOST_TEST(split_largest_remainder(UINT64_MAX, {1e-300}) == (Parts{UINT64_MAX}));
    BOOST_TEST(split_largest_remainder(0, {}).empty());
    BOOST_CHECK_THROW(split_largest_remainder(1, {}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(split_tiny_weights_beside_a_big_one) {
    // 1000 weights of 2^-70 beside 1: each tiny part's real share is just under
    // 1/64 unit and the big one's is total - 15.625. Rounding the weights to any
    // fixed precision would give the big part everything; the exact split
    // gives it total - 15 and one unit each to the first 15 tiny parts.
    std::vector<double> w(1001, std::ldexp(1.0, -70));
    w[0] = 1.0;
    const Parts parts = split_largest_remainder(UINT64_MAX, w);
    BOOST_TEST(sum_of(parts) == UINT64_MAX);
    BOOST_TEST(parts[0] == UINT64_MAX - 15);
    for (std::size_t i = 1; i < parts.size(); ++i) {
        BOOST_TEST_CONTEXT("part " << i) {
            BOOST_TEST(parts[i] == (i <= 15 ? 1u : 0u));
        }
    }

    // The extremes of the double range in one split.
    const Parts ext =
        split_largest_remainder(UINT64_MAX / 4, {std::numeric_limits<double>::denorm_min(),
                                                 std::numeric_limits<double>::max(), 1.0, 1e-300});
    BOOST_TEST(ext == (Parts{0, UINT64_MAX / 4, 0, 0}));
}

BOOST_AUTO_TEST_CASE(split_matches_exact_reference_for_integer_weights) {
    std::mt19937_64 rng(7);
    for (int c = 0; c < 3000; ++c) {
        const std::size_t n = 1 + rng() % 40;
        const std::uint64_t total = random_total(rng);
        std::vector<std::uint64_t> iw(n);
        std::vector<double> w(n);
        const unsigned bits = 1 + static_cast<unsigned>(rng() % 53);
        for (std::size_t i = 0; i < n; ++i) {
            // Some zeros, some ties, some up to 2^53 (still exact as doubles).
            iw[i] = rng() % 5 == 0 ? 0 : (rng() % 5 == 0 ? 1 : rng() >> (64 - bits));
            w[i] = static_cast<double>(iw[i]);
        }
        BOOST_TEST_CONTEXT("case " << c << " total " << total << " n " << n) {
            const Parts parts = split_largest_remainder(total, w);
            BOOST_TEST_REQUIRE(parts.size() == n);
            BOOST_TEST(sum_of(parts) == total);
            BOOST_TEST(parts == reference_split(total, iw));
        }
    }
}

BOOST_AUTO_TEST_CASE(split_random_sums_are_exact_and_proportional) {
    std::mt19937_64 rng(42);
    for (int c = 0; c < 5000; ++c) {
        const std::size_t n = 1 + rng() % (c % 10 == 0 ? 300 : 20);
        const std::uint64_t total = random_total(rng);
        const std::vector<double> w = random_weights(rng, n);
        BOOST_TEST_CONTEXT("case " << c << " total " << total << " n " << n) {
            const Parts parts = split_largest_remainder(total, w);
            BOOST_TEST_REQUIRE(parts.size() == n);
            BOOST_TEST_REQUIRE(sum_of(parts) == total);

            std::vector<long double> lw(n);
            for (std::size_t i = 0; i < n; ++i) lw[i] = w[i] > 0 ? w[i] : 0.0L;
            const long double lsum = std::accumulate(lw.begin(), lw.end(), 0.0L);
            if (lsum == 0) {
                BOOST_TEST(parts.back() == total);
                continue;
            }
            // Within one unit of the real share; long double itself is only
            // good to a few parts in 2^64, hence the small extra allowance.
            const long double slack = 1.0L + static_cast<long double>(total) * 0x1p-56L;
            for (std::size_t i = 0; i < n; ++i) {
                const long double share = static_cast<long double>(total) * (lw[i] / lsum);
                BOOST_TEST_INFO("part " << i << " weight " << w[i]);
                BOOST_TEST(std::fabs(static_cast<long double>(parts[i]) - share) <= slack);
                if (lw[i] == 0) BOOST_TEST(parts[i] == 0u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(worked_example) {
    // 10 J over 1 s on a 4-core node idling at 4 W. A holds 2 cores and used
    // 0.9 CPU-s, B holds 1 core and used 0.3 CPU-s, nothing else ran.
    // Static 4 J by reservation 2:1:1 (the unreserved core is the house's);
    // dynamic 6 J by work 3:1.
    IntervalInput in;
    in.energy = Microjoules{10'000'000};
    in.seconds = 1.0;
    in.idle = Watts{4};
    in.cores = 4;
    in.house_work = 0.0;
    in.tasks = {{2.0, 0.9}, {1.0, 0.3}};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST_REQUIRE(s.tasks.size() == 2u);
    BOOST_TEST(s.tasks[0].static_part.value == 2'000'000u);
    BOOST_TEST(s.tasks[1].static_part.value == 1'000'000u);
    BOOST_TEST(s.house_static.value == 1'000'000u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 4'500'000u);
    BOOST_TEST(s.tasks[1].dynamic_part.value == 1'500'000u);
    BOOST_TEST(s.house_dynamic.value == 0u);
    BOOST_TEST(s.tasks[0].total().value == 6'500'000u);
    BOOST_TEST(s.house().value == 1'000'000u);
    BOOST_TEST(total_of(s) == 10'000'000u);
}

BOOST_AUTO_TEST_CASE(house_work_takes_its_dynamic_share) {
    // 2 J over 0.5 s, 2 cores idling at 1 W (static 0.5 J), one task holding
    // both cores; the agent and daemons did a quarter of the work.
    IntervalInput in;
    in.energy = Microjoules{2'000'000};
    in.seconds = 0.5;
    in.idle = Watts{1};
    in.cores = 2;
    in.house_work = 0.25;
    in.tasks = {{1.0, 0.75}};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.tasks[0].static_part.value == 500'000u);
    BOOST_TEST(s.house_static.value == 0u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 1'125'000u);
    BOOST_TEST(s.house_dynamic.value == 375'000u);
}

BOOST_AUTO_TEST_CASE(idle_above_measured_is_capped) {
    // The idle estimate says 100 J, the counter says 1 J: all of it is static.
    IntervalInput in;
    in.energy = Microjoules{1'000'000};
    in.seconds = 1.0;
    in.idle = Watts{100};
    in.cores = 4;
    in.tasks = {{2.0, 1.0}, {2.0, 0.5}};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.tasks[0].static_part.value == 500'000u);
    BOOST_TEST(s.tasks[1].static_part.value == 500'000u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 0u);
    BOOST_TEST(s.tasks[1].dynamic_part.value == 0u);
    BOOST_TEST(s.house().value == 0u);
    BOOST_TEST(total_of(s) == 1'000'000u);
}

BOOST_AUTO_TEST_CASE(oversubscription_shares_static_by_reservation) {
    // 2 cores for 1 s, but 3 + 1 core-seconds reserved: no house share, the
    // tasks split the static part 3:1.
    IntervalInput in;
    in.energy = Microjoules{30'000'000};
    in.seconds = 1.0;
    in.idle = Watts{10};
    in.cores = 2;
    in.tasks = {{3.0, 1.0}, {1.0, 1.0}};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.tasks[0].static_part.value == 7'500'000u);
    BOOST_TEST(s.tasks[1].static_part.value == 2'500'000u);
    BOOST_TEST(s.house_static.value == 0u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 10'000'000u);
    BOOST_TEST(s.tasks[1].dynamic_part.value == 10'000'000u);
    BOOST_TEST(s.house_dynamic.value == 0u);
}

BOOST_AUTO_TEST_CASE(full_reservation_leaves_the_house_nothing) {
    // Ten tasks of 0.1 core-s each fill a 1-core second; the floating sum is
    // 0.9999999999999999, and that crumb must not become a house charge.
    IntervalInput in;
    in.energy = Microjoules{5'000'000'000};
    in.seconds = 1.0;
    in.idle = Watts{5000};
    in.cores = 1;
    in.tasks.assign(10, TaskUsage{0.1, 0.1});
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.house_static.value == 0u);
    for (const auto& t : s.tasks) BOOST_TEST(t.static_part.value == 500'000'000u);
}

BOOST_AUTO_TEST_CASE(zero_length_interval) {
    // An event sample at the same instant: no time, so no static energy.
    IntervalInput in;
    in.energy = Microjoules{5000};
    in.seconds = 0.0;
    in.idle = Watts{100};
    in.cores = 4;
    in.tasks = {{0.0, 3.0}, {0.0, 1.0}};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.tasks[0].static_part.value == 0u);
    BOOST_TEST(s.tasks[1].static_part.value == 0u);
    BOOST_TEST(s.house_static.value == 0u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 3750u);
    BOOST_TEST(s.tasks[1].dynamic_part.value == 1250u);
    BOOST_TEST(total_of(s) == 5000u);
}

BOOST_AUTO_TEST_CASE(no_tasks_all_to_house) {
    IntervalInput in;
    in.energy = Microjoules{1'234'567};
    in.seconds = 1.0;
    in.idle = Watts{1};
    in.cores = 8;
    in.house_work = 0.2;
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.tasks.empty());
    BOOST_TEST(s.house_static.value == 1'000'000u);
    BOOST_TEST(s.house_dynamic.value == 234'567u);

    in.house_work = 0.0;  // no work recorded anywhere: still the house's
    BOOST_TEST(attribute_interval(in).house().value == 1'234'567u);
}

BOOST_AUTO_TEST_CASE(no_work_recorded_goes_to_house) {
    IntervalInput in;
    in.energy = Microjoules{3'000'000};
    in.seconds = 1.0;
    in.idle = Watts{1};
    in.cores = 2;
    in.tasks = {{1.0, 0.0}, {1.0, -0.5}};
    const IntervalSplit s = attribute_interval(in);
    BOOST_TEST(s.tasks[0].static_part.value == 500'000u);
    BOOST_TEST(s.tasks[1].static_part.value == 500'000u);
    BOOST_TEST(s.tasks[0].dynamic_part.value == 0u);
    BOOST_TEST(s.tasks[1].dynamic_part.value == 0u);
    BOOST_TEST(s.house_dynamic.value == 2'000'000u);
}

BOOST_AUTO_TEST_CASE(invalid_interval_length) {
    IntervalInput in;
    in.energy = Microjoules{1};
    in.seconds = -1.0;
    BOOST_CHECK_THROW(attribute_interval(in), std::invalid_argument);
    in.seconds = not_a_number;
    BOOST_CHECK_THROW(attribute_interval(in), std::invalid_argument);
    in.seconds = infinity;
    BOOST_CHECK_THROW(attribute_interval(in), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(random_intervals_keep_the_invariant) {
    std::mt19937_64 rng(99);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int c = 0; c < 3000; ++c) {
        IntervalInput in;
        switch (rng() % 4) {
            case 0:
                in.energy = Microjoules{rng() % 1000};
                break;
            case 1:
                in.energy = Microjoules{UINT64_MAX - rng() % 3};
                break;
            default:
                in.energy = Microjoules{rng() % 100'000'000'000ULL};
                break;
        }
        in.seconds = rng() % 5 == 0 ? 0.0 : unit(rng) * 10;
        in.idle = Watts{unit(rng) * 300};
        in.cores = 1 + static_cast<unsigned>(rng() % 128);
        in.house_work = rng() % 3 == 0 ? 0.0 : unit(rng) * in.seconds;
        const std::size_t n = rng() % 9;
        for (std::size_t i = 0; i < n; ++i) {
            const double held = rng() % 4 == 0 ? 0.0 : unit(rng) * in.seconds * 16;
            const double work = rng() % 4 == 0 ? 0.0 : unit(rng) * held;
            in.tasks.push_back({held, work});
        }
        BOOST_TEST_CONTEXT("case " << c << " dE " << in.energy.value) {
            const IntervalSplit s = attribute_interval(in);
            BOOST_TEST_REQUIRE(s.tasks.size() == n);
            // Parts are unsigned, so ">= 0" means "did not wrap around": checked
            // by adding up without overflow to exactly dE.
            std::uint64_t sum = 0;
            auto add = [&](Microjoules p) {
                BOOST_TEST_REQUIRE(p.value <= in.energy.value - sum);
                sum += p.value;
            };
            std::uint64_t static_sum = s.house_static.value;
            for (const auto& t : s.tasks) {
                add(t.static_part);
                add(t.dynamic_part);
                static_sum += t.static_part.value;
            }
            add(s.house_static);
            add(s.house_dynamic);
            BOOST_TEST(sum == in.energy.value);
            const std::uint64_t expected_static =
                std::min(in.energy.value, hearth::energy_of(in.idle, in.seconds).value);
            BOOST_TEST(static_sum == expected_static);
            for (std::size_t i = 0; i < n; ++i) {
                if (in.tasks[i].reserved_core_s == 0 && in.tasks[i].work == 0) {
                    BOOST_TEST(s.tasks[i].total().value == 0u);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(two_tenants_split_by_cpu_share) {
    // Tenant A holds 3 cores, tenant B 1 core of a 4-core node; each keeps its
    // cores busy with a few percent of jitter, the agent does a little work.
    // Over many intervals their energy splits 3:1.
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> jitter(-0.03, 0.03);
    std::uniform_real_distribution<double> dt_dist(0.5, 1.5);
    const Watts idle{40};
    const double per_busy_core_w = 15;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::uint64_t house = 0;
    std::uint64_t measured = 0;
    for (int i = 0; i < 5000; ++i) {
        IntervalInput in;
        in.seconds = dt_dist(rng);
        in.idle = idle;
        in.cores = 4;
        const double work_a = 3 * in.seconds * (1 + jitter(rng));
        const double work_b = 1 * in.seconds * (1 + jitter(rng));
        in.house_work = 0.01 * in.seconds;
        in.tasks = {{3 * in.seconds, work_a}, {1 * in.seconds, work_b}};
        const double joules =
            idle.value * in.seconds + per_busy_core_w * (work_a + work_b + in.house_work);
        in.energy = Microjoules{static_cast<std::uint64_t>(joules * 1e6)};
        const IntervalSplit s = attribute_interval(in);
        a += s.tasks[0].total().value;
        b += s.tasks[1].total().value;
        house += s.house().value;
        measured += in.energy.value;
    }
    BOOST_TEST(a + b + house == measured);
    const double share_a = static_cast<double>(a) / static_cast<double>(a + b);
    BOOST_TEST(share_a == 0.75, boost::test_tools::tolerance(0.01));
    BOOST_TEST(static_cast<double>(a) / static_cast<double>(b) == 3.0,
               boost::test_tools::tolerance(0.01));
    // The house only got its sliver of dynamic energy.
    BOOST_TEST(static_cast<double>(house) / static_cast<double>(measured) < 0.01);
}

BOOST_AUTO_TEST_SUITE_END()
