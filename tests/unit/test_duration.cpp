#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "core/error.hpp"

using namespace std::chrono_literals;

using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

// Milliseconds as a plain number, so Boost.Test can print both sides of a failure.
long long ms(std::string_view text) {
    return hearth::parse_duration(text).count();
}
long long ms(std::chrono::milliseconds d) {
    return d.count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(single_units) {
    BOOST_TEST(ms("90") == ms(90s));
    BOOST_TEST(ms("90s") == ms(90s));
    BOOST_TEST(ms("1500ms") == 1500);
    BOOST_TEST(ms("5m") == ms(5min));
    BOOST_TEST(ms("2h") == ms(2h));
    BOOST_TEST(ms("2d") == ms(48h));
    BOOST_TEST(ms("1ms") == 1);
}

BOOST_AUTO_TEST_CASE(compound) {
    BOOST_TEST(ms("1h30m") == ms(90min));
    BOOST_TEST(ms("1d2h3m4s5ms") == ms(26h + 3min + 4s + 5ms));
    BOOST_TEST(ms("0h30m") == ms(30min));
    BOOST_TEST(ms(" 30s\t") == ms(30s));
    BOOST_TEST(ms("90m") == ms(90min));
}

BOOST_AUTO_TEST_CASE(large_but_representable) {
    BOOST_TEST(ms("100000d") == ms(100000 * 24h));
    BOOST_TEST(ms("9223372036854775807ms") == 9223372036854775807LL);
}

BOOST_AUTO_TEST_CASE(bad_durations) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty"},
        {"  ", "empty"},
        {"0", "greater than zero"},
        {"0s", "greater than zero"},
        {"0h0m", "greater than zero"},
        {"-5s", "negative"},
        {"-5", "negative"},
        {"5x", "unknown unit 'x'"},
        {"5sec", "unknown unit 'sec'"},
        {"5S", "unknown unit 'S'"},
        {"1.5h", "fractions"},
        {"h", "'h'"},
        {"1h30", "no unit"},
        {"1h 30m", "' '"},
        {"99999999999999999999", "too long"},
        {"9999999999999999d", "too long"},
        {"9223372036854775807ms1ms", "too long"},
    };
    for (const auto& [text, problem] : cases) {
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            BOOST_CHECK_EXCEPTION(hearth::parse_duration(text), hearth::Error,
                                  usage_mentioning("'" + text + "'"));
            BOOST_CHECK_EXCEPTION(hearth::parse_duration(text), hearth::Error,
                                  usage_mentioning(problem));
            BOOST_CHECK_EXCEPTION(hearth::parse_duration(text), hearth::Error,
                                  usage_mentioning("30s, 5m, 1h30m"));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_deadline_is_a_utc_time_or_a_duration_from_now) {
    const std::int64_t now = 1'799'020'800'000;  // 2027-01-04T00:00:00Z
    BOOST_TEST(hearth::parse_deadline_ms("6h", now) == now + 6 * 3'600'000);
    BOOST_TEST(hearth::parse_deadline_ms("2027-01-04T06:00:00Z", now) == now + 6 * 3'600'000);
    BOOST_TEST(hearth::parse_deadline_ms("2027-01-04T07:00:00+01:00", now) == now + 6 * 3'600'000);
    BOOST_CHECK_EXCEPTION(hearth::parse_deadline_ms("2027-01-03", now), hearth::Error,
                          usage_mentioning("in the past"));
    BOOST_CHECK_EXCEPTION(hearth::parse_deadline_ms("2027-01-04", now), hearth::Error,
                          usage_mentioning("in the past"));
    BOOST_CHECK_EXCEPTION(hearth::parse_deadline_ms("2027-13-04", now), hearth::Error,
                          usage_mentioning("is not a UTC time"));
    BOOST_CHECK_EXCEPTION(hearth::parse_deadline_ms("soon", now), hearth::Error,
                          usage_mentioning("'soon'"));
}

BOOST_AUTO_TEST_SUITE_END()
