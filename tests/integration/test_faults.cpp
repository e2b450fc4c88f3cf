// Failures a user meets: retries, tasks that always fail, timeouts, output
// name clashes, a killed supervisor, a cancelled job.
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(a_task_that_fails_twice_then_succeeds) {
    TempDir t;
    // Task 1 fails on attempts 1 and 2 and succeeds on attempt 3 (retries 2).
    Result r = run_hearth({"run", "--tenant", "t", "--count", "3", "--workers-per-host", "2",
                           "--job-dir", "job", "--", "sh", "-c",
                           "[ {item} -ne 1 ] || [ {attempt} -ge 3 ]"},
                          t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    std::vector<std::string> fail_nodes;
    int done1 = 0;
    for (const auto& rec : journal(t / "job")) {
        if (rec["e"] == "fail" && rec["t"] == 1) {
            BOOST_TEST(rec["final"] == false);
            fail_nodes.push_back(rec["n"]);
        }
        if (rec["e"] == "done" && rec["t"] == 1) {
            ++done1;
            BOOST_TEST(rec["a"] == 3);
        }
    }
    BOOST_TEST(fail_nodes.size() == 2u);
    BOOST_TEST(done1 == 1);
    // A retry goes preferably to another node.
    BOOST_TEST(fail_nodes[0] != fail_nodes[1]);
    int retrying = 0;
    for (const auto& ev : json_lines(r.out)) retrying += ev.value("state", "") == "retrying";
    BOOST_TEST(retrying == 2);
}

BOOST_AUTO_TEST_CASE(a_task_that_always_fails_is_listed_and_exit_is_1) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "t", "--count", "4", "--job-dir", "job", "--",
                           "sh", "-c", "echo boom-{item}; [ {item} -ne 2 ]"},
                          t.path);
    BOOST_REQUIRE_EQUAL(r.code, 1);
    auto s = summary(t / "job");
    BOOST_TEST(s["failed"] == 1);
    BOOST_TEST(s["failed_tasks"] == nlohmann::json::array({2}));
    BOOST_TEST(s["committed"] == 3);
    BOOST_TEST(r.err.find("failed tasks: 2") != std::string::npos);
    int attempts = 0;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "fail" && rec["t"] == 2) ++attempts;
    BOOST_TEST(attempts == 3);  // first try + 2 retries
    Result l = run_hearth({"logs", "job", "2"}, t.path);
    BOOST_TEST(l.out.find("boom-2") != std::string::npos);
    BOOST_TEST(l.out.find("exited with status 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(timeout_kills_the_whole_process_tree) {
    TempDir t;
    auto start = std::chrono::steady_clock::now();
    // The task forks a grandchild that would outlive a naive kill of the child.
    Result r = run_hearth({"run", "--tenant", "t", "--count", "1", "--timeout", "1s", "--retries",
                           "1", "--job-dir", "job", "--", "sh", "-c",
                           "sleep 31.71 & sleep 30.37"},
                          t.path);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_REQUIRE_EQUAL(r.code, 1);
    BOOST_TEST(secs < 25.0);
    int timeouts = 0;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "fail") timeouts += rec["why"] == "timeout";
    BOOST_TEST(timeouts == 2);
    Result ps = run_hearth({"status", "job"}, t.path);
    BOOST_TEST(ps.out.find("timed out") != std::string::npos);
    // Neither the task nor its background child is left sleeping.
    int st = std::system("pgrep -x sleep -a | grep -qE 'sleep (31.71|30.37)$'");
    BOOST_TEST(WEXITSTATUS(st) == 1);
}

BOOST_AUTO_TEST_CASE(two_tasks_writing_the_same_output_name_is_an_error) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "t", "--count", "2", "--slots", "1", "--collect",
                           "result.txt", "--job-dir", "job", "--", "sh", "-c",
                           "echo {item} > result.txt"},
                          t.path);
    BOOST_REQUIRE_EQUAL(r.code, 1);
    auto s = summary(t / "job");
    BOOST_TEST(s["committed"] == 1);
    BOOST_TEST(s["failed"] == 1);
    bool said = false;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "fail")
            said = said || rec["reason"].get<std::string>().find("already collected from task") !=
                               std::string::npos;
    BOOST_TEST(said);
}

BOOST_AUTO_TEST_CASE(resume_after_kill_9_loses_nothing_and_reruns_no_committed_task) {
    TempDir t;
    std::string runs = (t / "runs.txt").string();
    pid_t pid = start_hearth({"run", "--tenant", "t", "--count", "40", "--slots", "2",
                              "--job-dir", "job", "--", "sh", "-c",
                              "echo {task} >> " + runs + "; sleep 0.1"},
                             t.path);
    bool some = wait_for(
        [&] {
            std::size_t done = 0;
            for (const auto& rec : json_lines(slurp(t / "job/journal"))) done += rec["e"] == "done";
            return done >= 10;
        },
        std::chrono::seconds(30));
    BOOST_REQUIRE(some);
    ::kill(pid, SIGKILL);
    wait_exit(pid);
    // mpirun and the ranks follow the supervisor down (parent-death signal).
    bool stopped = wait_for([&] { return std::system(("flock -n " + (t / "job/lock").string() + " true").c_str()) == 0; },
                            std::chrono::seconds(20));
    BOOST_REQUIRE(stopped);
    std::set<std::uint64_t> before;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done") before.insert(rec["t"].get<std::uint64_t>());
    BOOST_REQUIRE(before.size() >= 10u);
    BOOST_REQUIRE(before.size() < 40u);
    std::string runs_at_kill = slurp(runs);
    Result st = run_hearth({"status", "job"}, t.path);
    BOOST_TEST(st.out.find("interrupted") != std::string::npos);

    Result r = run_hearth({"resume", "job"}, t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    std::map<std::uint64_t, int> commits;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done") commits[rec["t"].get<std::uint64_t>()]++;
    BOOST_TEST(commits.size() == 40u);
    for (const auto& [task, n] : commits) BOOST_TEST(n == 1, "task " << task << " committed " << n);
    // No task committed before the kill ran again after it.
    std::string after = slurp(runs).substr(runs_at_kill.size());
    std::stringstream ss(after);
    std::uint64_t task;
    while (ss >> task) BOOST_TEST(before.count(task) == 0u, "task " << task << " reran");
}

BOOST_AUTO_TEST_CASE(a_torn_last_journal_line_is_ignored_on_resume) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "t", "--count", "5", "--job-dir", "job", "--",
                           "true"},
                          t.path);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    // Simulate a crash mid-write of the first "done" record: keep the lines
    // before it and half of it.
    std::string j = slurp(t / "job/journal");
    auto pos = j.find("{\"a\":1,\"e\":\"done\"");
    if (pos == std::string::npos) pos = j.find("\"e\":\"done\"");
    pos = j.rfind('\n', pos) + 1;
    std::ofstream(t / "job/journal", std::ios::trunc) << j.substr(0, pos + 20);
    Result res = run_hearth({"resume", "job"}, t.path);
    BOOST_TEST_INFO(res.err);
    BOOST_REQUIRE_EQUAL(res.code, 0);
    std::set<std::uint64_t> done;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done") done.insert(rec["t"].get<std::uint64_t>());
    BOOST_TEST(done.size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_corrupt_journal_is_refused_with_the_fix) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "t", "--count", "3", "--job-dir", "job", "--", "true"},
                          t.path);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    std::string j = slurp(t / "job/journal");
    std::ofstream(t / "job/journal", std::ios::trunc) << "garbage line\n" << j;
    Result res = run_hearth({"resume", "job"}, t.path);
    BOOST_TEST(res.code != 0);
    BOOST_TEST(res.err.find("corrupt at line 1") != std::string::npos);
    BOOST_TEST(count_lines(res.err) == 1u);
}

BOOST_AUTO_TEST_CASE(cancel_stops_tasks_and_resume_finishes) {
    TempDir t;
    pid_t pid = start_hearth({"run", "--tenant", "t", "--count", "6", "--slots", "2", "--job-dir",
                              "job", "--", "sh", "-c", "sleep {item}"},
                             t.path);
    BOOST_REQUIRE(wait_for([&] { return slurp(t / "job/journal").find("\"done\"") != std::string::npos; },
                           std::chrono::seconds(20)));
    Result c = run_hearth({"cancel", "job", "--wait"}, t.path);
    BOOST_TEST(c.code == 0);
    BOOST_TEST(wait_exit(pid) == 1);
    BOOST_TEST(summary(t / "job")["state"] == "cancelled");
    // Nothing of the job keeps running.
    int st = std::system("pgrep -x sleep -a | grep -q 'sleep [345]$'");
    BOOST_TEST(WEXITSTATUS(st) == 1);
    Result r = run_hearth({"resume", "job"}, t.path);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    BOOST_TEST(summary(t / "job")["committed"] == 6);
}

BOOST_AUTO_TEST_SUITE_END()
