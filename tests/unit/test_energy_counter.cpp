#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <random>

#include "core/energy_counter.hpp"
#include "core/units.hpp"

using hearth::counter_delta;
using hearth::max_sample_interval_s;
using hearth::Watts;

namespace {

// Typical max_energy_range_uj values (FACTS.md): about 65.5 kJ and 262 kJ.
constexpr std::uint64_t range_65k = 65532610987ULL;
constexpr std::uint64_t range_262k = 262143328850ULL;

}  // namespace

BOOST_AUTO_TEST_SUITE(energy_counter)

BOOST_AUTO_TEST_CASE(plain_delta) {
    const auto d = counter_delta(1000, 5000, range_65k, 1.0, Watts{200});
    BOOST_TEST(d.energy.value == 4000u);
    BOOST_TEST(!d.wrapped);
    BOOST_TEST(!d.glitch);
}

BOOST_AUTO_TEST_CASE(equal_readings_are_zero) {
    const auto d = counter_delta(123456789, 123456789, range_262k, 0.5, Watts{200});
    BOOST_TEST(d.energy.value == 0u);
    BOOST_TEST(!d.wrapped);
    BOOST_TEST(!d.glitch);
}

BOOST_AUTO_TEST_CASE(one_wrap_at_typical_ranges) {
    for (const std::uint64_t range : {range_65k, range_262k}) {
        BOOST_TEST_CONTEXT("max_range " << range) {
            // 1000 uJ before the wrap point, 500 uJ after it.
            const auto d = counter_delta(range - 1000, 500, range, 1.0, Watts{200});
            BOOST_TEST(d.energy.value == 1500u);
            BOOST_TEST(d.wrapped);
            BOOST_TEST(!d.glitch);

            // From the last value to 0: exactly one microjoule.
            const auto e = counter_delta(range - 1, 0, range, 1.0, Watts{200});
            BOOST_TEST(e.energy.value == 1u);
            BOOST_TEST(e.wrapped);

            // A wrap over most of the range, with the time and power to allow it.
            const double dt = 0.9 * static_cast<double>(range) / 200e6;
            const auto f = counter_delta(range / 2, range / 2 - 10, range, dt, Watts{200});
            BOOST_TEST(f.energy.value == range - 10);
            BOOST_TEST(f.wrapped);
            BOOST_TEST(!f.glitch);
        }
    }
}

BOOST_AUTO_TEST_CASE(glitch_rejected_above_twice_max_power) {
    // 3x a 100 W zone's max power over one second.
    const auto d = counter_delta(0, 300'000'000, range_262k, 1.0, Watts{100});
    BOOST_TEST(d.glitch);
    BOOST_TEST(d.energy.value == 0u);

    // The same through a wrap.
    const auto w =
        counter_delta(range_262k - 100'000'000, 200'000'000, range_262k, 1.0, Watts{100});
    BOOST_TEST(w.glitch);
    BOOST_TEST(w.energy.value == 0u);
}

BOOST_AUTO_TEST_CASE(glitch_accepted_below_twice_max_power) {
    const auto d = counter_delta(0, 190'000'000, range_262k, 1.0, Watts{100});
    BOOST_TEST(!d.glitch);
    BOOST_TEST(d.energy.value == 190'000'000u);

    // The boundary: 2x max power plus the 1 mJ slack is accepted, one more uJ is not.
    const auto at = counter_delta(5, 5 + 200'001'000, range_262k, 1.0, Watts{100});
    BOOST_TEST(!at.glitch);
    BOOST_TEST(at.energy.value == 200'001'000u);
    const auto over = counter_delta(5, 5 + 200'001'001, range_262k, 1.0, Watts{100});
    BOOST_TEST(over.glitch);

    // dt 0 (an event sample at the same instant) is judged over the 20 ms
    // minimum: a counter step between two close readings is no glitch.
    BOOST_TEST(!counter_delta(0, 4'001'000, range_262k, 0.0, Watts{100}).glitch);
    BOOST_TEST(counter_delta(0, 4'001'001, range_262k, 0.0, Watts{100}).glitch);
    BOOST_TEST(!counter_delta(0, 600'000, range_262k, 0.0001, Watts{100}).glitch);
}

BOOST_AUTO_TEST_CASE(unknown_max_power_disables_glitch_check) {
    const auto d = counter_delta(0, range_262k - 1, range_262k, 0.001, Watts{0});
    BOOST_TEST(!d.glitch);
    BOOST_TEST(d.energy.value == range_262k - 1);

    const auto w = counter_delta(10, 5, range_262k, 0.001, Watts{-1});
    BOOST_TEST(!w.glitch);
    BOOST_TEST(w.wrapped);
    BOOST_TEST(w.energy.value == range_262k - 5);
}

BOOST_AUTO_TEST_CASE(readings_outside_the_range_are_invalid) {
    // max_range is exclusive: the counter never shows it.
    for (const auto& [prev, cur] : {std::pair<std::uint64_t, std::uint64_t>{0, range_65k},
                                    {0, range_65k + 5},
                                    {range_65k, 10},
                                    {range_65k + 7, range_65k + 9},
                                    {UINT64_MAX, 0},
                                    {0, UINT64_MAX}}) {
        BOOST_TEST_CONTEXT("prev " << prev << " cur " << cur) {
            const auto d = counter_delta(prev, cur, range_65k, 1.0, Watts{0});
            BOOST_TEST(d.glitch);
            BOOST_TEST(d.energy.value == 0u);
            BOOST_TEST(!d.wrapped);
        }
    }
    // No wrap point at all.
    BOOST_TEST(counter_delta(1, 2, 0, 1.0, Watts{0}).glitch);
}

BOOST_AUTO_TEST_CASE(no_overflow_near_uint64_max) {
    const std::uint64_t range = UINT64_MAX;
    const auto d = counter_delta(range - 1, range - 2, range, 1.0, Watts{0});
    BOOST_TEST(d.wrapped);
    BOOST_TEST(d.energy.value == range - 1);
    const auto e = counter_delta(0, range - 1, range, 1.0, Watts{0});
    BOOST_TEST(e.energy.value == range - 1);
}

BOOST_AUTO_TEST_CASE(max_interval) {
    // 262 kJ at 200 W wraps in about 1311 s; half of it is about 655 s.
    BOOST_TEST(max_sample_interval_s(range_262k, Watts{200}) == 655.358322125,
               boost::test_tools::tolerance(1e-9));
    BOOST_TEST(max_sample_interval_s(range_65k, Watts{200}) == 163.8315274675,
               boost::test_tools::tolerance(1e-9));
    // Unknown max power (or range): the documented default.
    BOOST_TEST(max_sample_interval_s(range_262k, Watts{0}) == 60.0);
    BOOST_TEST(max_sample_interval_s(range_262k, Watts{-3}) == 60.0);
    BOOST_TEST(max_sample_interval_s(range_262k, Watts{std::nan("")}) == 60.0);
    BOOST_TEST(max_sample_interval_s(0, Watts{200}) == 60.0);
}

BOOST_AUTO_TEST_CASE(simulated_counter_accumulates_exactly) {
    // A counter advanced by a constant 123.456 W, sampled in random steps below
    // the safe interval, with a small range so it wraps many times. Time is
    // kept in integer nanoseconds and energy in integer microjoules
    // (mW x ns / 1e6), so the expected total is exact.
    constexpr std::uint64_t power_mw = 123'456;
    const Watts power{123.456};
    const Watts max_power{200};
    constexpr std::uint64_t range = 10'000'019;  // ~10 J, prime so wraps land everywhere
    const double max_dt = max_sample_interval_s(range, max_power);
    BOOST_TEST_REQUIRE(max_dt > 0.02);
    const auto max_step_ns = static_cast<std::uint64_t>(max_dt * 1e9) - 1;

    std::mt19937_64 rng(20240611);
    std::uniform_int_distribution<std::uint64_t> step_ns(1, max_step_ns);
    const std::uint64_t start_uj = 9'999'000;  // near the top: the first step may wrap
    const auto raw_at = [&](std::uint64_t t_ns) {
        const auto burnt = static_cast<std::uint64_t>(static_cast<unsigned __int128>(power_mw) *
                                                      t_ns / 1'000'000u);
        return (start_uj + burnt) % range;
    };

    std::uint64_t t_ns = 0;
    std::uint64_t prev = raw_at(0);
    std::uint64_t sum = 0;
    std::uint64_t wraps = 0;
    for (int i = 0; i < 200'000; ++i) {
        const std::uint64_t step = step_ns(rng);
        t_ns += step;
        const std::uint64_t cur = raw_at(t_ns);
        const auto d = counter_delta(prev, cur, range, static_cast<double>(step) / 1e9, max_power);
        BOOST_TEST_REQUIRE(!d.glitch);
        sum += d.energy.value;
        wraps += d.wrapped ? 1 : 0;
        prev = cur;
    }
    const std::uint64_t true_uj = power_mw * t_ns / 1'000'000u;
    BOOST_TEST(sum == true_uj);
    BOOST_TEST(wraps == (start_uj + true_uj) / range);
    BOOST_TEST(wraps > 10000u);
    // And the exact total is the floor of power x time.
    const double t_s = static_cast<double>(t_ns) / 1e9;
    BOOST_TEST(std::abs(static_cast<double>(sum) - power.value * t_s * 1e6) <
               1.0 + 1e-12 * static_cast<double>(sum));
}

BOOST_AUTO_TEST_SUITE_END()
