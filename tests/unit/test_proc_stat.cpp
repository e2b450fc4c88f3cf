#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <optional>
#include <string>

#include "core/proc_stat.hpp"
#include "tests/fakes/fake_fs.hpp"

using hearth::test::FakeFs;

namespace {

// A 2-core node as the kernel writes it: guest and guest_nice trail the
// eight fields that count.
const std::string k_stat =
    "cpu  100 5 20 1000 30 1 2 3 40 0\n"
    "cpu0 50 0 10 500 15 0 1 1 20 0\n"
    "cpu1 50 5 10 500 15 1 1 2 20 0\n"
    "intr 12345 0 0\nctxt 999\nbtime 1700000000\nprocesses 4242\n";

// Fields 1-22 with `comm` as the command name; the kernel writes 52.
std::string pid_line(const std::string& comm, long long utime, long long cstime,
                     const std::string& start = "777") {
    return "42 (" + comm + ") S 1 40 40 0 -1 4194304 0 0 0 0 " + std::to_string(utime) + " 3 0 " +
           std::to_string(cstime) + " 20 0 1 0 " + start + " 1000 10 18446744073709551615\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proc_stat)

BOOST_AUTO_TEST_CASE(the_aggregate_line_and_the_core_count) {
    auto t = hearth::parse_proc_stat(k_stat);
    BOOST_REQUIRE(t);
    BOOST_TEST(t->busy == 100u + 5 + 20 + 1 + 2 + 3);  // guest is inside user
    BOOST_TEST(t->total == t->busy + 1000 + 30);
    BOOST_TEST(t->cores == 2u);
}

BOOST_AUTO_TEST_CASE(a_stat_file_without_a_whole_cpu_line_is_refused) {
    BOOST_TEST(!hearth::parse_proc_stat(""));
    BOOST_TEST(!hearth::parse_proc_stat("cpu0 1 2 3 4 5 6 7 8\nintr 1\n"));
    BOOST_TEST(!hearth::parse_proc_stat("cpu  1 2 3\n"));
    BOOST_TEST(!hearth::parse_proc_stat("cpu  1 2 3 x 5 6 7 8\n"));
    // The first 4096 bytes of a large machine's file still give the totals.
    auto cut = hearth::parse_proc_stat("cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2");
    BOOST_REQUIRE(cut);
    BOOST_TEST(cut->total == 36u);
}

BOOST_AUTO_TEST_CASE(reading_through_the_fsroot_says_why_it_failed) {
    FakeFs fs;
    int err = -1;
    BOOST_TEST(!hearth::read_proc_stat(fs, &err));
    BOOST_TEST(err == ENOENT);
    fs.write("/proc/stat", "intr 1\n");
    BOOST_TEST(!hearth::read_proc_stat(fs, &err));
    BOOST_TEST(err == 0);
    fs.write("/proc/stat", k_stat);
    BOOST_TEST(hearth::read_proc_stat(fs, &err).value_or(hearth::CpuTicks{}).cores == 2u);
    fs.fail("/proc/stat", EACCES);
    BOOST_TEST(!hearth::read_proc_stat(fs, &err));
    BOOST_TEST(err == EACCES);
}

BOOST_AUTO_TEST_CASE(pid_fields_count_from_after_the_command_name) {
    auto st = hearth::parse_pid_stat(pid_line(") S 9 9 9 (", 10, 4));
    BOOST_REQUIRE(st);
    BOOST_TEST(st->state == 'S');
    BOOST_TEST(st->ppid == 1);
    BOOST_TEST(st->pgrp == 40);
    BOOST_TEST(st->cpu_ticks.value_or(0) == 10u + 3 + 0 + 4);
    BOOST_TEST(st->start_ticks.value_or(0) == 777u);
}

BOOST_AUTO_TEST_CASE(negative_child_times_count_nothing) {
    auto st = hearth::parse_pid_stat(pid_line("sh", 10, -5));
    BOOST_REQUIRE(st);
    BOOST_TEST(st->cpu_ticks.value_or(0) == 13u);
}

BOOST_AUTO_TEST_CASE(short_or_broken_lines) {
    BOOST_TEST(!hearth::parse_pid_stat("42 no parenthesis at all\n"));
    BOOST_TEST(!hearth::parse_pid_stat("42 (sh) S 1\n"));
    BOOST_TEST(!hearth::parse_pid_stat("42 (sh) S x 40\n"));
    // Fields 3-5 only: the group is known, the times are not.
    auto group = hearth::parse_pid_stat("42 (sh) S 1 40 40 0\n");
    BOOST_REQUIRE(group);
    BOOST_TEST(group->pgrp == 40);
    BOOST_TEST(!group->cpu_ticks);
    BOOST_TEST(!group->start_ticks);
    auto bad_start = hearth::parse_pid_stat(pid_line("sh", 1, 0, "-3"));
    BOOST_REQUIRE(bad_start);
    BOOST_TEST(!bad_start->start_ticks);
    BOOST_TEST(bad_start->cpu_ticks.value_or(0) == 4u);
}

BOOST_AUTO_TEST_CASE(reading_a_pid_through_the_fsroot) {
    FakeFs fs;
    fs.write("/proc/42/stat", pid_line("task", 7, 0));
    BOOST_TEST(hearth::read_pid_stat(fs, 42).value_or(hearth::PidStat{}).pgrp == 40);
    BOOST_TEST(!hearth::read_pid_stat(fs, 43));
    BOOST_TEST(!hearth::read_pid_stat(fs, 0));
    BOOST_TEST(!hearth::read_pid_stat(fs, -1));
}

BOOST_AUTO_TEST_SUITE_END()
