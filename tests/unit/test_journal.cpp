#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/append_file.hpp"
#include "core/error.hpp"
#include "core/journal.hpp"

namespace fs = std::filesystem;
using hearth::AppendFile;
using hearth::JournalState;
using hearth::JournalTail;
using json = nlohmann::json;

using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

std::string line(const json& record) {
    return record.dump() + "\n";
}

// Appends text durably, the way the dispatcher writes the journal.
void append(const std::string& path, const std::string& text) {
    AppendFile f(path);
    f.append(text);
    f.sync();
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

json start(std::uint64_t t, std::uint32_t a) {
    return {{"e", "start"}, {"t", t}, {"a", a}, {"n", "n1"}, {"ts", 1}};
}
json done(std::uint64_t t, std::uint32_t a, std::vector<std::string> out = {}) {
    return {{"e", "done"}, {"t", t},     {"a", a},        {"n", "n1"}, {"ms", 5},
            {"exit", 0},   {"out", out}, {"log", {0, 0}}, {"ts", 2}};
}
json fail(std::uint64_t t, std::uint32_t a, bool final) {
    return {{"e", "fail"},    {"t", t},        {"a", a},    {"n", "n1"},
            {"ms", 3},        {"why", "exit"}, {"exit", 1}, {"reason", "exit 1"},
            {"final", final}, {"log", {0, 0}}, {"ts", 3}};
}
json launch(std::uint64_t n) {
    return {{"e", "launch"}, {"n", n}, {"ranks", 2}, {"ts", 0}};
}
json end_record(const std::string& state) {
    return {{"e", "end"}, {"state", state}, {"committed", 1}, {"failed", 0}, {"rss_kb", 10}};
}

std::vector<std::uint64_t> committed_list(const JournalState& s, std::uint64_t below) {
    std::vector<std::uint64_t> v;
    for (std::uint64_t t = 0; t < below; ++t)
        if (s.committed.contains(t)) v.push_back(t);
    return v;
}

auto corrupt_at(std::uint64_t n) {
    return [n](const hearth::Error& e) {
        const std::string what = e.what();
        BOOST_TEST_INFO("message: " << what);
        return what.find("corrupt at line " + std::to_string(n) + " ") != std::string::npos &&
               what.find("hearth resume") != std::string::npos;
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(append_file_buffers_until_sync_and_returns_offsets) {
    TempDir dir;
    const std::string path = dir.file("data");
    {
        AppendFile f(path);
        BOOST_TEST(fs::exists(path));  // created at once
        BOOST_TEST(f.path() == path);
        BOOST_TEST(!f.pending());
        BOOST_TEST(f.append("abc") == 0u);
        BOOST_TEST(f.append("de") == 3u);
        BOOST_TEST(f.pending());
        BOOST_TEST(slurp(path).empty());  // nothing written before sync
        f.sync();
        BOOST_TEST(!f.pending());
        BOOST_TEST(slurp(path) == "abcde");
        f.sync();  // nothing pending: a no-op
        BOOST_TEST(slurp(path) == "abcde");
        BOOST_TEST(f.append(std::string("x\0y", 3)) == 5u);
        f.sync();
    }
    // Reopened, it appends after what is there.
    AppendFile g(path);
    BOOST_TEST(g.append("Z") == 8u);
    g.sync();
    BOOST_TEST(slurp(path) == std::string("abcdex\0yZ", 9));
}

BOOST_AUTO_TEST_CASE(append_file_in_a_missing_directory_throws) {
    TempDir dir;
    const std::string path = dir.file("no/such/dir/journal");
    BOOST_CHECK_EXCEPTION(AppendFile{path}, hearth::Error, [&](const hearth::Error& e) {
        return std::string(e.what()).find(path) != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(missing_journal_is_an_empty_state) {
    TempDir dir;
    int visits = 0;
    const JournalState s =
        hearth::read_journal(dir.file("journal"), [&](const json&) { ++visits; });
    BOOST_TEST(visits == 0);
    BOOST_TEST(s.committed.size() == 0u);
    BOOST_TEST(s.attempts.empty());
    BOOST_TEST(s.failed.empty());
    BOOST_TEST(s.outputs.empty());
    BOOST_TEST(s.running.empty());
    BOOST_TEST(s.launches == 0u);
    BOOST_TEST(!s.end.has_value());
    BOOST_TEST(s.valid_bytes == 0u);
    BOOST_TEST(s.valid_lines == 0u);
}

BOOST_AUTO_TEST_CASE(empty_journal_is_an_empty_state) {
    TempDir dir;
    const std::string path = dir.file("journal");
    append(path, "");
    const JournalState s = hearth::read_journal(path);
    BOOST_TEST(s.committed.size() == 0u);
    BOOST_TEST(s.valid_bytes == 0u);
    BOOST_TEST(s.launches == 0u);
}

BOOST_AUTO_TEST_CASE(read_journal_rebuilds_the_state) {
    TempDir dir;
    const std::string path = dir.file("journal");
    const std::vector<json> records = {
        launch(1),        {{"e", "node"}, {"n", "n1"}, {"state", "up"}, {"slots", 4}},
        start(0, 1),      done(0, 1, {"a.png", "b.png"}),
        start(1, 1),      fail(1, 1, false),
        start(1, 2),      start(2, 1),
        fail(2, 1, true), start(3, 1),
        start(4, 1),      done(4, 1, {"a.png"}),
    };
    std::string text;
    for (const auto& r : records) text += line(r);
    {
        // Written in two batches, as the dispatcher does.
        AppendFile f(path);
        for (std::size_t i = 0; i < records.size(); ++i) {
            f.append(line(records[i]));
            if (i == 5) f.sync();
        }
        f.sync();
    }
    BOOST_TEST_REQUIRE(slurp(path) == text);
    const JournalState s = hearth::read_journal(path);
    BOOST_TEST(committed_list(s, 10) == (std::vector<std::uint64_t>{0, 4}));
    BOOST_TEST(s.committed.size() == 2u);
    BOOST_TEST((s.attempts == std::map<std::uint64_t, std::uint32_t>{{1, 2}, {2, 1}, {3, 1}}));
    BOOST_TEST(s.failed == (std::set<std::uint64_t>{2}));
    BOOST_TEST((s.outputs == std::map<std::string, std::uint64_t>{{"a.png", 4}, {"b.png", 0}}));
    BOOST_TEST(s.running == (std::set<std::uint64_t>{1, 3}));
    BOOST_TEST(s.launches == 1u);
    BOOST_TEST(!s.end.has_value());
    BOOST_TEST(s.valid_bytes == text.size());
    BOOST_TEST(s.valid_lines == records.size());
}

BOOST_AUTO_TEST_CASE(commit_clears_failure_and_attempts) {
    TempDir dir;
    const std::string path = dir.file("journal");
    append(path, line(launch(1)) + line(start(7, 1)) + line(fail(7, 1, true)) + line(start(7, 3)) +
                     line(start(7, 2)));
    JournalState s = hearth::read_journal(path);
    BOOST_TEST(s.failed == (std::set<std::uint64_t>{7}));
    BOOST_TEST(s.attempts.at(7) == 3u);  // the highest attempt started
    append(path, line(done(7, 3)) + line(start(7, 4)) + line(fail(7, 4, true)));
    s = hearth::read_journal(path);
    BOOST_TEST(s.committed.contains(7));
    BOOST_TEST(s.failed.empty());    // committed wins over a later final failure
    BOOST_TEST(s.attempts.empty());  // nor is a committed task's start counted
    BOOST_TEST(s.running.empty());
}

BOOST_AUTO_TEST_CASE(launch_and_end_records) {
    TempDir dir;
    const std::string path = dir.file("journal");
    append(path, line(launch(1)) + line(start(0, 1)) + line(start(1, 1)));
    JournalState s = hearth::read_journal(path);
    BOOST_TEST(s.running == (std::set<std::uint64_t>{0, 1}));
    append(path, line(end_record("cancelled")));
    s = hearth::read_journal(path);
    BOOST_TEST(s.running.empty());
    BOOST_TEST_REQUIRE(s.end.has_value());
    BOOST_TEST(s.end->at("state").get<std::string>() == "cancelled");
    // A new launch: the old end no longer holds.
    append(path, line(launch(2)) + line(start(1, 2)));
    s = hearth::read_journal(path);
    BOOST_TEST(s.launches == 2u);
    BOOST_TEST(!s.end.has_value());
    BOOST_TEST(s.running == (std::set<std::uint64_t>{1}));
    BOOST_TEST(s.attempts.at(1) == 2u);
    append(path, line(done(1, 2)) + line(end_record("finished")));
    s = hearth::read_journal(path);
    BOOST_TEST_REQUIRE(s.end.has_value());
    BOOST_TEST(s.end->at("state").get<std::string>() == "finished");
    // A launch while tasks run (a crashed dispatcher) clears them too.
    append(path, line(launch(3)) + line(start(5, 1)) + line(launch(4)));
    s = hearth::read_journal(path);
    BOOST_TEST(s.launches == 4u);
    BOOST_TEST(s.running.empty());
    BOOST_TEST(s.attempts.at(5) == 1u);
}

BOOST_AUTO_TEST_CASE(torn_last_line_without_newline_is_ignored) {
    TempDir dir;
    const std::string path = dir.file("journal");
    const std::string good = line(launch(1)) + line(start(5, 1));
    // A complete object but no newline: not durable as a line, so not trusted.
    append(path, good + done(5, 1).dump());
    std::vector<std::string> seen;
    JournalState s = hearth::read_journal(
        path, [&](const json& r) { seen.push_back(r.at("e").get<std::string>()); });
    BOOST_TEST(!s.committed.contains(5));
    BOOST_TEST(s.running == (std::set<std::uint64_t>{5}));
    BOOST_TEST(s.valid_bytes == good.size());
    BOOST_TEST(s.valid_lines == 2u);
    BOOST_TEST(seen == (std::vector<std::string>{"launch", "start"}));
}

BOOST_AUTO_TEST_CASE(torn_half_object_at_the_end_is_ignored) {
    TempDir dir;
    const std::string good = line(launch(1)) + line(start(5, 1));
    const std::string half = done(5, 1).dump().substr(0, 12);
    for (const std::string& tail : {half, half + "\n"}) {
        BOOST_TEST_CONTEXT("tail '" << tail << "'") {
            const std::string path = dir.file("journal" + std::to_string(tail.size()));
            append(path, good + tail);
            JournalState s = hearth::read_journal(path);
            BOOST_TEST(!s.committed.contains(5));
            BOOST_TEST(s.valid_bytes == good.size());
            BOOST_TEST(s.valid_lines == 2u);
            BOOST_TEST(s.launches == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(corrupt_line_in_the_middle_throws_with_its_line_number) {
    TempDir dir;
    const std::string a = dir.file("a"), b = dir.file("b"), c = dir.file("c"), d = dir.file("d");
    append(a, line(launch(1)) + line(start(0, 1)) + "{\"e\":\"done\",\"t\n" + line(done(0, 1)));
    BOOST_CHECK_EXCEPTION(hearth::read_journal(a), hearth::Error, corrupt_at(3));
    // Empty lines are skipped but counted.
    append(b, line(launch(1)) + "\n\n" + "garbage\n" + line(start(0, 1)));
    BOOST_CHECK_EXCEPTION(hearth::read_journal(b), hearth::Error, corrupt_at(4));
    // Valid JSON that is not a journal record.
    append(c, "[1,2,3]\n" + line(launch(1)));
    BOOST_CHECK_EXCEPTION(hearth::read_journal(c), hearth::Error, corrupt_at(1));
    append(d, line(launch(1)) + "{\"t\":1}\n" + line(launch(2)));
    BOOST_CHECK_EXCEPTION(hearth::read_journal(d), hearth::Error, corrupt_at(2));
    // The message names the file.
    try {
        hearth::read_journal(d);
        BOOST_FAIL("no error");
    } catch (const hearth::Error& e) {
        BOOST_TEST(std::string(e.what()).find(d) != std::string::npos);
    }
}

// Was a bug: a record that is valid JSON but lacks a field (here "out" and "a") makes
// apply_record throw nlohmann::json::out_of_range, which read_journal does not turn into the
// "corrupt at line N ... hearth resume" Error; the user gets "[json.exception.out_of_range.403]
// key 'out' not found" with no line number and no way out.
BOOST_AUTO_TEST_CASE(record_missing_a_field_is_reported_as_corrupt) {
    TempDir dir;
    const std::string path = dir.file("journal");
    append(path, line(launch(1)) + "{\"e\":\"done\",\"t\":1}\n" + line(launch(2)));
    BOOST_CHECK_EXCEPTION(hearth::read_journal(path), hearth::Error, corrupt_at(2));
}

// Found by tests/fuzz (corpus/journal/uj-past-uint64): a number too large for
// any integer is parsed as a double, and get<std::uint64_t>() cast it with
// undefined behaviour (make test-asan's UBSan stops on it); negative and
// fractional numbers were silently cast, and task 2^64-1 escaped as
// std::out_of_range. All are corruption now, reported with their line.
BOOST_AUTO_TEST_CASE(numbers_out_of_a_field_range_are_reported_as_corrupt) {
    for (const std::string bad :
         {R"({"e":"done","t":1,"a":1,"out":[],"uj":184467440737095516152})",
          R"({"e":"done","t":1,"a":1,"out":[],"uj":-5})",
          R"({"e":"start","t":1e300,"a":1})", R"({"e":"start","t":2,"a":4294967296})",
          R"({"e":"fail","t":1.5,"a":1})", R"({"e":"done","t":18446744073709551615,"a":1,"out":[]})",
          R"({"e":"done","t":1,"a":1,"out":[],"ovr":true,"uj":1e20})"}) {
        BOOST_TEST_CONTEXT(bad) {
            TempDir dir;
            const std::string path = dir.file("journal");
            append(path, line(launch(1)) + bad + "\n" + line(launch(2)));
            BOOST_CHECK_EXCEPTION(hearth::read_journal(path), hearth::Error, corrupt_at(2));
        }
    }
    // The largest values are fine.
    TempDir dir;
    const std::string path = dir.file("journal");
    append(path, R"({"e":"start","t":18446744073709551614,"a":4294967295})"
                 "\n"
                 R"({"e":"done","t":18446744073709551614,"a":1,"out":[],"uj":18446744073709551615})"
                 "\n");
    const JournalState s = hearth::read_journal(path);
    BOOST_TEST(s.committed.contains(18446744073709551614ull));
    BOOST_TEST(s.energy_uj == 18446744073709551615ull);
}

BOOST_AUTO_TEST_CASE(visit_sees_each_record_once_in_order) {
    TempDir dir;
    const std::string path = dir.file("journal");
    std::vector<json> records = {launch(1),   start(0, 1),       done(0, 1, {"x"}),
                                 start(1, 1), fail(1, 1, false), end_record("stalled")};
    std::string text;
    for (const auto& r : records) text += line(r);
    append(path, text + "\n");  // a trailing empty line is not a record
    std::vector<json> seen;
    const JournalState s = hearth::read_journal(path, [&](const json& r) { seen.push_back(r); });
    BOOST_TEST_REQUIRE(seen.size() == records.size());
    for (std::size_t i = 0; i < records.size(); ++i) BOOST_TEST(seen[i] == records[i]);
    BOOST_TEST(s.valid_lines == records.size());
}

BOOST_AUTO_TEST_CASE(tail_sees_only_complete_lines_across_polls) {
    TempDir dir;
    const std::string path = dir.file("journal");
    JournalTail tail(path, 0);
    std::vector<json> seen;
    auto visit = [&](const json& r) { seen.push_back(r); };
    tail.poll(visit);  // no file yet
    BOOST_TEST(seen.empty());

    AppendFile f(path);
    f.append(line(launch(1)));
    f.sync();
    tail.poll(visit);
    BOOST_TEST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0] == launch(1));
    tail.poll(visit);  // nothing new
    BOOST_TEST(seen.size() == 1u);

    // A line written in two halves between polls is seen once, whole.
    const std::string l2 = line(done(3, 1, {"out/a b.png"}));
    f.append(l2.substr(0, l2.size() / 2));
    f.sync();
    tail.poll(visit);
    BOOST_TEST(seen.size() == 1u);
    tail.poll(visit);
    BOOST_TEST(seen.size() == 1u);
    f.append(l2.substr(l2.size() / 2) + line(start(4, 1)) + "{\"e\":\"st");
    f.sync();
    tail.poll(visit);
    BOOST_TEST_REQUIRE(seen.size() == 3u);
    BOOST_TEST(seen[1] == done(3, 1, {"out/a b.png"}));
    BOOST_TEST(seen[2] == start(4, 1));
    // The newline alone completes the last line.
    f.append("art\",\"t\":9,\"a\":2}");
    f.sync();
    tail.poll(visit);
    BOOST_TEST(seen.size() == 3u);
    f.append("\n\n");
    f.sync();
    tail.poll(visit);
    BOOST_TEST_REQUIRE(seen.size() == 4u);
    BOOST_TEST(seen[3].at("t").get<int>() == 9);
    tail.poll(visit);
    BOOST_TEST(seen.size() == 4u);
}

BOOST_AUTO_TEST_CASE(tail_from_the_end_of_a_read_sees_only_new_records) {
    TempDir dir;
    const std::string path = dir.file("journal");
    append(path, line(launch(1)) + line(start(0, 1)) + "{\"e\":\"do");
    JournalState s = hearth::read_journal(path);
    BOOST_TEST(s.valid_lines == 2u);
    JournalTail tail(path, s.valid_bytes, s.valid_lines);
    // The torn line is completed by the live writer: the tail picks it up from its start.
    append(path, "ne\",\"t\":0,\"a\":1,\"out\":[\"z\"]}\n" + line(start(1, 1)));
    std::vector<std::string> seen;
    tail.poll([&](const json& r) {
        seen.push_back(r.at("e").get<std::string>());
        hearth::apply_record(s, r);
    });
    BOOST_TEST(seen == (std::vector<std::string>{"done", "start"}));
    BOOST_TEST(s.committed.contains(0));
    BOOST_TEST(s.outputs.at("z") == 0u);
    BOOST_TEST(s.running == (std::set<std::uint64_t>{1}));
    // A corrupt line is reported with its line number in the whole file.
    append(path, "not json\n");
    BOOST_CHECK_EXCEPTION(tail.poll([](const json&) {}), hearth::Error, corrupt_at(5));
}

BOOST_AUTO_TEST_CASE(tailed_state_matches_a_full_read) {
    TempDir dir;
    const std::string path = dir.file("journal");
    JournalTail tail(path, 0);
    JournalState live;
    AppendFile f(path);
    const std::vector<json> records = {launch(1),         start(0, 1),           start(1, 1),
                                       done(0, 1, {"a"}), fail(1, 1, false),     start(1, 2),
                                       fail(1, 2, true),  start(2, 1),           launch(2),
                                       start(2, 2),       done(2, 2, {"b", "a"})};
    for (const auto& r : records) {
        const std::string l = line(r);
        f.append(l.substr(0, 5));
        f.sync();
        tail.poll([&](const json& x) { hearth::apply_record(live, x); });
        f.append(l.substr(5));
        f.sync();
        tail.poll([&](const json& x) { hearth::apply_record(live, x); });
    }
    const JournalState full = hearth::read_journal(path);
    BOOST_TEST(committed_list(live, 5) == committed_list(full, 5));
    BOOST_TEST(committed_list(full, 5) == (std::vector<std::uint64_t>{0, 2}));
    BOOST_TEST(live.attempts == full.attempts);
    BOOST_TEST(live.failed == full.failed);
    BOOST_TEST(full.failed == (std::set<std::uint64_t>{1}));
    BOOST_TEST(live.outputs == full.outputs);
    BOOST_TEST((full.outputs == std::map<std::string, std::uint64_t>{{"a", 2}, {"b", 2}}));
    BOOST_TEST(live.running == full.running);
    BOOST_TEST(live.launches == full.launches);
    BOOST_TEST(full.launches == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
