// Bad input: one line naming the problem and the fix, exit 2, and no job
// directory left behind (not even half-made).
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

namespace {

void expect_usage_error(std::vector<std::string> args, const std::string& needle,
                        const std::string& env = "") {
    TempDir t;
    std::ofstream(t / "hosts.bad") << "node-a slots=2\nthis.host.does.not.exist.invalid\n";
    std::ofstream(t / "items.empty") << "\n\n";
    args.insert(args.begin(), "run");
    Result r = run_hearth(args, t.path, env);
    BOOST_TEST_CONTEXT("hearth " << args[1] << " ...: " << r.err) {
        BOOST_TEST(r.code == 2);
        BOOST_TEST(count_lines(r.err) == 1u);
        BOOST_TEST(r.err.find(needle) != std::string::npos);
        BOOST_TEST(!fs::exists(t / "job"));
        BOOST_TEST(!fs::exists(t / ".job.creating"));
        BOOST_TEST(!fs::exists(t / "hearth-jobs"));
    }
}

const std::vector<std::string> cmd = {"--job-dir", "job", "--", "echo", "{item}"};

std::vector<std::string> with(std::vector<std::string> head) {
    head.insert(head.end(), cmd.begin(), cmd.end());
    return head;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(reversed_range) { expect_usage_error(with({"--tenant", "t", "--frames", "5-1"}), "5-1"); }
BOOST_AUTO_TEST_CASE(not_a_number) { expect_usage_error(with({"--tenant", "t", "--frames", "1-x"}), "1-x"); }
BOOST_AUTO_TEST_CASE(zero_step) { expect_usage_error(with({"--tenant", "t", "--frames", "0x0"}), "0x0"); }
BOOST_AUTO_TEST_CASE(empty_set) { expect_usage_error(with({"--tenant", "t", "--frames", ""}), "frame"); }
BOOST_AUTO_TEST_CASE(bad_seeds) { expect_usage_error(with({"--tenant", "t", "--seeds", "9-3"}), "9-3"); }
BOOST_AUTO_TEST_CASE(zero_count) { expect_usage_error(with({"--tenant", "t", "--count", "0"}), "--count"); }
BOOST_AUTO_TEST_CASE(chunk_zero) {
    expect_usage_error(with({"--tenant", "t", "--count", "5", "--chunk", "0"}), "--chunk 0");
}
BOOST_AUTO_TEST_CASE(no_tenant) { expect_usage_error(with({"--count", "5"}), "--tenant"); }
BOOST_AUTO_TEST_CASE(two_splits) {
    expect_usage_error(with({"--tenant", "t", "--count", "5", "--frames", "1-3"}), "exactly one");
}
BOOST_AUTO_TEST_CASE(missing_staged_file) {
    expect_usage_error(with({"--tenant", "t", "--count", "5", "--stage", "nope.pov"}), "nope.pov");
}
BOOST_AUTO_TEST_CASE(unreadable_hostfile) {
    expect_usage_error(with({"--tenant", "t", "--count", "5", "--hosts", "no-such-hostfile"}),
                       "no-such-hostfile");
}
BOOST_AUTO_TEST_CASE(unknown_host) {
    expect_usage_error(with({"--tenant", "t", "--count", "5", "--hosts", "hosts.bad"}), "unknown host");
}
BOOST_AUTO_TEST_CASE(command_that_does_not_exist) {
    expect_usage_error({"--tenant", "t", "--count", "5", "--job-dir", "job", "--",
                        "no-such-program-hearth", "{item}"},
                       "no-such-program-hearth");
}
BOOST_AUTO_TEST_CASE(unknown_placeholder) {
    expect_usage_error({"--tenant", "t", "--count", "5", "--job-dir", "job", "--", "echo", "{frame}"},
                       "{item}");
}
BOOST_AUTO_TEST_CASE(item_with_chunks) {
    expect_usage_error({"--tenant", "t", "--count", "5", "--chunk", "2", "--job-dir", "job", "--",
                        "echo", "{item}"},
                       "{first}");
}
BOOST_AUTO_TEST_CASE(empty_items_file) {
    expect_usage_error(with({"--tenant", "t", "--items", "items.empty"}), "items.empty");
}
BOOST_AUTO_TEST_CASE(collect_outside_scratch) {
    expect_usage_error(with({"--tenant", "t", "--count", "2", "--collect", "../../etc/passwd"}),
                       "--collect");
}
BOOST_AUTO_TEST_CASE(bad_timeout) {
    expect_usage_error(with({"--tenant", "t", "--count", "2", "--timeout", "soon"}), "soon");
}
BOOST_AUTO_TEST_CASE(bad_tenant_name) {
    expect_usage_error(with({"--tenant", "a/b", "--count", "2"}), "a/b");
}
BOOST_AUTO_TEST_CASE(tenant_from_environment_is_accepted) {
    TempDir t;
    Result r = run_hearth(with({"run", "--count", "2"}), t.path, "HEARTH_TENANT=bank");
    BOOST_TEST(r.code == 0);
    BOOST_TEST(summary(t / "job")["tenant"] == "bank");
}
BOOST_AUTO_TEST_CASE(existing_job_dir_is_not_overwritten) {
    TempDir t;
    fs::create_directory(t / "job");
    std::ofstream(t / "job" / "keep") << "x";
    Result r = run_hearth(with({"run", "--tenant", "t", "--count", "2"}), t.path);
    // "run" appears twice here: the first is the subcommand; CLI11 rejects the extra word.
    BOOST_TEST(r.code == 2);
    Result r2 = run_hearth({"run", "--tenant", "t", "--count", "2", "--job-dir", "job", "--", "true"},
                           t.path);
    BOOST_TEST(r2.code == 2);
    BOOST_TEST(r2.err.find("exists already") != std::string::npos);
    BOOST_TEST(slurp(t / "job" / "keep") == "x");
}
BOOST_AUTO_TEST_CASE(unknown_job_for_status) {
    TempDir t;
    Result r = run_hearth({"status", "no-such-job"}, t.path);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(count_lines(r.err) == 1u);
}

// A journal whose log index points past the end of the logs file (a
// truncated logs file, or a hand edit): one line naming the damage, no huge
// allocation, no crash.
BOOST_AUTO_TEST_CASE(a_log_index_past_the_end_of_the_logs_is_reported) {
    TempDir t;
    Result r = run_hearth({"run", "--tenant", "t", "--count", "1", "--job-dir", "j", "--json", "--", "echo", "hi"},
                          t.path);
    BOOST_REQUIRE_EQUAL(r.code, 0);
    std::string j = slurp(t / "j" / "journal");
    auto at = j.find("\"log\":[0,");
    BOOST_REQUIRE(at != std::string::npos);
    auto end = j.find(']', at);
    j.replace(at, end - at, "\"log\":[0,99999999999");
    std::ofstream(t / "j" / "journal", std::ios::trunc) << j;
    Result l = run_hearth({"logs", "j", "0"}, t.path);
    BOOST_TEST(l.code == 4);
    BOOST_TEST(l.err.find("damaged") != std::string::npos, l.err);
    BOOST_TEST(count_lines(l.err) == 1u, l.err);
}

BOOST_AUTO_TEST_SUITE_END()
