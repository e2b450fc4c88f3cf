// The scheduler's queue.db (core/sched_store): schema and header, exactly-once
// commits, transactions that roll back, rows that survive reopening, and a
// file the sqlite3 shell reads.
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "core/sched_store.hpp"
#include "support.hpp"

using namespace hearth;
using hearth::test::TempDir;

namespace {

JobRow a_job(const std::string& id, std::uint64_t seq) {
    JobRow j;
    j.id = id;
    j.seq = seq;
    j.tenant = "bank";
    j.spec = "{}";
    j.task_count = 1'000'000'000;
    j.created_ms = 1000;
    return j;
}

AttemptRow an_attempt(const std::string& job, std::uint64_t task, std::uint32_t attempt) {
    AttemptRow a;
    a.key = AttemptKey{job, task, attempt};
    a.site = "pool";
    a.run = "r1";
    a.node = "n1";
    a.started_ms = 2000;
    return a;
}

// What the sqlite3 shell prints for a query on the file.
std::string shell(const std::string& db, const std::string& sql) {
    const std::string cmd = "sqlite3 -readonly '" + db + "' \"" + sql + "\" 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    BOOST_TEST_REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    BOOST_TEST_REQUIRE(::pclose(p) == 0, "sqlite3 failed: " << out);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sched_store)

BOOST_AUTO_TEST_CASE(header_and_schema_for_the_shell) {
    TempDir dir;
    const std::string db = dir.file("queue.db");
    {
        SchedStore s(db);
        SchedStore::Transaction t(s);
        s.insert_job(a_job("j-000001", 1));
        t.commit();
    }
    BOOST_TEST(shell(db, "PRAGMA application_id") == "1213355089");
    BOOST_TEST(shell(db, "PRAGMA user_version") == "1");
    BOOST_TEST(shell(db, "PRAGMA journal_mode") == "wal");
    BOOST_TEST(shell(db, "SELECT id, state, task_count, next_task FROM jobs") ==
               "j-000001|queued|1000000000|0");
}

BOOST_AUTO_TEST_CASE(a_task_commits_once) {
    TempDir dir;
    SchedStore s(dir.file("queue.db"));
    SchedStore::Transaction t(s);
    s.insert_job(a_job("j-000001", 1));
    s.insert_attempt(an_attempt("j-000001", 7, 1));
    s.insert_attempt(an_attempt("j-000001", 7, 2));
    BOOST_TEST(s.commit_task(AttemptKey{"j-000001", 7, 2}, 3000));
    BOOST_TEST(!s.commit_task(AttemptKey{"j-000001", 7, 1}, 3001));
    BOOST_TEST(!s.commit_task(AttemptKey{"j-000001", 7, 2}, 3002));
    t.commit();
    BOOST_TEST(s.is_committed("j-000001", 7));
    BOOST_TEST(!s.is_committed("j-000001", 8));
    const auto done = s.committed("j-000001", 0, 100);
    BOOST_TEST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0] == 7u);
}

BOOST_AUTO_TEST_CASE(an_uncommitted_transaction_leaves_nothing) {
    TempDir dir;
    SchedStore s(dir.file("queue.db"));
    {
        SchedStore::Transaction t(s);
        s.insert_job(a_job("j-000001", 1));
    }
    BOOST_TEST(!s.job("j-000001").has_value());
    BOOST_TEST(s.max_seq() == 0u);
}

BOOST_AUTO_TEST_CASE(rows_survive_reopening) {
    TempDir dir;
    const std::string db = dir.file("queue.db");
    {
        SchedStore s(db);
        SchedStore::Transaction t(s);
        JobRow j = a_job("j-000003", 3);
        s.insert_job(j);
        j.state = JobState::running;
        j.next_task = 40;
        j.done = 38;
        j.started_ms = 1500;
        s.update_job(j);
        AttemptRow a = an_attempt(j.id, 39, 1);
        s.insert_attempt(a);
        AttemptRow b = an_attempt(j.id, 12, 2);
        s.insert_attempt(b);
        b.state = AttemptState::failed;
        b.ended_ms = 2500;
        b.exit_code = 3;
        b.reason = "exit 3";
        s.end_attempt(b);
        s.put_task(TaskRow{j.id, 12, TaskRowState::queued, 2, 1});
        s.put_log(b.key, "boom\n");
        s.put_usage(UsageRow{"bank", 12.5, 2500});
        s.put_site(SiteRow{"pool", "r1", 9000});
        s.insert_output(j.id, 1, OutputInfo{"out/a.csv", std::string(64, 'c'), 5, 0640, 11});
        t.commit();
    }
    SchedStore s(db);
    BOOST_TEST(s.max_seq() == 3u);
    const auto active = s.active_jobs();
    BOOST_TEST_REQUIRE(active.size() == 1u);
    BOOST_TEST(active[0].next_task == 40u);
    BOOST_TEST(active[0].done == 38u);
    BOOST_TEST(to_string(active[0].state) == "running");
    const auto out = s.running_attempts();
    BOOST_TEST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].key.task == 39u);
    const auto failed = s.attempt(AttemptKey{"j-000003", 12, 2});
    BOOST_TEST_REQUIRE(failed.has_value());
    BOOST_TEST(to_string(failed->state) == "failed");
    BOOST_TEST(failed->reason == "exit 3");
    BOOST_TEST(s.last_attempt("j-000003", 12)->key.attempt == 2u);
    const auto rows = s.task_rows("j-000003", 0, 100);
    BOOST_TEST_REQUIRE(rows.size() == 1u);
    BOOST_TEST(rows[0].failures == 1u);
    BOOST_TEST(s.log(failed->key).value_or("") == "boom\n");
    BOOST_TEST(!s.log(AttemptKey{"j-000003", 39, 1}).has_value());
    BOOST_TEST(s.usage().at(0).usage_slot_s == 12.5);
    BOOST_TEST(s.sites().at(0).lease_expires_ms == 9000);
    BOOST_TEST(s.outputs("j-000003").at(0).mode == 0640u);
    s.delete_task("j-000003", 12);
    BOOST_TEST(s.task_rows("j-000003", 0, 100).empty());
}

BOOST_AUTO_TEST_CASE(jobs_filter_by_tenant_and_state_newest_first) {
    TempDir dir;
    SchedStore s(dir.file("queue.db"));
    SchedStore::Transaction t(s);
    for (std::uint64_t i = 1; i <= 4; ++i) {
        JobRow j = a_job("j-00000" + std::to_string(i), i);
        j.tenant = i % 2 ? "bank" : "studio";
        if (i == 3) j.state = JobState::cancelled;
        s.insert_job(j);
    }
    t.commit();
    const auto bank = s.jobs(std::string("bank"), std::nullopt, 10);
    BOOST_TEST_REQUIRE(bank.size() == 2u);
    BOOST_TEST(bank[0].id == "j-000003");
    BOOST_TEST(s.jobs(std::nullopt, JobState::cancelled, 10).size() == 1u);
    BOOST_TEST(s.jobs(std::nullopt, std::nullopt, 3).size() == 3u);
    BOOST_TEST(s.active_jobs().size() == 3u);
}

BOOST_AUTO_TEST_CASE(another_programs_database_is_refused) {
    TempDir dir;
    const std::string db = dir.file("other.db");
    sqlite3* h = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    BOOST_TEST_REQUIRE(sqlite3_exec(h, "CREATE TABLE t(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
    BOOST_CHECK_EXCEPTION(SchedStore{db}, Error, [](const Error& e) {
        return std::string(e.what()).find("another program") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(a_newer_schema_is_refused) {
    TempDir dir;
    const std::string db = dir.file("queue.db");
    { SchedStore s(db); }
    sqlite3* h = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
    BOOST_TEST_REQUIRE(sqlite3_exec(h, "PRAGMA user_version = 9", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
    BOOST_CHECK_EXCEPTION(SchedStore{db}, Error, [](const Error& e) {
        return std::string(e.what()).find("upgrade Hearth") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(a_broken_row_is_refused_by_the_schema) {
    TempDir dir;
    SchedStore s(dir.file("queue.db"));
    SchedStore::Transaction t(s);
    JobRow j = a_job("j-000001", 1);
    j.next_task = j.task_count + 1;  // a cursor past the end
    BOOST_CHECK_THROW(s.insert_job(j), Error);
}

BOOST_AUTO_TEST_SUITE_END()
