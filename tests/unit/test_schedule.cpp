#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/schedule.hpp"
#include "tests/unit/support.hpp"

using hearth::Celsius;
using hearth::Schedule;
using hearth::ScheduleWindow;
using hearth::test::usage_mentioning;

namespace {

constexpr std::uint8_t k_weekdays = 0x1f;
constexpr std::uint8_t k_weekends = 0x60;
constexpr std::uint8_t k_daily = 0x7f;

constexpr int at(int day, int hour, int minute) {
    return day * 1440 + hour * 60 + minute;
}
enum { mon, tue, wed, thu, fri, sat, sun };

ScheduleWindow window(std::uint8_t days, int start, int end, double target) {
    ScheduleWindow w;
    w.days = days;
    w.start_min = start;
    w.end_min = end;
    w.target = Celsius{target};
    return w;
}

void check_window(const ScheduleWindow& w, std::uint8_t days, int start, int end, double target) {
    BOOST_TEST(int(w.days) == int(days));
    BOOST_TEST(w.start_min == start);
    BOOST_TEST(w.end_min == end);
    BOOST_TEST(w.target.value == target);
}

const std::vector<std::string> k_valid = {
    "weekdays 06:00-22:00 at 60; otherwise 55",
    "mon-fri 06:00-09:00 at 62, 17:00-22:00 at 60; sat,sun 08:00-22:00 at 60; otherwise 55",
    "daily 00:00-24:00 at 58; otherwise 50",
    "otherwise 55",
    "daily 06:00-07:30 at 60.5C, 08:00-09:00 at 61 C; otherwise 55.25 C",
    "tue,thu 10:00-11:00 at 50; fri-mon 01:00-02:00 at 51; otherwise 40",
    "otherwise 55; weekends 09:00-10:00 at 57",
    "sun 23:00-24:00 at 61; mon 00:00-00:01 at 62; otherwise -5",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(schedule)

BOOST_AUTO_TEST_CASE(weekdays_example) {
    const Schedule s = hearth::parse_schedule("weekdays 06:00-22:00 at 60; otherwise 55");
    BOOST_TEST_REQUIRE(s.windows.size() == 1u);
    check_window(s.windows[0], k_weekdays, 360, 1320, 60);
    BOOST_TEST(s.otherwise.value == 55);
}

BOOST_AUTO_TEST_CASE(ranges_lists_and_several_windows) {
    const Schedule s = hearth::parse_schedule(
        "mon-fri 06:00-09:00 at 62, 17:00-22:00 at 60; sat,sun 08:00-22:00 at 60; otherwise 55");
    BOOST_TEST_REQUIRE(s.windows.size() == 3u);
    check_window(s.windows[0], k_weekdays, 360, 540, 62);
    check_window(s.windows[1], k_weekdays, 1020, 1320, 60);
    check_window(s.windows[2], k_weekends, 480, 1320, 60);
    BOOST_TEST(s.otherwise.value == 55);
}

BOOST_AUTO_TEST_CASE(whole_day_and_otherwise_only) {
    const Schedule s = hearth::parse_schedule("daily 00:00-24:00 at 58; otherwise 50");
    BOOST_TEST_REQUIRE(s.windows.size() == 1u);
    check_window(s.windows[0], k_daily, 0, 1440, 58);
    BOOST_TEST(s.otherwise.value == 50);

    const Schedule o = hearth::parse_schedule("otherwise 55");
    BOOST_TEST(o.windows.empty());
    BOOST_TEST(o.otherwise.value == 55);
}

BOOST_AUTO_TEST_CASE(decimals_and_celsius_suffix) {
    const Schedule s = hearth::parse_schedule(
        "daily 06:00-07:30 at 60.5C, 08:00-09:00 at 61 C; otherwise 55.25 C");
    BOOST_TEST_REQUIRE(s.windows.size() == 2u);
    check_window(s.windows[0], k_daily, 360, 450, 60.5);
    check_window(s.windows[1], k_daily, 480, 540, 61);
    BOOST_TEST(s.otherwise.value == 55.25);
    BOOST_TEST(hearth::parse_schedule("otherwise -5").otherwise.value == -5);
    BOOST_TEST(hearth::parse_schedule("otherwise .5").otherwise.value == 0.5);
}

BOOST_AUTO_TEST_CASE(day_sets) {
    auto days_of = [](const std::string& set) {
        const Schedule s = hearth::parse_schedule(set + " 10:00-11:00 at 50; otherwise 40");
        BOOST_TEST_REQUIRE(s.windows.size() == 1u);
        return int(s.windows[0].days);
    };
    BOOST_TEST(days_of("tue,thu") == 0x0a);
    BOOST_TEST(days_of("fri-mon") == 0x71);  // wraps the week end
    BOOST_TEST(days_of("sat-sun") == 0x60);
    BOOST_TEST(days_of("weekends") == 0x60);
    BOOST_TEST(days_of("daily") == 0x7f);
    BOOST_TEST(days_of("saturday") == 0x20);
    BOOST_TEST(days_of("Mon - Wed, FRI") == 0x17);
    BOOST_TEST(days_of("sun, mon") == 0x41);
    BOOST_TEST(days_of("wed-wed") == 0x04);
    // No day set: daily.
    const Schedule s = hearth::parse_schedule("10:00-11:00 at 50; otherwise 40");
    BOOST_TEST_REQUIRE(s.windows.size() == 1u);
    BOOST_TEST(int(s.windows[0].days) == 0x7f);
}

BOOST_AUTO_TEST_CASE(spacing_case_and_rule_order_do_not_matter) {
    const Schedule want = hearth::parse_schedule("weekdays 06:00-22:00 at 60; otherwise 55");
    BOOST_TEST(
        (hearth::parse_schedule("  Mon - Fri  6:00 - 22:00 AT 60 ;  OTHERWISE 55 ") == want));
    BOOST_TEST((hearth::parse_schedule("otherwise 55; weekdays 06:00-22:00 at 60") == want));
    BOOST_TEST((hearth::parse_schedule("weekdays\t06:00-22:00\tat\t60C;\notherwise\n55") == want));
}

BOOST_AUTO_TEST_CASE(clock_times) {
    BOOST_TEST(hearth::parse_clock_time("00:00").value() == 0);
    BOOST_TEST(hearth::parse_clock_time("6:05").value() == 365);
    BOOST_TEST(hearth::parse_clock_time("23:59").value() == 1439);
    BOOST_TEST(hearth::parse_clock_time("24:00").value() == 1440);
    for (const char* bad : {"24:01", "25:00", "12:60", "1200", "12:5", "123:00", ":30", "ab:cd", "",
                            "12:00 ", "-1:00", "12:-5", "1:2:3"})
        BOOST_TEST(!hearth::parse_clock_time(bad).has_value(), "'" << bad << "'");
}

BOOST_AUTO_TEST_CASE(errors_name_the_word_and_the_form) {
    struct Case {
        const char* spec;
        const char* needle;
    };
    const Case cases[] = {
        {"weekdays 06:00-22:00 at 60", "no 'otherwise' rule"},
        {"weekdays 22:00-06:00 at 60; otherwise 55", "'22:00-06:00' ends at or before its start"},
        {"weekdays 22:00-06:00 at 60; otherwise 55", "22:00-24:00 and 00:00-06:00"},
        {"weekdays 06:00-06:00 at 60; otherwise 55", "'06:00-06:00' ends at or before"},
        {"daily 24:00-24:00 at 60; otherwise 55", "'24:00-24:00' ends at or before"},
        {"mondy 06:00-22:00 at 60; otherwise 55", "'mondy' is not a day; write daily, weekdays"},
        {"mon-frri 06:00-22:00 at 60; otherwise 55", "'frri' is not a day"},
        {"weekdays; otherwise 55", "'weekdays' has no window"},
        {"weekdays 06:00-25:00 at 60; otherwise 55",
         "schedule: '25:00' is not a time; write HH:MM from 00:00 to 24:00"},
        {"weekdays 06:60-22:00 at 60; otherwise 55", "'06:60' is not a time"},
        {"weekdays 0600-2200 at 60; otherwise 55", "'0600' is not a time"},
        {"weekdays 06:00 at 60; otherwise 55", "expected '-' after '06:00'"},
        {"weekdays 06:00- at 60; otherwise 55", "'at' is not a time"},
        {"weekdays 06:00-22:00 60; otherwise 55", "expected 'at' after '06:00-22:00', found '60'"},
        {"weekdays 06:00-22:00; otherwise 55", "found the end of the rule"},
        {"weekdays 06:00-22:00 at; otherwise 55", "expected a temperature after 'at'"},
        {"daily 06:00-22:00 at nan; otherwise 55", "'nan' is not a temperature; write degrees C"},
        {"daily 06:00-22:00 at 60; otherwise inf", "'inf' is not a temperature"},
        {"daily 06:00-22:00 at 60x; otherwise 55", "'60x' is not a temperature"},
        {"daily 06:00-22:00 at 0x3c; otherwise 55", "'0x3c' is not a temperature"},
        {"daily 06:00-22:00 at 6.0.1; otherwise 55", "'6.0.1' is not a temperature"},
        {"otherwise 55; otherwise 50", "two 'otherwise' rules"},
        {"weekdays 06:00-22:00 at 60;; otherwise 55", "empty rule"},
        {"weekdays 06:00-22:00 at 60; otherwise 55;", "empty rule"},
        {"", "schedule: empty"},
        {"   ", "schedule: empty"},
        {"weekdays 06:00-22:00 at 60 otherwise 55", "unexpected 'otherwise'"},
        {"weekdays 06:00-22:00 at 60 otherwise 55", "rules with ';'"},
        {"otherwise 55 60", "unexpected '60' after 'otherwise 55'"},
        {"daily 06:00-22:00 at 60,; otherwise 55", "nothing after the last ','"},
        {"at 60; otherwise 55", "'at' needs a window before it"},
        {"weekdays otherwise 55", "'otherwise' must be a rule of its own"},
        {"otherwise", "expected a temperature after 'otherwise'"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("spec: " << c.spec) {
            BOOST_CHECK_EXCEPTION(hearth::parse_schedule(c.spec), hearth::Error,
                                  usage_mentioning(c.needle));
        }
    }
}

BOOST_AUTO_TEST_CASE(target_at_window_edges) {
    const Schedule s = hearth::parse_schedule("weekdays 06:00-22:00 at 60; otherwise 55");
    BOOST_TEST(s.target_at(at(mon, 5, 59)).value == 55);
    BOOST_TEST(s.target_at(at(mon, 6, 0)).value == 60);
    BOOST_TEST(s.target_at(at(mon, 21, 59)).value == 60);
    BOOST_TEST(s.target_at(at(mon, 22, 0)).value == 55);  // the end is outside the window
    BOOST_TEST(s.target_at(at(fri, 12, 0)).value == 60);
    BOOST_TEST(s.target_at(at(sat, 12, 0)).value == 55);
    BOOST_TEST(s.target_at(at(sun, 23, 59)).value == 55);
    BOOST_TEST(s.target_at(10079).value == 55);
}

BOOST_AUTO_TEST_CASE(target_at_day_edges) {
    const Schedule s = hearth::parse_schedule("sun 23:00-24:00 at 61; otherwise 50");
    BOOST_TEST(s.target_at(at(sun, 22, 59)).value == 50);
    BOOST_TEST(s.target_at(at(sun, 23, 0)).value == 61);
    BOOST_TEST(s.target_at(at(sun, 23, 59)).value == 61);
    BOOST_TEST(s.target_at(at(mon, 0, 0)).value == 50);
    BOOST_TEST(s.target_at(at(sat, 23, 30)).value == 50);
    // Out-of-range minutes wrap around the week.
    BOOST_TEST(s.target_at(-1).value == 61);
    BOOST_TEST(s.target_at(10080 + at(sun, 23, 30)).value == 61);
    BOOST_TEST(s.target_at(-10080).value == 50);

    const Schedule whole = hearth::parse_schedule("daily 00:00-24:00 at 58; otherwise 50");
    for (int m : {0, 1, 1439, 1440, 5000, 10079}) BOOST_TEST(whole.target_at(m).value == 58);

    const Schedule none = hearth::parse_schedule("otherwise 55");
    for (int m : {0, 720, 10079}) BOOST_TEST(none.target_at(m).value == 55);
}

BOOST_AUTO_TEST_CASE(first_matching_window_wins) {
    const Schedule s =
        hearth::parse_schedule("daily 06:00-10:00 at 62, 08:00-12:00 at 58; otherwise 50");
    BOOST_TEST(s.target_at(at(wed, 9, 0)).value == 62);
    BOOST_TEST(s.target_at(at(wed, 10, 0)).value == 58);
    BOOST_TEST(s.target_at(at(wed, 11, 59)).value == 58);
    BOOST_TEST(s.target_at(at(wed, 12, 0)).value == 50);

    const Schedule mix = hearth::parse_schedule(
        "mon-fri 06:00-09:00 at 62, 17:00-22:00 at 60; sat,sun 08:00-22:00 at 60; otherwise 55");
    BOOST_TEST(mix.target_at(at(tue, 7, 0)).value == 62);
    BOOST_TEST(mix.target_at(at(tue, 8, 0)).value == 62);
    BOOST_TEST(mix.target_at(at(tue, 12, 0)).value == 55);
    BOOST_TEST(mix.target_at(at(tue, 17, 0)).value == 60);
    BOOST_TEST(mix.target_at(at(sat, 7, 59)).value == 55);
    BOOST_TEST(mix.target_at(at(sat, 8, 0)).value == 60);
    BOOST_TEST(mix.target_at(at(sun, 21, 59)).value == 60);
}

BOOST_AUTO_TEST_CASE(all_targets_lists_each_once) {
    const Schedule s = hearth::parse_schedule(
        "mon-fri 06:00-09:00 at 62, 17:00-22:00 at 60; sat,sun 08:00-22:00 at 60; otherwise 55");
    const std::vector<Celsius> want = {Celsius{62}, Celsius{60}, Celsius{55}};
    BOOST_TEST((s.all_targets() == want));
    BOOST_TEST((hearth::parse_schedule("otherwise 55").all_targets() ==
                std::vector<Celsius>{Celsius{55}}));
}

BOOST_AUTO_TEST_CASE(canonical_text) {
    BOOST_TEST(hearth::format_schedule(
                   hearth::parse_schedule("  Mon-Fri 6:00 - 22:00 at 60C ; otherwise 55 ")) ==
               "weekdays 06:00-22:00 at 60; otherwise 55");
    BOOST_TEST(hearth::format_schedule(hearth::parse_schedule(
                   "mon-fri 06:00-09:00 at 62, 17:00-22:00 at 60; sat,sun 08:00-22:00 at 60; "
                   "otherwise 55")) ==
               "weekdays 06:00-09:00 at 62, 17:00-22:00 at 60; weekends 08:00-22:00 at 60; "
               "otherwise 55");
    BOOST_TEST(
        hearth::format_schedule(hearth::parse_schedule("daily 00:00-24:00 at 58; otherwise 50")) ==
        "daily 00:00-24:00 at 58; otherwise 50");
    BOOST_TEST(hearth::format_schedule(hearth::parse_schedule("otherwise 55")) == "otherwise 55");
    BOOST_TEST(hearth::format_schedule(hearth::parse_schedule(
                   "tue,thu 10:00-11:00 at 50.5; fri-mon 01:00-02:00 at 51; otherwise -5")) ==
               "tue,thu 10:00-11:00 at 50.5; mon,fri-sun 01:00-02:00 at 51; otherwise -5");
    // Rules with the same days are kept apart when another comes between them.
    BOOST_TEST(hearth::format_schedule(hearth::parse_schedule(
                   "mon 01:00-02:00 at 51; tue 01:00-02:00 at 52; mon 03:00-04:00 at 53; "
                   "otherwise 50")) ==
               "mon 01:00-02:00 at 51; tue 01:00-02:00 at 52; mon 03:00-04:00 at 53; "
               "otherwise 50");
}

BOOST_AUTO_TEST_CASE(format_round_trips_the_examples) {
    for (const auto& spec : k_valid) {
        BOOST_TEST_CONTEXT("spec: " << spec) {
            const Schedule s = hearth::parse_schedule(spec);
            const std::string text = hearth::format_schedule(s);
            BOOST_TEST((hearth::parse_schedule(text) == s), "canonical: " << text);
            BOOST_TEST(hearth::format_schedule(hearth::parse_schedule(text)) == text);
        }
    }
}

BOOST_AUTO_TEST_CASE(format_round_trips_every_day_set_and_exact_doubles) {
    for (int days = 1; days < 128; ++days) {
        Schedule s;
        s.windows = {
            window(static_cast<std::uint8_t>(days), 0, 1440, 60.123456789012345),
            window(static_cast<std::uint8_t>(days ^ 0x7f ? days ^ 0x7f : 1), 61, 62, 0.1 + 0.2)};
        s.otherwise = Celsius{1.0 / 3.0};
        const std::string text = hearth::format_schedule(s);
        BOOST_TEST_CONTEXT("days " << days << ": " << text) {
            BOOST_TEST((hearth::parse_schedule(text) == s));
        }
    }
}

// Found by tests/fuzz (corpus/schedule/huge-otherwise): the shortest form of
// 2.2e25 or 1e-05 is scientific, which the parser refuses.
BOOST_AUTO_TEST_CASE(format_round_trips_huge_and_tiny_temperatures) {
    for (const char* spec :
         {"otherwise 22222222222222222222222222", "otherwise 0.00001",
          "06:00-07:00 at 0.000000000000000000001; otherwise - 1000000000000000000000"}) {
        BOOST_TEST_CONTEXT("spec: " << spec) {
            const Schedule s = hearth::parse_schedule(spec);
            const std::string text = hearth::format_schedule(s);
            BOOST_TEST((text.find("e+") == std::string::npos && text.find("e-") == std::string::npos),
                       "canonical: " << text);
            BOOST_TEST((hearth::parse_schedule(text) == s), "canonical: " << text);
        }
    }
    BOOST_TEST(hearth::format_schedule(hearth::parse_schedule("otherwise 0.00001")) ==
               "otherwise 0.00001");
}

BOOST_AUTO_TEST_CASE(minute_of_week_from_unix_time) {
    BOOST_TEST(hearth::minute_of_week(0) == at(thu, 0, 0));  // 1970-01-01 was a Thursday
    BOOST_TEST(hearth::minute_of_week(345600) == 0);         // Monday 1970-01-05 00:00
    BOOST_TEST(hearth::minute_of_week(345600 + 59) == 0);
    BOOST_TEST(hearth::minute_of_week(345600 + 60) == 1);
    BOOST_TEST(hearth::minute_of_week(345600 - 1) == at(sun, 23, 59));
    BOOST_TEST(hearth::minute_of_week(1718107200) == at(tue, 12, 0));  // 2024-06-11 12:00 UTC
}

BOOST_AUTO_TEST_CASE(minute_of_week_before_the_epoch) {
    BOOST_TEST(hearth::minute_of_week(-1) == at(wed, 23, 59));
    BOOST_TEST(hearth::minute_of_week(-60) == at(wed, 23, 59));
    BOOST_TEST(hearth::minute_of_week(-61) == at(wed, 23, 58));
    BOOST_TEST(hearth::minute_of_week(-259200) == 0);                // Monday 1969-12-29
    BOOST_TEST(hearth::minute_of_week(-259201) == at(sun, 23, 59));  // Sunday 1969-12-28 23:59:59
}

BOOST_AUTO_TEST_CASE(minute_of_week_with_an_offset) {
    BOOST_TEST(hearth::minute_of_week(1718107200, 7200) == at(tue, 14, 0));
    BOOST_TEST(hearth::minute_of_week(1718107200, -13 * 3600) == at(mon, 23, 0));
    BOOST_TEST(hearth::minute_of_week(345600 - 1800, 3600) == at(mon, 0, 30));
    BOOST_TEST(hearth::minute_of_week(345600 + 1800, -3600) == at(sun, 23, 30));
    BOOST_TEST(hearth::minute_of_week(0, -1) == at(wed, 23, 59));
    // No overflow at the ends of the range: always a minute of the week.
    constexpr auto lo = std::numeric_limits<std::int64_t>::min();
    constexpr auto hi = std::numeric_limits<std::int64_t>::max();
    for (auto [t, off] : {std::pair{lo, lo}, std::pair{hi, hi}, std::pair{lo, hi},
                          std::pair{hi, std::int64_t{86399}}}) {
        const int m = hearth::minute_of_week(t, off);
        BOOST_TEST((m >= 0 && m < 10080), m);
    }
}

BOOST_AUTO_TEST_SUITE_END()
