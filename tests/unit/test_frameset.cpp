#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/frameset.hpp"

using hearth::FrameSet;

using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

std::vector<std::int64_t> frames_of(const FrameSet& set) {
    std::vector<std::int64_t> out;
    for (std::uint64_t i = 0; i < set.size(); ++i) out.push_back(set.at(i));
    return out;
}

long long elapsed_ms(std::chrono::steady_clock::time_point start) {
    const auto d = std::chrono::steady_clock::now() - start;
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frameset)

BOOST_AUTO_TEST_CASE(simple_range) {
    const auto set = FrameSet::parse("1-240");
    BOOST_TEST(set.size() == 240u);
    BOOST_TEST(set.at(0) == 1);
    BOOST_TEST(set.at(239) == 240);
    BOOST_TEST(set.to_string() == "1-240");
    BOOST_CHECK_THROW(set.at(240), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(mixed_parts_in_written_order) {
    const auto set = FrameSet::parse("1-10,15,20-40x2");
    BOOST_TEST(set.size() == 22u);
    std::vector<std::int64_t> expected;
    for (int f = 1; f <= 10; ++f) expected.push_back(f);
    expected.push_back(15);
    for (int f = 20; f <= 40; f += 2) expected.push_back(f);
    BOOST_TEST(frames_of(set) == expected, boost::test_tools::per_element());
    BOOST_TEST(set.to_string() == "1-10,15,20-40x2");
    BOOST_TEST(set.ranges().size() == 3u);
}

BOOST_AUTO_TEST_CASE(unordered_parts_keep_order) {
    const auto set = FrameSet::parse("20-30,1-5");
    BOOST_TEST(set.size() == 16u);
    BOOST_TEST(set.at(0) == 20);
    BOOST_TEST(set.at(10) == 30);
    BOOST_TEST(set.at(11) == 1);
    BOOST_TEST(set.at(15) == 5);
    BOOST_TEST(set.to_string() == "20-30,1-5");
}

BOOST_AUTO_TEST_CASE(unreachable_end_uses_last_reachable_frame) {
    const auto set = FrameSet::parse("1-10x4");
    BOOST_TEST(frames_of(set) == (std::vector<std::int64_t>{1, 5, 9}),
               boost::test_tools::per_element());
    BOOST_TEST(set.ranges()[0].last == 9);
    BOOST_TEST(set.to_string() == "1-9x4");
}

BOOST_AUTO_TEST_CASE(canonical_text) {
    BOOST_TEST(FrameSet::parse(" 1-3 , 7 ,\t9-9 ").to_string() == "1-3,7,9");
    BOOST_TEST(FrameSet::parse("5-7x10").to_string() == "5");
    BOOST_TEST(FrameSet::parse("5-7x1").to_string() == "5-7");
    BOOST_TEST(FrameSet::parse("0").to_string() == "0");
    for (const char* text : {"1-10,15,20-40x2", "3,1,2", "0-100x7,1-99x7", "42"}) {
        const auto set = FrameSet::parse(text);
        const auto again = FrameSet::parse(set.to_string());
        BOOST_TEST(again.to_string() == set.to_string());
        BOOST_TEST(frames_of(again) == frames_of(set), boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(interleaved_progressions_do_not_overlap) {
    const auto set = FrameSet::parse("1-10x2,2-10x2");
    BOOST_TEST(set.size() == 10u);
    const auto frames = frames_of(set);
    BOOST_TEST(std::set<std::int64_t>(frames.begin(), frames.end()).size() == 10u);
    BOOST_TEST(FrameSet::parse("0-100x3,1-100x3,2-100x3").size() == 101u);
}

BOOST_AUTO_TEST_CASE(largest_frame_is_two_to_the_62) {
    const std::int64_t max = std::int64_t{1} << 62;
    const auto set = FrameSet::parse("0-" + std::to_string(max));
    BOOST_TEST(set.size() == static_cast<std::uint64_t>(max) + 1);
    BOOST_TEST(set.at(static_cast<std::uint64_t>(max)) == max);
    BOOST_CHECK_EXCEPTION(FrameSet::parse(std::to_string(max + 1)), hearth::Error,
                          usage_mentioning(std::to_string(max + 1)));
}

BOOST_AUTO_TEST_CASE(huge_set_is_not_materialised) {
    const auto start = std::chrono::steady_clock::now();
    const auto set = FrameSet::parse("0-999999999999");
    BOOST_TEST(set.size() == 1000000000000u);
    BOOST_TEST(set.at(999999999999u) == 999999999999);
    BOOST_TEST(set.at(123456789012u) == 123456789012);
    const auto big = FrameSet::parse("0-999999999999x3,1-999999999999x3");
    BOOST_TEST(big.at(333333333334u) == 1);
    BOOST_TEST(elapsed_ms(start) < 1000);
}

BOOST_AUTO_TEST_CASE(many_single_frames_parse_quickly) {
    std::string text;
    const int n = 50000;
    for (int f = n - 1; f >= 0; --f) {
        if (!text.empty()) text += ',';
        text += std::to_string(f * 2);
    }
    const auto start = std::chrono::steady_clock::now();
    const auto set = FrameSet::parse(text);
    BOOST_TEST(set.size() == static_cast<std::uint64_t>(n));
    BOOST_TEST(set.at(0) == (n - 1) * 2);
    BOOST_TEST(set.at(n - 1) == 0);
    BOOST_TEST(elapsed_ms(start) < 3000);
}

BOOST_AUTO_TEST_CASE(range_constructor) {
    const auto set = FrameSet::range(3, 7);
    BOOST_TEST(frames_of(set) == (std::vector<std::int64_t>{3, 4, 5, 6, 7}),
               boost::test_tools::per_element());
    BOOST_TEST(set.to_string() == "3-7");
    BOOST_TEST(FrameSet::range(4, 4).size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_sets_are_usage_errors) {
    // Each bad text, and a fragment its message must contain.
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty"},
        {"   ", "empty"},
        {"5-1", "5-1"},
        {"1-x", "1-x"},
        {"x", "'x'"},
        {"1-", "1-"},
        {"-3", "-3"},
        {"1-5x", "1-5x"},
        {"1-5x0", "1-5x0"},
        {"0x0-5", "0x0-5"},
        {"1-5xy", "1-5xy"},
        {"1-5x2x3", "1-5x2x3"},
        {"0x0", "0x0"},
        {"1,,3", "1,,3"},
        {",1", ",1"},
        {"1,", "1,"},
        {"1-10,5", "'1-10' and '5'"},
        {"1-10x2,3-7x2", "'1-10x2' and '3-7x2'"},
        {"5,5", "'5' and '5'"},
        {"4611686018427387905", "4611686018427387905"},
        {"0-99999999999999999999", "99999999999999999999"},
        {"1-5x99999999999999999999", "99999999999999999999"},
        {"1.5", "1.5"},
        {"1 - 5", "1 - 5"},
        {"+3", "+3"},
    };
    for (const auto& [text, needle] : cases) {
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            BOOST_CHECK_EXCEPTION(FrameSet::parse(text), hearth::Error, usage_mentioning(needle));
            if (!text.empty() && text != "   ") {
                BOOST_CHECK_EXCEPTION(FrameSet::parse(text), hearth::Error,
                                      usage_mentioning("'" + text + "'"));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(error_messages_give_the_fix) {
    BOOST_CHECK_EXCEPTION(FrameSet::parse("5-1"), hearth::Error,
                          usage_mentioning("write it as 1-5"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("1-10,5"), hearth::Error,
                          usage_mentioning("share frame 5"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("1-x"), hearth::Error,
                          usage_mentioning("'x' in '1-x' is not a non-negative whole number"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("x"), hearth::Error,
                          usage_mentioning("not a non-negative whole number"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("0x0"), hearth::Error,
                          usage_mentioning("step but no range"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("1-5x0"), hearth::Error, usage_mentioning("at least 1"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("1,,3"), hearth::Error,
                          usage_mentioning("part 2 is empty"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("99999999999999999999"), hearth::Error,
                          usage_mentioning("2^62"));
    BOOST_CHECK_EXCEPTION(FrameSet::parse("1-10x2,3-7x2"), hearth::Error,
                          usage_mentioning("share frame 3"));
}

BOOST_AUTO_TEST_CASE(overlap_detection_matches_brute_force) {
    std::mt19937_64 rng(20240521);
    const auto uniform = [&](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    int overlapping = 0;
    for (int n = 0; n < 5000; ++n) {
        struct Part {
            std::int64_t a, b, s;
        };
        Part parts[2];
        std::set<std::int64_t> frames[2];
        std::string text;
        for (auto& p : parts) {
            p.a = uniform(0, 80);
            p.b = p.a + uniform(0, 80);
            p.s = uniform(1, 15);
            if (!text.empty()) text += ',';
            text += std::to_string(p.a) + "-" + std::to_string(p.b) + "x" + std::to_string(p.s);
        }
        for (int k = 0; k < 2; ++k) {
            for (std::int64_t f = parts[k].a; f <= parts[k].b; f += parts[k].s) frames[k].insert(f);
        }
        bool share = false;
        for (auto f : frames[0]) share = share || frames[1].count(f) != 0;
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            if (share) {
                ++overlapping;
                BOOST_CHECK_EXCEPTION(FrameSet::parse(text), hearth::Error,
                                      usage_mentioning("share frame"));
            } else {
                const auto set = FrameSet::parse(text);
                std::vector<std::int64_t> expected(frames[0].begin(), frames[0].end());
                expected.insert(expected.end(), frames[1].begin(), frames[1].end());
                BOOST_TEST(frames_of(set) == expected, boost::test_tools::per_element());
            }
        }
    }
    // The generator must exercise both outcomes for the comparison to mean anything.
    BOOST_TEST(overlapping > 500);
    BOOST_TEST(overlapping < 4500);
}

BOOST_AUTO_TEST_CASE(overlap_detection_on_huge_progressions) {
    // Windows of 1e12 frames: only exact arithmetic can answer these in time.
    BOOST_CHECK_EXCEPTION(FrameSet::parse("0-1000000000000x999983,7-1000000000000x1000003"),
                          hearth::Error, usage_mentioning("share frame"));
    BOOST_CHECK_NO_THROW(FrameSet::parse("0-1000000000000x1000000,1-1000000000000x1000000"));
    // Steps near 2^61 make the common period ~2^122: the arithmetic must not overflow.
    const std::int64_t max = std::int64_t{1} << 62;
    const std::int64_t half = std::int64_t{1} << 61;
    const auto stepped = [](std::int64_t a, std::int64_t b, std::int64_t s) {
        return std::to_string(a) + "-" + std::to_string(b) + "x" + std::to_string(s);
    };
    const auto set = FrameSet::parse(stepped(0, max, half - 1) + "," + stepped(1, max, half + 1));
    BOOST_TEST(frames_of(set) == (std::vector<std::int64_t>{0, half - 1, max - 2, 1, half + 2}),
               boost::test_tools::per_element());
    BOOST_CHECK_EXCEPTION(FrameSet::parse(stepped(0, max, half) + "," + std::to_string(max)),
                          hearth::Error, usage_mentioning("share frame " + std::to_string(max)));
    BOOST_CHECK_EXCEPTION(
        FrameSet::parse(stepped(3, max, half - 1) + "," + stepped(half + 2, max, half + 1)),
        hearth::Error, usage_mentioning("share frame " + std::to_string(half + 2)));
}

BOOST_AUTO_TEST_CASE(seed_range) {
    const auto set = hearth::parse_seed_range("1-1000");
    BOOST_TEST(set.size() == 1000u);
    BOOST_TEST(set.at(0) == 1);
    BOOST_TEST(set.at(999) == 1000);
    BOOST_TEST(hearth::parse_seed_range("7").to_string() == "7");
    BOOST_TEST(hearth::parse_seed_range("0-0").size() == 1u);
    for (const std::string text : {"5-1", "", "a-b", "-1", "1-", "1,2", "1-5x2", "1-2-3"}) {
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            BOOST_CHECK_EXCEPTION(hearth::parse_seed_range(text), hearth::Error,
                                  usage_mentioning("--seeds '" + text + "'"));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
