// hearth run end to end on this machine: splitting, placeholders, staging,
// collecting, logs, status, binding, lazy splitting.
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

BOOST_AUTO_TEST_SUITE(run)

BOOST_AUTO_TEST_CASE(frames_chunks_and_placeholders) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "studio", "--frames", "1-10,15,20-24x2", "--chunk", "3",
                           "--collect", "part_*.txt", "--job-dir", "job", "--", "sh", "-c",
                           "echo {task}:{first:04}:{last}:{items}:{tenant}:{attempt} > part_{task}.txt"},
                          t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    // 10 + 1 + 3 = 14 frames, chunk 3 -> 5 tasks.
    std::set<std::string> lines;
    for (int i = 0; i < 5; ++i) {
        std::string s = slurp(t / ("job/out/part_" + std::to_string(i) + ".txt"));
        lines.insert(s);
    }
    BOOST_TEST(lines.count("0:0001:3:1,2,3:studio:1\n") == 1);
    BOOST_TEST(lines.count("3:0010:20:10,15,20:studio:1\n") == 1);
    BOOST_TEST(lines.count("4:0022:24:22,24:studio:1\n") == 1);
    auto s = summary(t / "job");
    BOOST_TEST(s["tasks"].get<int>() == 5);
    BOOST_TEST(s["committed"].get<int>() == 5);
    // JSON Lines on stdout: one running and one done event per task.
    int running = 0, done = 0;
    for (const auto& ev : json_lines(r.out)) {
        if (ev.value("event", "") != "task") continue;
        running += ev["state"] == "running";
        done += ev["state"] == "done";
    }
    BOOST_TEST(running == 5);
    BOOST_TEST(done == 5);
}

BOOST_AUTO_TEST_CASE(items_file_stage_and_logs) {
    TempDir t;
    {
        std::ofstream(t / "cities.txt") << "Paris\r\nLyon\n\nNantes\nLille\n";
        std::ofstream(t / "greet.sh") << "#!/bin/sh\necho \"hello $1\"\necho \"to stderr $1\" >&2\n"
                                         "echo \"$1\" > \"out_$2.txt\"\n";
        fs::permissions(t / "greet.sh", fs::perms::owner_all);
    }
    Result r = run_hearth({"run", "--tenant", "t", "--items", "cities.txt", "--stage", "greet.sh",
                           "--collect", "out_*.txt", "--job-dir", "job", "--", "./greet.sh",
                           "{item}", "{task}"},
                          t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    BOOST_TEST(slurp(t / "job/out/out_3.txt") == "Lille\n");
    BOOST_TEST(slurp(t / "job/out/out_0.txt") == "Paris\n");
    Result logs = run_hearth({"logs", "job", "2"}, t.path);
    BOOST_REQUIRE_EQUAL(logs.code, 0);
    BOOST_TEST(logs.out.find("hello Nantes") != std::string::npos);
    BOOST_TEST(logs.out.find("to stderr Nantes") != std::string::npos);
    // Logs of all tasks share one file: no file per task.
    BOOST_TEST(fs::exists(t / "job/logs/attempts.log"));
    std::size_t files = 0;
    for (auto& e : fs::directory_iterator(t / "job/logs")) files += e.is_regular_file();
    BOOST_TEST(files == 1u);
    Result st = run_hearth({"status", "job", "--json"}, t.path);
    BOOST_REQUIRE_EQUAL(st.code, 0);
    auto j = nlohmann::json::parse(st.out);
    BOOST_TEST(j["state"] == "finished");
    BOOST_TEST(j["done"].get<int>() == 4);
    BOOST_TEST(j["pending"].get<int>() == 0);
}

BOOST_AUTO_TEST_CASE(each_task_is_bound_to_its_own_cores) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "t", "--count", "6", "--slots", "2", "--job-dir",
                           "job", "--", "grep", "Cpus_allowed_list", "/proc/self/status"},
                          t.path);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    unsigned cores = std::thread::hardware_concurrency();
    std::set<std::string> seen;
    for (int i = 0; i < 6; ++i) {
        Result l = run_hearth({"logs", "job", std::to_string(i)}, t.path);
        auto pos = l.out.find("Cpus_allowed_list:");
        BOOST_REQUIRE(pos != std::string::npos);
        std::string list = l.out.substr(pos + 18);
        list = list.substr(list.find_first_not_of(" \t"));
        list = list.substr(0, list.find('\n'));
        seen.insert(list);
    }
    if (cores >= 2) {
        // Two slots on a machine of >= 2 cores: each slot gets half the cores.
        BOOST_TEST(seen.size() == 2u);
        for (const auto& s : seen) BOOST_TEST_MESSAGE("slot cpus: " << s);
    }
}

BOOST_AUTO_TEST_CASE(a_billion_tasks_start_at_once_in_little_memory) {
    TempDir t;
    pid_t pid = start_hearth({"run", "--tenant", "t", "--count", "1000000000", "--job-dir", "job",
                              "--", "true"},
                             t.path);
    bool some = wait_for(
        [&] {
            auto j = slurp(t / "job/journal");
            return j.find("\"e\":\"done\"") != std::string::npos;
        },
        std::chrono::seconds(20));
    BOOST_TEST(some);
    Result c = run_hearth({"cancel", "job", "--wait"}, t.path);
    BOOST_TEST(c.code == 0);
    BOOST_TEST(wait_exit(pid) == 1);  // cancelled: not all tasks done
    auto s = summary(t / "job");
    BOOST_TEST(s["state"] == "cancelled");
    BOOST_TEST(s["tasks"].get<std::uint64_t>() == 1000000000u);
    BOOST_TEST(s["committed"].get<std::uint64_t>() > 0u);
    // Memory follows tasks in flight, not the billion in the job.
    BOOST_TEST(s["dispatcher_peak_rss_kb"].get<long>() < 64 * 1024);
}

BOOST_AUTO_TEST_CASE(four_ranks_share_the_work) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "t", "--count", "30", "--workers-per-host", "3",
                           "--slots", "1", "--job-dir", "job", "--", "sh", "-c",
                           "sleep 0.05; echo {item}"},
                          t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    std::map<std::string, int> per_node;
    std::set<std::uint64_t> done;
    for (const auto& rec : journal(t / "job")) {
        if (rec["e"] == "done") {
            per_node[rec["n"].get<std::string>()]++;
            BOOST_TEST(done.insert(rec["t"].get<std::uint64_t>()).second);
        }
    }
    BOOST_TEST(done.size() == 30u);
    BOOST_TEST(per_node.size() == 3u);  // three workers, each did some
}

BOOST_AUTO_TEST_SUITE_END()
