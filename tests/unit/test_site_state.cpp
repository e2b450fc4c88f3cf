#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "core/result_buffer.hpp"
#include "core/site_state.hpp"
#include "support.hpp"

using namespace hearth;
using hearth::test::TempDir;

namespace {

AttemptKey key(const std::string& job, std::uint64_t task, std::uint32_t attempt = 1) {
    return AttemptKey{job, task, attempt};
}

TaskGrant grant(const std::string& job, std::uint64_t task, const std::string& node) {
    TaskGrant g;
    g.key = key(job, task);
    g.node = node;
    g.argv = {"echo", std::to_string(task)};
    return g;
}

AttemptResult result(const std::string& job, std::uint64_t task, std::string log = "ok\n") {
    AttemptResult r;
    r.key = key(job, task);
    r.node = "n1";
    r.log = std::move(log);
    r.wall_ms = 12;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(site_state)

BOOST_AUTO_TEST_CASE(grants_go_to_the_rank_of_their_node_and_are_held_there) {
    SiteState s;
    s.add_node(1, "n1", "h1", 2);
    s.add_node(2, "n2", "h2", 4);
    s.on_report(1, 2, HeatReport{});
    s.on_report(2, 3, HeatReport{true, 1, 4, 0});
    auto p = s.place({grant("a", 0, "n1"), grant("b", 0, "n2"), grant("a", 1, "n9")});
    BOOST_TEST(p.by_rank[1].size() == 1u);
    BOOST_TEST(p.by_rank[2].size() == 1u);
    BOOST_TEST_REQUIRE(p.unplaced.size() == 1u);
    BOOST_TEST(p.unplaced[0].task == 1u);
    BOOST_TEST(s.rank_of(key("a", 0)) == 1);
    BOOST_TEST(s.rank_of(key("b", 0)) == 2);
    BOOST_TEST(s.held_count() == 2u);
    auto nodes = s.nodes(true);
    BOOST_TEST_REQUIRE(nodes.size() == 2u);
    BOOST_TEST(nodes[0].node == "n1");
    BOOST_TEST(nodes[0].running == 1u);
    BOOST_TEST(nodes[0].want == 1u);  // asked 2, got 1
    BOOST_TEST(nodes[1].want == 2u);
    BOOST_TEST(nodes[1].heat.known);
    BOOST_TEST(nodes[1].heat.allowed == 1u);
    // A full result buffer: nobody wants work.
    for (const auto& n : s.nodes(false)) BOOST_TEST(n.want == 0u);
}

BOOST_AUTO_TEST_CASE(a_grant_of_an_attempt_already_held_is_ignored) {
    SiteState s;
    s.add_node(1, "n1", "h1", 2);
    s.place({grant("a", 0, "n1")});
    auto again = s.place({grant("a", 0, "n1")});
    BOOST_TEST(again.by_rank.empty());
    BOOST_TEST(again.unplaced.empty());
    BOOST_TEST(s.held_count() == 1u);
}

BOOST_AUTO_TEST_CASE(release_forgets_once_and_jobs_idle_after_their_last_attempt) {
    SiteState s;
    s.add_node(1, "n1", "h1", 2);
    s.place({grant("a", 0, "n1"), grant("b", 5, "n1")});
    s.mark_job_sent(1, "a");
    s.mark_job_sent(1, "b");
    BOOST_TEST(s.job_sent(1, "a"));
    BOOST_TEST(!s.job_sent(2, "a"));
    BOOST_TEST(s.idle_jobs(1).empty());
    BOOST_TEST(s.release(key("a", 0)));
    BOOST_TEST(!s.release(key("a", 0)));
    BOOST_TEST(s.rank_of(key("a", 0)) == -1);
    auto idle = s.idle_jobs(1);
    BOOST_TEST_REQUIRE(idle.size() == 1u);
    BOOST_TEST(idle[0] == "a");
    s.forget_job(1, "a");
    BOOST_TEST(!s.job_sent(1, "a"));
}

BOOST_AUTO_TEST_CASE(lost_is_what_was_held_minus_what_finished) {
    std::vector<AttemptKey> before = {key("a", 0), key("a", 1), key("b", 2, 3)};
    auto lost = lost_attempts(before, {key("a", 1)});
    BOOST_TEST_REQUIRE(lost.size() == 2u);
    BOOST_TEST((lost[0] == key("a", 0)));
    BOOST_TEST((lost[1] == key("b", 2, 3)));
}

BOOST_AUTO_TEST_CASE(held_file_round_trips_and_garbage_reads_as_nothing) {
    std::vector<AttemptKey> held = {key("a", 0), key("b", 7, 2)};
    const std::string text = held_to_text("run-1", held);
    auto got = held_from_text(text);
    BOOST_TEST_REQUIRE(got.size() == 2u);
    BOOST_TEST((got[1] == key("b", 7, 2)));
    BOOST_TEST(held_from_text("").empty());
    BOOST_TEST(held_from_text("{\"held\": [{\"job\": \"../x\"}]}").empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(result_buffer)

BOOST_AUTO_TEST_CASE(results_survive_a_restart_until_acknowledged) {
    TempDir t;
    const std::string path = t.file("results");
    {
        ResultBuffer b(path);
        b.add(result("a", 0));
        b.add(result("a", 1));
        b.add(result("a", 1));  // a duplicate report is kept once
        b.add(result("b", 2, std::string("bin\xff\xfe\0ary", 9)));
        BOOST_TEST(b.size() == 3u);
        b.ack({key("a", 0)});
        BOOST_TEST(b.size() == 2u);
    }
    ResultBuffer again(path);
    BOOST_TEST_REQUIRE(again.size() == 2u);
    auto all = again.oldest(1 << 20);
    BOOST_TEST_REQUIRE(all.size() == 2u);
    BOOST_TEST((all[0].key == key("a", 1)));
    BOOST_TEST((all[1].key == key("b", 2)));
    BOOST_TEST(all[1].log.find("bin") == 0u);  // invalid UTF-8 replaced, the rest kept
    BOOST_TEST(again.holds(key("b", 2)));
    again.ack({key("a", 1), key("b", 2)});
    BOOST_TEST(again.size() == 0u);
    BOOST_TEST(std::filesystem::file_size(path) == 0u);  // compacted when empty
    ResultBuffer empty(path);
    BOOST_TEST(empty.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_torn_last_line_is_ignored_and_cut) {
    TempDir t;
    const std::string path = t.file("results");
    {
        ResultBuffer b(path);
        b.add(result("a", 0));
        b.add(result("a", 1));
    }
    {
        std::ofstream out(path, std::ios::app);
        out << "{\"r\": {\"job\": \"a\", \"ta";  // a crash mid-write
    }
    ResultBuffer b(path);
    BOOST_TEST(b.size() == 2u);
    b.add(result("a", 2));
    ResultBuffer c(path);
    BOOST_TEST(c.size() == 3u);
}

BOOST_AUTO_TEST_CASE(oldest_is_bounded_but_never_empty_and_full_stops_work) {
    TempDir t;
    ResultBuffer b(t.file("results"), 1000);
    b.add(result("a", 0, std::string(600, 'x')));
    BOOST_TEST(!b.full());
    b.add(result("a", 1, std::string(600, 'y')));
    BOOST_TEST(b.full());  // over the bound: still kept, but no new work
    BOOST_TEST(b.size() == 2u);
    BOOST_TEST(b.oldest(10).size() == 1u);
    BOOST_TEST(b.oldest(1 << 20).size() == 2u);
    b.ack({key("a", 0)});
    BOOST_TEST(!b.full());
}

BOOST_AUTO_TEST_CASE(blobs_lists_outputs_of_live_results) {
    TempDir t;
    ResultBuffer b(t.file("results"));
    AttemptResult r = result("a", 0);
    r.outputs.push_back(BlobRef{"frame_0001.png", std::string(64, 'a'), 0644, 3});
    b.add(r);
    BOOST_TEST_REQUIRE(b.blobs().size() == 1u);
    b.ack({r.key});
    BOOST_TEST(b.blobs().empty());
}

BOOST_AUTO_TEST_CASE(a_nodes_running_and_wanted_slots_count_the_cores_tasks_hold) {
    SiteState s;
    s.add_node(1, "n1", "h1", 8, std::uint64_t{32} << 30);
    s.on_report(1, 8, HeatReport{}, std::uint64_t{20} << 30);
    s.set_job_cores("wide", 4);
    s.place({grant("wide", 0, "n1"), grant("narrow", 0, "n1")});
    auto nodes = s.nodes(true);
    BOOST_TEST_REQUIRE(nodes.size() == 1u);
    BOOST_TEST(nodes[0].running == 5u);  // 4 cores + 1 core
    BOOST_TEST(nodes[0].want == 3u);     // asked for 8 cores' worth, granted 5
    BOOST_TEST(nodes[0].mem_total == std::uint64_t{32} << 30);
    BOOST_TEST(nodes[0].mem_available == std::uint64_t{20} << 30);
    BOOST_TEST(!nodes[0].gpus.has_value());
    s.set_gpus(1, 2);  // what its worker hands out, reported to the scheduler
    BOOST_TEST((s.nodes(true)[0].gpus == std::optional<std::uint32_t>(2)));
    s.release(key("wide", 0));
    BOOST_TEST(s.nodes(true)[0].running == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
