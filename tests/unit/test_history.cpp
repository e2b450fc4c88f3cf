#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/history.hpp"
#include "core/ledger.hpp"

using hearth::default_retention;
using hearth::Error;
using hearth::HistoryBuckets;
using hearth::HistoryPoint;
using hearth::HistoryRetention;
using hearth::HistorySample;
using hearth::Ledger;
using hearth::merge_site_history;
using hearth::pick_resolution;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace hearth {
// So that Boost.Test prints both sides of a failed comparison.
std::ostream& operator<<(std::ostream& os, const HistoryPoint& p) {
    auto opt = [](const std::optional<double>& v) {
        return v ? std::to_string(*v) : std::string("null");
    };
    return os << "{t_ms " << p.t_ms << ", res_s " << p.res_s << ", power_w " << p.power_w
              << ", temp_c " << opt(p.temp_c) << ", target_c " << opt(p.target_c)
              << ", slots_allowed " << p.slots_allowed << ", slots " << p.slots << "}";
}
}  // namespace hearth

namespace {

// 2024-03-01T00:00:00Z: a multiple of every resolution used here.
constexpr std::int64_t T = 1709251200000;
constexpr std::int64_t k_hour = 3600 * 1000;
constexpr std::int64_t k_day = 24 * k_hour;

HistorySample sample(std::int64_t t, double power, std::optional<double> temp = std::nullopt,
                     std::optional<double> target = std::nullopt, int allowed = 0, int slots = 0) {
    return HistorySample{t, power, temp, target, allowed, slots};
}

HistoryPoint point(std::int64_t t, int res, double power, std::optional<double> temp = std::nullopt,
                   std::optional<double> target = std::nullopt, int allowed = 0, int slots = 0) {
    return HistoryPoint{t, res, power, temp, target, allowed, slots};
}

// The real sqlite3 shell's output for one statement, without the final newline.
std::string shell(const std::string& db, const std::string& sql) {
    std::string cmd = "sqlite3 -batch -bail -readonly '" + db + "' \"" + sql + "\" 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int status = ::pclose(p);
    BOOST_TEST_REQUIRE(status == 0, "sqlite3 failed: " << out);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(history)

BOOST_AUTO_TEST_CASE(bucket_means_are_exact) {
    HistoryBuckets b;
    // Power: plain mean; temperature: mean of those that had one; target and
    // slots: the last sample's, even when it has no target.
    BOOST_TEST(b.add(sample(T + 100, 100, 20.0, 55.0, 4, 1)).empty());
    BOOST_TEST(b.add(sample(T + 5000, 200, std::nullopt, 56.0, 4, 2)).empty());
    BOOST_TEST(b.add(sample(T + 9999, 600, 21.0, 57.0, 3, 3)).empty());
    auto closed = b.add(sample(T + 10000, 50, 30.0, std::nullopt, 2, 0));
    BOOST_TEST_REQUIRE(closed.size() == 1u);
    BOOST_TEST(closed[0] == point(T, 10, 300, 20.5, 57.0, 3, 3));

    // The minute goes on: its mean covers all four samples so far.
    auto open = b.pending();
    BOOST_TEST_REQUIRE(open.size() == 2u);
    BOOST_TEST(open[0] == point(T + 10000, 10, 50, 30.0, std::nullopt, 2, 0));
    BOOST_TEST(open[1] == point(T, 60, 237.5, 71.0 / 3, std::nullopt, 2, 0));
}

BOOST_AUTO_TEST_CASE(a_sample_on_a_boundary_opens_the_next_bucket_of_every_tier_it_ends) {
    HistoryBuckets b;
    BOOST_TEST(b.add(sample(T + 50000, 10)).empty());
    BOOST_TEST(b.add(sample(T + 59999, 20)).empty());
    auto closed = b.add(sample(T + 60000, 30));
    BOOST_TEST_REQUIRE(closed.size() == 2u);  // in tier order
    BOOST_TEST(closed[0] == point(T + 50000, 10, 15));
    BOOST_TEST(closed[1] == point(T, 60, 15));
    // Mid-minute only the 10 s tier turns over.
    auto next = b.add(sample(T + 70000, 40));
    BOOST_TEST_REQUIRE(next.size() == 1u);
    BOOST_TEST(next[0] == point(T + 60000, 10, 30));
}

BOOST_AUTO_TEST_CASE(a_gap_yields_no_points_for_the_empty_buckets) {
    HistoryBuckets b;
    b.add(sample(T + 1000, 100));
    b.add(sample(T + 2000, 300));
    // Nobody sampled for 5 minutes.
    auto closed = b.add(sample(T + 5 * 60000 + 3000, 700));
    BOOST_TEST_REQUIRE(closed.size() == 2u);
    BOOST_TEST(closed[0] == point(T, 10, 200));
    BOOST_TEST(closed[1] == point(T, 60, 200));
    auto rest = b.flush();
    BOOST_TEST_REQUIRE(rest.size() == 2u);
    BOOST_TEST(rest[0] == point(T + 5 * 60000, 10, 700));
    BOOST_TEST(rest[1] == point(T + 5 * 60000, 60, 700));
}

BOOST_AUTO_TEST_CASE(time_going_backwards_starts_a_new_bucket) {
    HistoryBuckets b;
    b.add(sample(T + 25000, 100));
    // The clock is stepped back 20 s: the 10 s bucket at T+20 s is closed
    // as it was; the new samples go to a new bucket at T (not into T+20 s).
    auto closed = b.add(sample(T + 5000, 200));
    BOOST_TEST_REQUIRE(closed.size() == 1u);
    BOOST_TEST(closed[0] == point(T + 20000, 10, 100));
    BOOST_TEST(b.add(sample(T + 6000, 400)).empty());
    // The minute at T is the same bucket before and after the step.
    auto rest = b.flush();
    BOOST_TEST_REQUIRE(rest.size() == 2u);
    BOOST_TEST(rest[0] == point(T, 10, 300));
    BOOST_TEST(rest[1] == point(T, 60, 700.0 / 3));

    // Back into a bucket closed before: a second point with the same t_ms,
    // which replaces the first in the ledger rather than doubling it.
    HistoryBuckets c({10});
    c.add(sample(T + 1000, 100));
    BOOST_TEST(c.add(sample(T + 11000, 100)).size() == 1u);
    auto again = c.add(sample(T + 2000, 500));
    BOOST_TEST_REQUIRE(again.size() == 1u);
    BOOST_TEST(again[0] == point(T + 10000, 10, 100));
    BOOST_TEST(c.flush() == std::vector<HistoryPoint>{point(T, 10, 500)});
}

BOOST_AUTO_TEST_CASE(flush_closes_the_open_buckets_once) {
    HistoryBuckets b({60, 10});
    BOOST_TEST(b.flush().empty());  // nothing sampled yet
    b.add(sample(T + 61000, 8, 40.0, 50.0, 6, 5));
    BOOST_TEST(b.pending().size() == 2u);  // pending() leaves them open
    auto rest = b.flush();
    BOOST_TEST_REQUIRE(rest.size() == 2u);
    BOOST_TEST(rest[0] == point(T + 60000, 60, 8, 40.0, 50.0, 6, 5));
    BOOST_TEST(rest[1] == point(T + 60000, 10, 8, 40.0, 50.0, 6, 5));
    BOOST_TEST(b.flush().empty());
    BOOST_TEST(b.pending().empty());
    // The next sample opens fresh buckets: nothing of before is mixed in.
    b.add(sample(T + 62000, 2));
    BOOST_TEST(b.flush()[0] == point(T + 60000, 60, 2));
}

BOOST_AUTO_TEST_CASE(buckets_before_1970_round_down) {
    HistoryBuckets b({10});
    b.add(sample(-1, 4));
    BOOST_TEST(b.flush() == std::vector<HistoryPoint>{point(-10000, 10, 4)});
}

BOOST_AUTO_TEST_CASE(values_that_are_not_finite_are_left_out_of_the_means) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    HistoryBuckets b({10});
    b.add(sample(T, nan, nan, 50.0));
    b.add(sample(T + 1, 10, 20.0, inf));
    b.add(sample(T + 2, inf, 22.0, nan));
    BOOST_TEST(b.flush() == std::vector<HistoryPoint>{point(T, 10, 10, 21.0)});
    b.add(sample(T, nan));
    BOOST_TEST(b.flush() == std::vector<HistoryPoint>{point(T, 10, 0)});
}

BOOST_AUTO_TEST_CASE(bad_tiers_are_refused) {
    BOOST_CHECK_THROW(HistoryBuckets({10, 0}), Error);
    BOOST_CHECK_THROW(HistoryBuckets({-10}), Error);
    BOOST_CHECK_THROW(HistoryBuckets({10, 60, 10}), Error);
}

BOOST_AUTO_TEST_CASE(resolution_and_retention) {
    BOOST_TEST(pick_resolution(T, T) == 10);
    BOOST_TEST(pick_resolution(T - 26 * k_hour, T) == 10);
    BOOST_TEST(pick_resolution(T - 26 * k_hour - 1, T) == 60);
    BOOST_TEST(pick_resolution(T - 7 * k_day, T) == 60);
    auto keep = default_retention();
    BOOST_TEST_REQUIRE(keep.size() == 2u);
    BOOST_TEST(keep[0].res_s == 10);
    BOOST_TEST(keep[0].keep_ms == 26 * k_hour);
    BOOST_TEST(keep[1].res_s == 60);
    BOOST_TEST(keep[1].keep_ms == 8 * k_day);
}

BOOST_AUTO_TEST_CASE(merge_sums_power_and_slots_and_means_temperature) {
    std::vector<HistoryPoint> n1{point(T, 60, 100, 20.0, std::nullopt, 4, 2),
                                 point(T + 60000, 60, 110, 21.0, 55.0, 4, 3)};
    std::vector<HistoryPoint> n2{point(T + 60000, 60, 200, std::nullopt, 56.0, 8, 8),
                                 point(T + 120000, 60, 210, 23.0, 57.0, 8, 7)};
    std::vector<HistoryPoint> n3{point(T + 60000, 60, 300, 22.0, 58.0, 2, 1)};
    auto site = merge_site_history({n1, n2, n3});
    BOOST_TEST_REQUIRE(site.size() == 3u);
    BOOST_TEST(site[0] == point(T, 60, 100, 20.0, std::nullopt, 4, 2));
    // Temperature from the two nodes that had one; the first node's target.
    BOOST_TEST(site[1] == point(T + 60000, 60, 610, 21.5, 55.0, 14, 12));
    BOOST_TEST(site[2] == point(T + 120000, 60, 210, 23.0, 57.0, 8, 7));
    BOOST_TEST(merge_site_history({}).empty());
    BOOST_TEST(merge_site_history({{}, n3}) == n3);
}

BOOST_AUTO_TEST_CASE(ledger_round_trip) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    const std::vector<HistoryPoint> tens{
        point(T, 10, 123.25, 41.5, 55.0, 8, 6), point(T + 10000, 10, 0, std::nullopt, 55.0, 0, 0),
        point(T + 20000, 10, 99.5, 42.0, std::nullopt, 8, 8)};
    {
        Ledger l(db);
        // Out of order, with a minute point in between: read back by t_ms, per tier.
        l.add_history({tens[2], point(T, 60, 74.25, 41.75, 55.0, 8, 8), tens[0], tens[1]}, T);
        BOOST_TEST(l.history(10, T, T + 30000) == tens);
    }
    Ledger l(db);  // durable across a reopen
    BOOST_TEST(l.history(10, T, T + 30000) == tens);
    // [since, until): by the bucket start.
    BOOST_TEST(l.history(10, T + 1, T + 20000) == std::vector<HistoryPoint>{tens[1]});
    BOOST_TEST(l.history(10, T + 20000, T + 20000).empty());
    BOOST_TEST(l.history(60, T - k_day, T + k_day) ==
               std::vector<HistoryPoint>{point(T, 60, 74.25, 41.75, 55.0, 8, 8)});
    BOOST_TEST(l.history(300, T - k_day, T + k_day).empty());

    // The same bucket again replaces the row.
    l.add_history({point(T + 10000, 10, 5, 30.0, std::nullopt, 1, 1)}, T);
    BOOST_TEST(l.history(10, T, T + 30000)[1] == point(T + 10000, 10, 5, 30.0, std::nullopt, 1, 1));
    BOOST_TEST(l.history(10, T, T + 30000).size() == 3u);

    // Read-only readers see the same; they may not write.
    Ledger r(db, true);
    BOOST_TEST(r.history(60, T, T + 1) == l.history(60, T, T + 1));
    BOOST_CHECK_THROW(r.add_history({point(T, 10, 1)}, T), Error);
}

BOOST_AUTO_TEST_CASE(retention_deletes_rows_older_than_each_tier_keeps) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    const std::int64_t now = T + 30 * k_day;
    const std::int64_t edge10 = now - 26 * k_hour;
    const std::int64_t edge60 = now - 8 * k_day;
    l.add_history({point(edge10 - 10000, 10, 1), point(edge10, 10, 2), point(now, 10, 3),
                   point(edge60 - 60000, 60, 4), point(edge60, 60, 5), point(edge10 - 60000, 60, 6),
                   point(T, 300, 7)},
                  now);
    auto powers = [&](int res) {
        std::vector<double> out;
        for (const auto& p : l.history(res, T - k_day, now + k_day)) out.push_back(p.power_w);
        return out;
    };
    BOOST_TEST(powers(10) == (std::vector<double>{2, 3}), boost::test_tools::per_element());
    BOOST_TEST(powers(60) == (std::vector<double>{5, 6}), boost::test_tools::per_element());
    // A resolution without retention is kept.
    BOOST_TEST(powers(300) == std::vector<double>{7}, boost::test_tools::per_element());

    // Pruning happens on every write, also one without points; here with a
    // retention of one hour for both tiers.
    l.add_history({}, now, {{10, k_hour}, {60, k_hour}});
    BOOST_TEST(powers(10) == std::vector<double>{3}, boost::test_tools::per_element());
    BOOST_TEST(powers(60).empty());
}

BOOST_AUTO_TEST_CASE(too_many_points_are_refused_with_the_fix) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    std::vector<HistoryPoint> pts;
    for (int i = 0; i < 5; ++i) {
        pts.push_back(point(T + i * 10000, 10, i));
        pts.push_back(point(T + i * 60000, 60, i));
    }
    l.add_history(pts, T);
    BOOST_TEST(l.history(10, T, T + k_hour, 5).size() == 5u);
    BOOST_CHECK_EXCEPTION(l.history(10, T, T + k_hour, 4), Error,
                          usage_mentioning("narrow since_ms/until_ms or use res_s=60"));
    BOOST_CHECK_EXCEPTION(l.history(10, T, T + k_hour, 4), Error,
                          usage_mentioning("more than 4 points"));
    // At 60 s there is no coarser tier to suggest.
    try {
        l.history(60, T, T + k_hour, 4);
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("narrow since_ms/until_ms") != std::string::npos);
        BOOST_TEST(what.find("or use") == std::string::npos);
    }
    // A narrower window is fine.
    BOOST_TEST(l.history(10, T, T + 40000, 4).size() == 4u);
    BOOST_CHECK_EXCEPTION(l.history(0, T, T + 1), Error, usage_mentioning("res_s=0"));
    BOOST_CHECK_EXCEPTION(l.history(10, T + 1, T), Error, usage_mentioning("since_ms <= until_ms"));
}

BOOST_AUTO_TEST_CASE(readable_by_the_sqlite3_shell) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    {
        Ledger l(db);
        l.add_history({point(T, 10, 120.5, 41.0, 55.0, 8, 6), point(T + 10000, 10, 80, std::nullopt,
                                                                    std::nullopt, 8, 4)},
                      T);
    }
    BOOST_TEST(shell(db, "select count(*) from history") == "2");
    BOOST_TEST(shell(db, "select res_s, t_ms, power_w, temp_c, target_c, slots_allowed, slots "
                         "from history order by t_ms") ==
               "10|1709251200000|120.5|41.0|55.0|8|6\n10|1709251210000|80.0|||8|4");
}

BOOST_AUTO_TEST_CASE(a_ledger_without_the_table_gets_it_and_reads_empty_before) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    { Ledger l(db); }
    // What a ledger of an agent older than the history table looks like.
    BOOST_TEST(std::system(("sqlite3 '" + db + "' 'DROP TABLE history'").c_str()) == 0);
    {
        Ledger r(db, true);
        BOOST_TEST(r.history(10, T, T + 1).empty());
        BOOST_TEST(r.total_energy().value == 0u);
    }
    Ledger l(db);  // the agent adds it on open
    l.add_history({point(T, 10, 1)}, T);
    BOOST_TEST(l.history(10, T, T + 1).size() == 1u);
    BOOST_TEST(shell(db, "PRAGMA user_version") == "2");  // the schema's, unchanged by the table
}

BOOST_AUTO_TEST_SUITE_END()
