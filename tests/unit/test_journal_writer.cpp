#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include "core/journal.hpp"
#include "core/journal_writer.hpp"
#include "tests/unit/support.hpp"

// The journal's one writer (core/journal_writer): what it writes is what the
// reader (core/journal) folds into a job's state, and every record carries
// the fields the schema in core/journal.hpp lists.
BOOST_AUTO_TEST_SUITE(journal_writer)

BOOST_AUTO_TEST_CASE(every_record_reads_back_with_its_schema_fields) {
    hearth::test::TempDir dir;
    const std::string path = dir.file("journal");
    {
        hearth::JournalWriter w(path);
        w.launch(1, 2, 3);
        w.node_up("n1", "host1", 4, 8);
        w.start(0, 1, "n1");
        w.start(1, 1, "n1");
        w.start(2, 1, "n1");
        hearth::JournalOutcome done;
        done.task = 0;
        done.attempt = 1;
        done.node = "n1";
        done.wall_ms = 1500;
        done.log = {0, 12};
        done.outputs = {"frame_0000.png"};
        done.energy = hearth::JournalEnergy{2'000'000, true};
        done.overridden = true;
        w.done(done);
        hearth::JournalOutcome fail;
        fail.task = 1;
        fail.attempt = 1;
        fail.node = "n1";
        fail.why = "exit";
        fail.exit_code = 3;
        fail.reason = "exited with 3";
        fail.final = true;
        w.fail(fail);
        w.node_blocked("n1", "3 tasks failed on it");
        const auto ts = w.node_down("host1", "ssh: no route", {{2, 1}});
        BOOST_TEST(ts > 0);
        w.end(hearth::JournalEnd{"stalled", 1, 1, 3, 1024});
        w.end_error("no such template");
        w.sync();
    }
    // The fields core/journal.hpp's schema names, by record (ts on all).
    const std::vector<std::set<std::string>> want{
        {"e", "n", "ranks", "total", "ts"},
        {"e", "n", "state", "host", "slots", "cores", "ts"},
        {"e", "t", "a", "n", "ts"},
        {"e", "t", "a", "n", "ts"},
        {"e", "t", "a", "n", "ts"},
        {"e", "t", "a", "n", "ms", "exit", "out", "log", "uj", "est", "ovr", "ts"},
        {"e", "t", "a", "n", "ms", "why", "exit", "reason", "final", "log", "ts"},
        {"e", "n", "state", "reason", "ts"},
        {"e", "n", "state", "reason", "lost", "ts"},
        {"e", "state", "committed", "failed", "total", "rss_kb", "ts"},
        {"e", "state", "error", "ts"},
    };
    std::vector<std::set<std::string>> got;
    const hearth::JournalState s = hearth::read_journal(path, [&](const nlohmann::json& r) {
        std::set<std::string> keys;
        for (const auto& [k, v] : r.items()) keys.insert(k);
        got.push_back(keys);
    });
    BOOST_TEST_REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) BOOST_TEST(got[i] == want[i], "record " << i);
    BOOST_TEST(s.launches == 1u);
    BOOST_TEST(s.committed.contains(0));
    BOOST_TEST(s.failed.count(1) == 1u);
    BOOST_TEST(s.energy_uj == 2'000'000u);
    BOOST_TEST(s.energy_estimated);
    BOOST_TEST(s.override_attempts == 1u);
    BOOST_TEST_REQUIRE(s.end.has_value());
    BOOST_TEST(s.end->at("state") == "error");
}

BOOST_AUTO_TEST_SUITE_END()
