#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "core/interval_set.hpp"

using hearth::IntervalSet;

namespace {

// The smallest y >= x not in s, computed the slow way.
std::uint64_t naive_next_absent(const std::set<std::uint64_t>& s, std::uint64_t x) {
    while (s.count(x)) ++x;
    return x;
}

// The number of maximal runs of consecutive values in s.
std::size_t naive_runs(const std::set<std::uint64_t>& s) {
    std::size_t runs = 0;
    bool first = true;
    std::uint64_t prev = 0;
    for (std::uint64_t v : s) {
        if (first || v != prev + 1) ++runs;
        first = false;
        prev = v;
    }
    return runs;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(interval_set)

BOOST_AUTO_TEST_CASE(empty_set_contains_nothing) {
    const IntervalSet s;
    BOOST_TEST(s.size() == 0u);
    BOOST_TEST(s.runs() == 0u);
    for (std::uint64_t x : {0ull, 1ull, 41ull, 1000000ull}) {
        BOOST_TEST(!s.contains(x));
        BOOST_TEST(s.next_absent(x) == x);
    }
}

BOOST_AUTO_TEST_CASE(insert_returns_false_for_duplicates_and_keeps_size) {
    IntervalSet s;
    BOOST_TEST(s.insert(7));
    BOOST_TEST(!s.insert(7));
    BOOST_TEST(s.size() == 1u);
    BOOST_TEST(s.insert(8));
    BOOST_TEST(s.insert(6));
    // Duplicates at the start, middle and end of a run.
    BOOST_TEST(!s.insert(6));
    BOOST_TEST(!s.insert(7));
    BOOST_TEST(!s.insert(8));
    BOOST_TEST(s.size() == 3u);
    BOOST_TEST(s.runs() == 1u);
}

BOOST_AUTO_TEST_CASE(contains_only_inserted_values) {
    IntervalSet s;
    for (std::uint64_t x : {0ull, 2ull, 3ull, 10ull}) BOOST_TEST(s.insert(x));
    BOOST_TEST(s.contains(0));
    BOOST_TEST(!s.contains(1));
    BOOST_TEST(s.contains(2));
    BOOST_TEST(s.contains(3));
    BOOST_TEST(!s.contains(4));
    BOOST_TEST(!s.contains(9));
    BOOST_TEST(s.contains(10));
    BOOST_TEST(!s.contains(11));
    BOOST_TEST(s.size() == 4u);
    BOOST_TEST(s.runs() == 3u);
}

BOOST_AUTO_TEST_CASE(insert_merges_with_the_run_on_the_left) {
    IntervalSet s;
    s.insert(5);
    BOOST_TEST(s.insert(6));
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.insert(7));
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.next_absent(5) == 8u);
    BOOST_TEST(!s.contains(4));
    BOOST_TEST(!s.contains(8));
}

BOOST_AUTO_TEST_CASE(insert_merges_with_the_run_on_the_right) {
    IntervalSet s;
    s.insert(7);
    BOOST_TEST(s.insert(6));
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.insert(5));
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.next_absent(5) == 8u);
    BOOST_TEST(s.contains(5));
    BOOST_TEST(!s.contains(4));
}

BOOST_AUTO_TEST_CASE(insert_bridges_two_runs_into_one) {
    IntervalSet s;
    for (std::uint64_t x : {1ull, 2ull, 3ull, 5ull, 6ull}) s.insert(x);
    BOOST_TEST(s.runs() == 2u);
    BOOST_TEST(s.next_absent(1) == 4u);
    BOOST_TEST(s.insert(4));
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.size() == 6u);
    BOOST_TEST(s.next_absent(1) == 7u);
    BOOST_TEST(s.next_absent(4) == 7u);
    for (std::uint64_t x = 1; x <= 6; ++x) BOOST_TEST(s.contains(x));
}

BOOST_AUTO_TEST_CASE(non_adjacent_values_stay_separate_runs) {
    IntervalSet s;
    s.insert(10);
    s.insert(12);
    s.insert(14);
    BOOST_TEST(s.runs() == 3u);
    BOOST_TEST(!s.contains(11));
    BOOST_TEST(!s.contains(13));
    BOOST_TEST(s.next_absent(10) == 11u);
    BOOST_TEST(s.next_absent(12) == 13u);
}

BOOST_AUTO_TEST_CASE(next_absent_skips_a_whole_run) {
    IntervalSet s;
    for (std::uint64_t x = 10; x < 20; ++x) s.insert(x);
    s.insert(21);
    BOOST_TEST(s.next_absent(0) == 0u);
    BOOST_TEST(s.next_absent(9) == 9u);
    BOOST_TEST(s.next_absent(10) == 20u);
    BOOST_TEST(s.next_absent(15) == 20u);
    BOOST_TEST(s.next_absent(19) == 20u);
    BOOST_TEST(s.next_absent(20) == 20u);
    BOOST_TEST(s.next_absent(21) == 22u);
    BOOST_TEST(s.next_absent(22) == 22u);
}

BOOST_AUTO_TEST_CASE(zero_and_large_values_are_handled) {
    IntervalSet s;
    BOOST_TEST(s.insert(0));
    BOOST_TEST(s.contains(0));
    BOOST_TEST(s.next_absent(0) == 1u);
    const std::uint64_t big = std::numeric_limits<std::uint64_t>::max() - 10;
    BOOST_TEST(s.insert(big));
    BOOST_TEST(s.insert(big + 1));
    BOOST_TEST(s.contains(big));
    BOOST_TEST(s.contains(big + 1));
    BOOST_TEST(!s.contains(big + 2));
    BOOST_TEST(s.next_absent(big) == big + 2);
    BOOST_TEST(s.runs() == 2u);
    BOOST_TEST(s.size() == 3u);
}

// Runs are half-open, so UINT64_MAX cannot be held: it is refused, not wrapped.
BOOST_AUTO_TEST_CASE(largest_value_is_refused_not_wrapped) {
    IntervalSet s;
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    BOOST_CHECK_THROW(s.insert(max), std::out_of_range);
    BOOST_TEST(s.size() == 0u);
    BOOST_TEST(s.insert(max - 1));
    BOOST_TEST(s.contains(max - 1));
    BOOST_TEST(!s.insert(max - 1));
    BOOST_TEST(s.size() == 1u);
}

BOOST_AUTO_TEST_CASE(inserting_in_order_leaves_a_single_run) {
    IntervalSet s;
    for (std::uint64_t x = 0; x < 100000; ++x) BOOST_TEST_REQUIRE(s.insert(x));
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.size() == 100000u);
    BOOST_TEST(s.next_absent(0) == 100000u);
    BOOST_TEST(s.next_absent(99999) == 100000u);
    BOOST_TEST(s.contains(99999));
    BOOST_TEST(!s.contains(100000));
}

BOOST_AUTO_TEST_CASE(inserting_in_reverse_order_leaves_a_single_run) {
    IntervalSet s;
    for (std::uint64_t x = 10000; x-- > 0;) BOOST_TEST_REQUIRE(s.insert(x));
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.size() == 10000u);
    BOOST_TEST(s.next_absent(0) == 10000u);
}

BOOST_AUTO_TEST_CASE(filling_the_gaps_between_evens_merges_everything) {
    IntervalSet s;
    for (std::uint64_t x = 0; x < 200; x += 2) s.insert(x);
    BOOST_TEST(s.runs() == 100u);
    BOOST_TEST(s.next_absent(0) == 1u);
    for (std::uint64_t x = 1; x < 200; x += 2) {
        BOOST_TEST_REQUIRE(s.insert(x));
        // Each odd value joins its left and right neighbours into one run.
        BOOST_TEST(s.runs() == 100u - (x + 1) / 2 + (x == 199 ? 1u : 0u));
    }
    BOOST_TEST(s.runs() == 1u);
    BOOST_TEST(s.size() == 200u);
    BOOST_TEST(s.next_absent(0) == 200u);
}

BOOST_AUTO_TEST_CASE(copies_are_independent) {
    IntervalSet a;
    a.insert(1);
    IntervalSet b = a;
    b.insert(2);
    BOOST_TEST(a.size() == 1u);
    BOOST_TEST(!a.contains(2));
    BOOST_TEST(b.size() == 2u);
    BOOST_TEST(b.contains(1));
    BOOST_TEST(b.contains(2));
}

BOOST_AUTO_TEST_CASE(randomized_operations_match_std_set) {
    std::mt19937_64 rng(20240611);
    for (std::uint64_t range : {50ull, 600ull, 5000ull}) {
        BOOST_TEST_CONTEXT("values below " << range) {
            std::uniform_int_distribution<std::uint64_t> value(0, range);
            IntervalSet s;
            std::set<std::uint64_t> model;
            for (int op = 0; op < 4000; ++op) {
                const std::uint64_t x = value(rng);
                const bool fresh = model.insert(x).second;
                BOOST_TEST_REQUIRE(s.insert(x) == fresh, "insert " << x << " at op " << op);
                const std::uint64_t probe = value(rng);
                BOOST_TEST_REQUIRE(s.contains(probe) == (model.count(probe) == 1),
                                   "contains " << probe << " at op " << op);
                BOOST_TEST_REQUIRE(s.next_absent(probe) == naive_next_absent(model, probe),
                                   "next_absent " << probe << " at op " << op);
                BOOST_TEST_REQUIRE(s.size() == model.size());
                if (op % 97 == 0) {
                    BOOST_TEST_REQUIRE(s.runs() == naive_runs(model), "runs at op " << op);
                    for (std::uint64_t y = 0; y <= range + 1; ++y) {
                        BOOST_TEST_REQUIRE(s.contains(y) == (model.count(y) == 1));
                        BOOST_TEST_REQUIRE(s.next_absent(y) == naive_next_absent(model, y));
                    }
                }
            }
            BOOST_TEST(s.runs() == naive_runs(model));
            BOOST_TEST(s.size() == model.size());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
