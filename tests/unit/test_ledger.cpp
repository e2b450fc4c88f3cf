#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/ledger.hpp"

namespace fs = std::filesystem;
using hearth::ChargeRow;
using hearth::EnergyQuery;
using hearth::EnergyRow;
using hearth::Error;
using hearth::ExitCode;
using hearth::IntervalRecord;
using hearth::Ledger;
using hearth::Microjoules;

using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs the real sqlite3 shell on the file and returns its output without the
// final newline: what an operator inspecting the ledger would see.
std::string shell(const std::string& db, const std::string& sql, bool read_only = true,
                  bool may_fail = false) {
    std::string cmd = std::string("sqlite3 -batch -bail ") + (read_only ? "-readonly " : "") +
                      quote(db) + " " + quote(sql) + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int status = ::pclose(p);
    if (!may_fail) BOOST_TEST_REQUIRE(status == 0, "sqlite3 failed: " << out);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

ChargeRow charge(const std::string& tenant, const std::string& job, std::int64_t task,
                 std::uint32_t attempt, std::uint64_t s, std::uint64_t d) {
    return ChargeRow{tenant, job, task, attempt, Microjoules{s}, Microjoules{d}};
}
ChargeRow house(std::uint64_t s, std::uint64_t d) {
    return charge("", "", -1, 0, s, d);
}

IntervalRecord interval(const std::string& node, const std::string& site, std::int64_t t0,
                        std::int64_t t1, std::vector<ChargeRow> charges, bool estimated = false,
                        const std::string& kind = "sample") {
    IntervalRecord r;
    r.node = node;
    r.site = site;
    r.source = estimated ? "model" : "powercap";
    r.estimated = estimated;
    r.kind = kind;
    r.t0_ms = t0;
    r.t1_ms = t1;
    for (const auto& c : charges) r.energy += c.static_part + c.dynamic_part;
    r.charges = std::move(charges);
    return r;
}

// 2024-03-01T00:00:00Z: the fixture straddles this UTC midnight (and a leap day).
constexpr std::int64_t k_midnight = 1709251200000;
constexpr std::int64_t M = k_midnight;

// Five intervals on two nodes of two sites; every expected value in the tests
// below is computed by hand from this table.
//   I1 n1/pool [M-10s, M-5s)  1000: alice j1 100+400, bob j2 100+200, house 150+50
//   I2 n1/pool [M-5s,  M+1s)   600: alice j1 100+300, house 200+0  (crosses midnight)
//   I3 n2/tank [M,     M+4s)   900: alice j3/5/2 300+300, bob j2/1 100+100, house 100+0
//                                    estimated (model source)
//   I4 n2/tank [M+4s,  M+10s)  300: gap, house 300+0
//   I5 n1/pool [M+1s,  M+3s)   100: alice j1 20+80
void fill(Ledger& l) {
    l.commit(interval("n1", "pool", M - 10000, M - 5000,
                      {charge("alice", "j1", 0, 1, 100, 400), charge("bob", "j2", 0, 1, 100, 200),
                       house(150, 50)}),
             {});
    l.commit(interval("n1", "pool", M - 5000, M + 1000,
                      {charge("alice", "j1", 0, 1, 100, 300), house(200, 0)}),
             {});
    l.commit(interval("n2", "tank", M, M + 4000,
                      {charge("alice", "j3", 5, 2, 300, 300), charge("bob", "j2", 1, 1, 100, 100),
                       house(100, 0)},
                      true),
             {});
    l.commit(interval("n2", "tank", M + 4000, M + 10000, {house(300, 0)}, false, "gap"), {});
    l.commit(interval("n1", "pool", M + 1000, M + 3000, {charge("alice", "j1", 0, 1, 20, 80)}), {});
}

struct Expected {
    std::string key;
    std::uint64_t energy, static_part;
    double seconds;
    bool estimated;
};

void check_rows(const std::vector<EnergyRow>& rows, const std::vector<Expected>& want) {
    BOOST_TEST_REQUIRE(rows.size() == want.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        BOOST_TEST_CONTEXT("row " << i << " (" << want[i].key << ")") {
            BOOST_TEST(rows[i].key == want[i].key);
            BOOST_TEST(rows[i].energy.value == want[i].energy);
            BOOST_TEST(rows[i].static_part.value == want[i].static_part);
            BOOST_TEST(rows[i].seconds == want[i].seconds);
            BOOST_TEST(rows[i].estimated == want[i].estimated);
        }
    }
}

// Boost.Test prints both sides of a failed comparison; optional cannot be printed.
std::string state_of(const Ledger& l, const std::string& key) {
    return l.state(key).value_or("<unset>");
}

EnergyQuery by(const std::string& grouping) {
    EnergyQuery q;
    q.by = grouping;
    return q;
}

// Kills and reaps a forked child however the test ends.
class Child {
public:
    explicit Child(pid_t pid) : m_pid(pid) {}
    ~Child() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    int kill_and_wait() {
        ::kill(m_pid, SIGKILL);
        int status = 0;
        ::waitpid(m_pid, &status, 0);
        m_pid = -1;
        return status;
    }

private:
    pid_t m_pid;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger)

BOOST_AUTO_TEST_CASE(query_groups_by_tenant_job_site_node) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    fill(l);

    // House rows (tenant '') are reported as "house"; groups sorted by key.
    check_rows(l.query(by("tenant")), {{"alice", 1600, 520, 17, true},
                                       {"bob", 500, 200, 9, true},
                                       {"house", 800, 750, 21, true}});
    check_rows(l.query(by("job")), {{"house", 800, 750, 21, true},
                                    {"j1", 1000, 220, 13, false},
                                    {"j2", 500, 200, 9, true},
                                    {"j3", 600, 300, 4, true}});
    check_rows(l.query(by("site")),
               {{"pool", 1700, 670, 13, false}, {"tank", 1200, 800, 10, true}});
    check_rows(l.query(by("node")), {{"n1", 1700, 670, 13, false}, {"n2", 1200, 800, 10, true}});

    BOOST_TEST(l.total_energy().value == 2900u);
    BOOST_TEST(l.total_charged().value == 2900u);
}

BOOST_AUTO_TEST_CASE(query_by_day_splits_at_utc_midnight) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    fill(l);
    // I2 crosses midnight and counts on the day it started; I3 starts exactly
    // at midnight and counts on the next.
    check_rows(l.query(by("day")),
               {{"2024-02-29", 1600, 650, 11, false}, {"2024-03-01", 1300, 820, 12, true}});

    // The last millisecond of a day still belongs to it.
    l.commit(interval("n3", "room", M - 1, M, {charge("carol", "j9", 0, 1, 0, 7)}), {});
    EnergyQuery q = by("day");
    q.tenant = "carol";
    check_rows(l.query(q), {{"2024-02-29", 7, 0, 0.001, false}});
}

BOOST_AUTO_TEST_CASE(query_filters) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    fill(l);

    EnergyQuery q = by("day");
    q.tenant = "alice";
    check_rows(l.query(q),
               {{"2024-02-29", 900, 200, 11, false}, {"2024-03-01", 700, 320, 6, true}});

    // Overlap: t1 > since and t0 < until. I1 ends at M and I4 starts at M+4s:
    // both only touch the window and are left out.
    q = by("site");
    q.since_ms = M;
    q.until_ms = M + 4000;
    check_rows(l.query(q), {{"pool", 700, 320, 8, false}, {"tank", 900, 500, 4, true}});

    q = by("tenant");
    q.until_ms = M - 5000;
    check_rows(l.query(q), {{"alice", 500, 100, 5, false},
                            {"bob", 300, 100, 5, false},
                            {"house", 200, 150, 5, false}});

    q = by("tenant");
    q.since_ms = M + 3000;
    check_rows(
        l.query(q),
        {{"alice", 600, 300, 4, true}, {"bob", 200, 100, 4, true}, {"house", 400, 400, 10, true}});

    q = by("tenant");
    q.site = "tank";
    check_rows(
        l.query(q),
        {{"alice", 600, 300, 4, true}, {"bob", 200, 100, 4, true}, {"house", 400, 400, 10, true}});

    q = by("node");
    q.node = "n1";
    q.job = "j1";
    check_rows(l.query(q), {{"n1", 1000, 220, 13, false}});

    q = by("tenant");
    q.job = "j2";
    check_rows(l.query(q), {{"bob", 500, 200, 9, true}});

    // Values are bound, never spliced into the SQL.
    q = by("tenant");
    q.tenant = "x' OR 1=1 --";
    BOOST_TEST(l.query(q).empty());
    q.tenant = "nobody";
    BOOST_TEST(l.query(q).empty());
}

BOOST_AUTO_TEST_CASE(estimated_propagates_to_every_group_it_touches) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    l.commit(interval("n1", "s", 0, 1000, {charge("a", "j", 0, 1, 1, 1), house(1, 0)}), {});
    l.commit(interval("n1", "s", 1000, 2000, {charge("b", "k", 0, 1, 0, 5)}, true), {});
    l.commit(interval("n1", "s", 2000, 3000, {charge("a", "j", 0, 1, 0, 4)}), {});
    check_rows(l.query(by("tenant")),
               {{"a", 6, 1, 2, false}, {"b", 5, 0, 1, true}, {"house", 1, 1, 1, false}});
    check_rows(l.query(by("node")), {{"n1", 12, 2, 3, true}});
    check_rows(l.query(by("day")), {{"1970-01-01", 12, 2, 3, true}});
}

BOOST_AUTO_TEST_CASE(interval_without_charges_counts_its_time_not_a_tenant) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    l.commit(interval("n1", "s", 0, 2000, {charge("a", "j", 0, 1, 1, 2)}), {});
    l.commit(interval("n1", "s", 2000, 5000, {}), {});  // nothing measured, nothing charged
    check_rows(l.query(by("node")), {{"n1", 3, 1, 5, false}});
    check_rows(l.query(by("tenant")), {{"a", 3, 1, 2, false}});
}

BOOST_AUTO_TEST_CASE(unknown_grouping_is_a_usage_error) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    try {
        l.query(by("month"));
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(ExitCode::usage));
        BOOST_TEST(std::string(e.what()).find("month") != std::string::npos);
        BOOST_TEST(std::string(e.what()).find("tenant, job, site, node, day") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(task_energy_sums_one_attempt) {
    TempDir dir;
    Ledger l(dir.file("ledger.db"));
    fill(l);
    BOOST_TEST(l.task_energy("j1", 0, 1).value == 1000u);
    BOOST_TEST(l.task_energy("j3", 5, 2).value == 600u);
    BOOST_TEST(l.task_energy("j2", 0, 1).value == 300u);
    BOOST_TEST(l.task_energy("j2", 1, 1).value == 200u);
    BOOST_TEST(l.task_energy("", -1, 0).value == 800u);  // the house
    BOOST_TEST(l.task_energy("j3", 5, 1).value == 0u);
    BOOST_TEST(l.task_energy("nope", 0, 1).value == 0u);
}

BOOST_AUTO_TEST_CASE(charges_that_do_not_add_up_write_nothing) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    Ledger l(db);
    fill(l);
    l.commit(interval("n1", "pool", M + 3000, M + 4000, {house(1, 1)}), {{"resume", "a"}});

    IntervalRecord bad = interval("n1", "pool", M + 4000, M + 5000,
                                  {charge("alice", "j1", 0, 1, 10, 10), house(5, 0)});
    bad.energy = Microjoules{26};  // charges add up to 25
    BOOST_CHECK_THROW(l.commit(bad, {{"resume", "b"}}), Error);
    try {
        l.commit(bad, {});
    } catch (const Error& e) {
        std::string what = e.what();
        BOOST_TEST(what.find("25") != std::string::npos);
        BOOST_TEST(what.find("26") != std::string::npos);
        BOOST_TEST(what.find('\n') == std::string::npos);
    }
    bad.energy = Microjoules{24};
    BOOST_CHECK_THROW(l.commit(bad, {{"resume", "b"}}), Error);

    // Other records the schema would refuse are refused up front too.
    IntervalRecord odd = interval("n1", "pool", M + 4000, M + 5000, {house(1, 0)});
    odd.kind = "idle";
    BOOST_CHECK_THROW(l.commit(odd, {{"resume", "b"}}), Error);
    odd = interval("n1", "pool", M + 5000, M + 4000, {house(1, 0)});
    BOOST_CHECK_THROW(l.commit(odd, {{"resume", "b"}}), Error);

    BOOST_TEST(l.total_energy().value == 2902u);
    BOOST_TEST(l.total_charged().value == 2902u);
    BOOST_TEST(state_of(l, "resume") == std::string("a"));
    BOOST_TEST(shell(db, "SELECT count(*) FROM intervals") == "6");
    BOOST_TEST(shell(db, "SELECT count(*) FROM charges") == "11");

    // And a commit still works afterwards: no transaction was left open.
    l.commit(interval("n1", "pool", M + 4000, M + 5000, {house(2, 0)}), {{"resume", "c"}});
    BOOST_TEST(l.total_charged().value == 2904u);
    BOOST_TEST(state_of(l, "resume") == std::string("c"));
}

BOOST_AUTO_TEST_CASE(failure_inside_the_transaction_rolls_everything_back) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    { Ledger l(db); }
    // A trigger makes SQLite refuse the second charge, after the interval row
    // and the first charge have been written inside the transaction.
    shell(db,
          "CREATE TRIGGER boom BEFORE INSERT ON charges WHEN NEW.tenant = 'boom' "
          "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END",
          false);
    Ledger l(db);
    l.commit(interval("n1", "s", 0, 1000, {house(3, 0)}), {{"resume", "1000"}});
    IntervalRecord rec = interval("n1", "s", 1000, 2000,
                                  {charge("a", "j", 0, 1, 1, 1), charge("boom", "j", 1, 1, 2, 0)});
    try {
        l.commit(rec, {{"resume", "2000"}, {"other", "x"}});
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        std::string what = e.what();
        BOOST_TEST(what.find(db) != std::string::npos);
        BOOST_TEST(what.find("refused by test trigger") != std::string::npos);
    }
    BOOST_TEST(l.total_energy().value == 3u);
    BOOST_TEST(l.total_charged().value == 3u);
    BOOST_TEST(state_of(l, "resume") == std::string("1000"));
    BOOST_TEST(!l.state("other"));
    BOOST_TEST(shell(db, "SELECT count(*) FROM intervals") == "1");
    // The next interval commits normally and gets the next id.
    BOOST_TEST(l.commit(interval("n1", "s", 1000, 2000, {house(4, 0)}), {}) == 2);
}

BOOST_AUTO_TEST_CASE(state_round_trip_in_the_interval_transaction) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    {
        Ledger l(db);
        BOOST_TEST(!l.state("resume_ms"));
        std::int64_t id =
            l.commit(interval("n1", "s", 0, 1000, {house(1, 0)}),
                     {{"resume_ms", "1000"}, {"counter", "it's \"quoted\" \xc3\xa9"}});
        BOOST_TEST(id == 1);
        BOOST_TEST(state_of(l, "resume_ms") == std::string("1000"));
        id = l.commit(interval("n1", "s", 1000, 2000, {house(1, 0)}), {{"resume_ms", "2000"}});
        BOOST_TEST(id == 2);
        BOOST_TEST(state_of(l, "resume_ms") == std::string("2000"));
        l.commit(interval("n1", "s", 2000, 3000, {house(1, 0)}), {{"empty", ""}});
    }
    Ledger l(db, true);
    BOOST_TEST(state_of(l, "resume_ms") == std::string("2000"));
    BOOST_TEST(state_of(l, "counter") == std::string("it's \"quoted\" \xc3\xa9"));
    BOOST_TEST(state_of(l, "empty") == std::string(""));
    BOOST_TEST(!l.state("missing"));
    BOOST_TEST(shell(db, "SELECT value FROM state WHERE key = 'resume_ms'") == "2000");
}

BOOST_AUTO_TEST_CASE(durable_and_readable_by_the_sqlite3_shell) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    constexpr int n = 200;
    std::uint64_t expected = 0;
    {
        Ledger l(db);
        for (int i = 0; i < n; ++i) {
            std::uint64_t u = static_cast<std::uint64_t>(i);
            IntervalRecord r = interval(
                "n" + std::to_string(i % 3), "s", i * 1000, (i + 1) * 1000,
                {charge("t" + std::to_string(i % 4), "j", i % 7, 1, 1000 + u, 2000 * u + 3),
                 charge("t9", "k", 0, 2, 7 * u, 11), house(u % 5, 123456789)},
                i % 10 == 0);
            expected += r.energy.value;
            BOOST_TEST(l.commit(r, {{"resume_ms", std::to_string((i + 1) * 1000)}}) == i + 1);
        }
        BOOST_TEST(l.total_energy().value == expected);
    }
    // Kept on close, so that users who may not write the directory can read
    // the ledger while grid-agent is stopped.
    BOOST_TEST(fs::exists(db + "-wal"));
    BOOST_TEST(fs::exists(db + "-shm"));
    Ledger l(db);
    BOOST_TEST(l.total_energy().value == expected);
    BOOST_TEST(l.total_charged().value == expected);
    BOOST_TEST(l.total_energy().value == l.total_charged().value);
    BOOST_TEST(state_of(l, "resume_ms") == std::string(std::to_string(n * 1000)));

    // The sqlite3 shell reads the same numbers while the ledger is open.
    BOOST_TEST(shell(db, "SELECT sum(static_uj+dynamic_uj) FROM charges") ==
               std::to_string(expected));
    BOOST_TEST(shell(db, "SELECT sum(energy_uj) FROM intervals") == std::to_string(expected));
    BOOST_TEST(shell(db, "SELECT count(*) FROM intervals") == std::to_string(n));
    BOOST_TEST(shell(db, "PRAGMA journal_mode") == "wal");
    BOOST_TEST(shell(db, "PRAGMA integrity_check") == "ok");
    BOOST_TEST(shell(db, "PRAGMA user_version") == "2");
    BOOST_TEST(shell(db, "PRAGMA foreign_key_check") == "");

    std::uint64_t by_tenant = 0;
    for (const auto& r : l.query(by("tenant"))) by_tenant += r.energy.value;
    BOOST_TEST(by_tenant == expected);

    Ledger reader(db, true);
    BOOST_TEST(reader.total_charged().value == expected);
}

BOOST_AUTO_TEST_CASE(sigkill_never_leaves_half_an_interval) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        // The child: an agent committing intervals as fast as it can, each
        // acknowledged on the pipe only once commit() has returned.
        ::close(fds[0]);
        try {
            Ledger l(db);
            for (std::int64_t i = 1;; ++i) {
                std::vector<ChargeRow> charges;
                for (int t = 0; t < 10; ++t) {
                    charges.push_back(charge("t" + std::to_string(t), "j", t, 1,
                                             static_cast<std::uint64_t>(i + t), 1000));
                }
                charges.push_back(house(static_cast<std::uint64_t>(i), 7));
                IntervalRecord r = interval("n1", "s", (i - 1) * 1000, i * 1000, charges);
                l.commit(r, {{"seq", std::to_string(i)}, {"resume_ms", std::to_string(i * 1000)}});
                char ack = 1;
                if (::write(fds[1], &ack, 1) != 1) ::_exit(2);
            }
        } catch (...) {
        }
        ::_exit(1);
    }
    ::close(fds[1]);
    Child child(pid);
    long acked = 0;
    char buf[256];
    while (acked < 60) {
        ssize_t got = ::read(fds[0], buf, sizeof buf);
        BOOST_TEST_REQUIRE(got > 0, "the child stopped committing");
        acked += got;
    }
    int status = child.kill_and_wait();
    BOOST_TEST_REQUIRE(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGKILL);
    while (true) {  // acks written before the kill
        ssize_t got = ::read(fds[0], buf, sizeof buf);
        if (got <= 0) break;
        acked += got;
    }
    ::close(fds[0]);

    Ledger l(db);
    BOOST_TEST_MESSAGE("acknowledged " << acked << " commits before SIGKILL");
    BOOST_TEST(shell(db, "PRAGMA integrity_check") == "ok");
    long committed = std::stol(shell(db, "SELECT count(*) FROM intervals"));
    // Every acknowledged commit is there; at most one more finished between its
    // COMMIT and its ack.
    BOOST_TEST(committed >= acked);
    BOOST_TEST(committed <= acked + 1);
    BOOST_TEST(shell(db, "SELECT max(id) FROM intervals") == std::to_string(committed));
    BOOST_TEST(shell(db,
                     "SELECT count(*) FROM intervals i WHERE energy_uj != "
                     "(SELECT coalesce(sum(static_uj + dynamic_uj), 0) FROM charges "
                     "WHERE interval_id = i.id)") == "0");
    BOOST_TEST(shell(db, "SELECT count(*) FROM charges") == std::to_string(committed * 11));
    BOOST_TEST(state_of(l, "seq") == std::string(std::to_string(committed)));
    BOOST_TEST(shell(db, "SELECT max(t1_ms) FROM intervals") == *l.state("resume_ms"));
    BOOST_TEST(l.total_energy().value == l.total_charged().value);
    // The agent resumes where it stopped.
    BOOST_TEST(l.commit(interval("n1", "s", committed * 1000, committed * 1000 + 1000, {}), {}) ==
               committed + 1);
}

BOOST_AUTO_TEST_CASE(a_disk_that_refuses_writes_fails_the_commit_cleanly) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    { Ledger l(db); }
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        // The child: a file size limit makes the disk refuse the WAL's growth
        // (as a full disk would) part way through some commit.
        ::close(fds[0]);
        std::string report;
        try {
            Ledger l(db);
            ::signal(SIGXFSZ, SIG_IGN);
            rlimit lim{256 * 1024, 256 * 1024};
            ::setrlimit(RLIMIT_FSIZE, &lim);
            std::int64_t done = 0;
            try {
                for (std::int64_t i = 1; i < 100000; ++i) {
                    std::vector<ChargeRow> charges;
                    for (int t = 0; t < 20; ++t) {
                        charges.push_back(
                            charge(std::string(200, 't') + std::to_string(t), "j", t, 1, 5, 5));
                    }
                    l.commit(interval("n1", "s", i * 1000, i * 1000 + 1000, charges),
                             {{"seq", std::to_string(i)}});
                    done = i;
                }
                report = std::to_string(done) + "	no error";
            } catch (const Error& e) {
                report = std::to_string(done) + "	" + e.what();
            }
        } catch (...) {
            report = "-1	setup failed";
        }
        ssize_t ignored = ::write(fds[1], report.data(), report.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string report;
    char buf[4096];
    while (true) {
        ssize_t got = ::read(fds[0], buf, sizeof buf);
        if (got <= 0) break;
        report.append(buf, static_cast<std::size_t>(got));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST_REQUIRE(report.find('\t') != std::string::npos, report);
    long done = std::stol(report.substr(0, report.find('\t')));
    std::string what = report.substr(report.find('\t') + 1);
    BOOST_TEST_MESSAGE("committed " << done << " before: " << what);
    BOOST_TEST(done > 0);
    BOOST_TEST(what.find(db) != std::string::npos);
    BOOST_TEST((what.find("I/O error") != std::string::npos ||
                what.find("disk is full") != std::string::npos));
    BOOST_TEST(what.find('\n') == std::string::npos);

    // Without the limit, the ledger holds exactly the intervals that committed.
    Ledger l(db);
    BOOST_TEST(shell(db, "PRAGMA integrity_check") == "ok");
    BOOST_TEST(shell(db, "SELECT count(*) FROM intervals") == std::to_string(done));
    BOOST_TEST(shell(db, "SELECT count(*) FROM charges") == std::to_string(done * 20));
    BOOST_TEST(state_of(l, "seq") == std::to_string(done));
    BOOST_TEST(l.total_energy().value == static_cast<std::uint64_t>(done) * 200);
    BOOST_TEST(l.total_charged().value == l.total_energy().value);
}

// Root may write a file without write permission: the test means nothing there.
boost::test_tools::assertion_result not_root(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(::geteuid() != 0);
    r.message() << "running as root";
    return r;
}

BOOST_AUTO_TEST_CASE(a_read_only_file_is_refused_for_writing,
                     *boost::unit_test::precondition(not_root)) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    { Ledger l(db); }
    fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    try {
        Ledger l(db);
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        std::string what = e.what();
        BOOST_TEST(what.find(db) != std::string::npos);
        BOOST_TEST(what.find("read-only") != std::string::npos);
    }
    Ledger r(db, true);  // reading it is fine
    BOOST_TEST(r.total_energy().value == 0u);
}

BOOST_AUTO_TEST_CASE(read_only_on_a_missing_file_names_the_fix) {
    TempDir dir;
    const std::string db = dir.file("nope.db");
    try {
        Ledger l(db, true);
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "no ledger at " + db + "; is grid-agent running with --ledger " + db + "?");
    }
    BOOST_TEST(!fs::exists(db));  // a reader never creates it

    // An empty file is no ledger either.
    std::ofstream(dir.file("empty.db")).close();
    try {
        Ledger l(dir.file("empty.db"), true);
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        BOOST_TEST(std::string(e.what()).find("--ledger " + dir.file("empty.db")) !=
                   std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(read_only_ledger_reads_and_refuses_writes) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    {
        Ledger l(db);
        fill(l);
    }
    Ledger r(db, true);
    BOOST_TEST(r.total_energy().value == 2900u);
    check_rows(r.query(by("site")),
               {{"pool", 1700, 670, 13, false}, {"tank", 1200, 800, 10, true}});
    try {
        r.commit(interval("n1", "s", 0, 1, {house(1, 0)}), {});
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        std::string what = e.what();
        BOOST_TEST(what.find(db) != std::string::npos);
        BOOST_TEST(what.find("opened read-only") != std::string::npos);
    }
    BOOST_TEST(r.total_energy().value == 2900u);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_is_refused) {
    TempDir dir;
    const std::string db = dir.file("notes.txt");
    std::string text;
    for (int i = 0; i < 100; ++i) text += "this is a text file, not a database\n";
    std::ofstream(db) << text;
    for (bool read_only : {false, true}) {
        try {
            Ledger l(db, read_only);
            BOOST_FAIL("no error");
        } catch (const Error& e) {
            std::string what = e.what();
            BOOST_TEST(what.find(db) != std::string::npos);
            BOOST_TEST(what.find("file is not a database") != std::string::npos);  // SQLite's
            BOOST_TEST(what.find("move it aside") != std::string::npos);           // the fix
            BOOST_TEST(what.find('\n') == std::string::npos);
        }
    }
    BOOST_TEST(slurp(db) == text);  // untouched
}

BOOST_AUTO_TEST_CASE(another_programs_database_is_refused) {
    TempDir dir;
    const std::string db = dir.file("other.db");
    shell(db, "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)", false);
    for (bool read_only : {false, true}) {
        try {
            Ledger l(db, read_only);
            BOOST_FAIL("no error");
        } catch (const Error& e) {
            BOOST_TEST(std::string(e.what()).find("not a Hearth ledger") != std::string::npos);
        }
    }
    BOOST_TEST(shell(db, "SELECT count(*) FROM sqlite_schema") == "1");  // untouched
}

BOOST_AUTO_TEST_CASE(a_missing_directory_is_refused_with_the_fix) {
    TempDir dir;
    const std::string db = dir.file("no/such/dir/ledger.db");
    try {
        Ledger l(db);
        BOOST_FAIL("no error");
    } catch (const Error& e) {
        std::string what = e.what();
        BOOST_TEST(what.find(db) != std::string::npos);
        BOOST_TEST(what.find("directory exists") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(schema_is_created_once_and_constrained) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    { Ledger l(db); }
    { Ledger l(db); }  // reopening keeps what is there
    BOOST_TEST(shell(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") ==
               "charges\nhistory\nintervals\nstate");
    BOOST_TEST(shell(db, "PRAGMA application_id") == std::to_string(0x48525448));
    // The CHECK constraints hold for writers other than Hearth too.
    BOOST_TEST(shell(db,
                     "INSERT INTO intervals(node, site, source, estimated, kind, t0_ms, t1_ms, "
                     "energy_uj) VALUES ('n', 's', 'x', 0, 'nap', 0, 1, 1)",
                     false, true)
                   .find("CHECK constraint failed") != std::string::npos);
}

// A ledger of schema 1 (before intervals.meter), built with the sqlite3
// shell as an older agent left it: hearth energy reads it as it is; the
// agent migrates it on open, keeping every row.
BOOST_AUTO_TEST_CASE(a_schema_1_ledger_stays_readable_and_is_migrated) {
    TempDir dir;
    const std::string db = dir.file("ledger.db");
    shell(db,
          "PRAGMA journal_mode = WAL; PRAGMA application_id = 1213355080; "
          "PRAGMA user_version = 1; "
          "CREATE TABLE intervals(id INTEGER PRIMARY KEY, node TEXT NOT NULL, site TEXT NOT NULL, "
          "source TEXT NOT NULL, estimated INTEGER NOT NULL CHECK (estimated IN (0, 1)), "
          "kind TEXT NOT NULL CHECK (kind IN ('sample', 'gap')), t0_ms INTEGER NOT NULL, "
          "t1_ms INTEGER NOT NULL CHECK (t1_ms >= t0_ms), energy_uj INTEGER NOT NULL CHECK "
          "(energy_uj >= 0)); "
          "CREATE TABLE charges(interval_id INTEGER NOT NULL REFERENCES intervals(id) ON DELETE "
          "CASCADE, tenant TEXT NOT NULL, job TEXT NOT NULL, task INTEGER NOT NULL, attempt "
          "INTEGER NOT NULL, static_uj INTEGER NOT NULL, dynamic_uj INTEGER NOT NULL); "
          "CREATE TABLE state(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL); "
          "INSERT INTO intervals VALUES (1, 'n', 's', 'powercap', 0, 'sample', 0, 1000, 3000); "
          "INSERT INTO intervals VALUES (2, 'n', 's', 'model', 1, 'sample', 1000, 2000, 1000); "
          "INSERT INTO charges VALUES (1, 'a', 'j', 0, 0, 1000, 2000); "
          "INSERT INTO charges VALUES (2, 'a', 'j', 0, 0, 1000, 0);",
          false);
    {
        Ledger reader(db, true);
        auto rows = reader.query(by("tenant"));
        BOOST_REQUIRE_EQUAL(rows.size(), 1u);
        BOOST_TEST(rows[0].energy.value == 4000u);
        BOOST_TEST(rows[0].estimated_part.value == 1000u);
        BOOST_TEST(rows[0].sources == (std::vector<std::string>{"model", "powercap"}),
                   boost::test_tools::per_element());
    }
    BOOST_TEST(shell(db, "PRAGMA user_version") == "1");  // a reader changes nothing
    {
        Ledger l(db);
        IntervalRecord r = interval("n", "s", 2000, 3000, {house(0, 500)}, false);
        r.source = "hwmon";
        r.meter = "power_meter (hwmon3) energy1_input";
        l.commit(r, {});
        BOOST_TEST(l.total_energy().value == 4500u);
    }
    BOOST_TEST(shell(db, "PRAGMA user_version") == "2");
    BOOST_TEST(shell(db, "SELECT source || ':' || meter FROM intervals ORDER BY id") ==
               "powercap:\nmodel:\nhwmon:power_meter (hwmon3) energy1_input");
    BOOST_TEST(shell(db, "PRAGMA integrity_check") == "ok");
}

BOOST_AUTO_TEST_SUITE_END()
