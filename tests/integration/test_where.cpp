// Where a job runs: hostfiles, an unreachable node, a terminal's progress bar.
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

BOOST_AUTO_TEST_SUITE(where)

BOOST_AUTO_TEST_CASE(hostfile_slots_set_the_node_capacity) {
    TempDir t;
    std::ofstream(t / "grid.hosts") << "# the submit host only\nlocalhost slots=1\n";
    Result r = run_hearth({"run", "--tenant", "t", "--count", "4", "--hosts", "grid.hosts",
                           "--job-dir", "job", "--", "true"},
                          t.path);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    bool seen = false;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "node") {
            BOOST_TEST(rec["slots"] == 1);
            seen = true;
        }
    BOOST_TEST(seen);
}

BOOST_AUTO_TEST_CASE(an_unreachable_node_is_exit_3_with_the_cause) {
    TempDir t;
    // A loopback address that is not this host for Open MPI: mpirun must
    // start a daemon there (over ssh), and nothing listens.
    std::ofstream(t / "grid.hosts") << "127.0.0.2 slots=1\n";
    Result r = run_hearth({"run", "--tenant", "t", "--count", "2", "--hosts", "grid.hosts",
                           "--job-dir", "job", "--quiet", "--", "true"},
                          t.path);
    BOOST_TEST(r.code == 3);
    BOOST_TEST(count_lines(r.err) == 1u);
    BOOST_TEST(r.err.find("mpirun") != std::string::npos);
    BOOST_TEST(summary(t / "job")["exit_code"] == 3);
}

BOOST_AUTO_TEST_CASE(a_terminal_gets_a_progress_bar_with_eta) {
    if (std::system("command -v script >/dev/null 2>&1") != 0) {
        BOOST_TEST_MESSAGE("skipped: script(1) is not installed");
        return;
    }
    TempDir t;
    // script(1) gives hearth a terminal, as a user's shell would.
    std::string cmd = "cd " + quote(t.path.string()) + " && script -qec " +
                      quote(quote(hearth_bin()) +
                            " run --tenant t --count 20 --job-dir job -- sh -c 'sleep 0.05'") +
                      " typescript >/dev/null 2>&1";
    int st = std::system(cmd.c_str());
    BOOST_TEST(WEXITSTATUS(st) == 0);
    std::string screen = slurp(t / "typescript");
    BOOST_TEST(screen.find("ETA") != std::string::npos);
    BOOST_TEST(screen.find("20/20 done") != std::string::npos);
    BOOST_TEST(screen.find("tasks/s") != std::string::npos);
    // No JSON events on a terminal.
    BOOST_TEST(screen.find("\"event\"") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
