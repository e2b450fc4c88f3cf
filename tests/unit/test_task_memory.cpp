#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/task_memory.hpp"

using hearth::test::usage_mentioning;

BOOST_AUTO_TEST_SUITE(task_memory)

BOOST_AUTO_TEST_CASE(sizes_read_as_sbatch_and_free_write_them) {
    BOOST_TEST(hearth::parse_byte_size("512M", "--mem-per-task") == 512ull << 20);
    BOOST_TEST(hearth::parse_byte_size("8G", "--mem-per-task") == 8ull << 30);
    BOOST_TEST(hearth::parse_byte_size("8GiB", "--mem-per-task") == 8ull << 30);
    BOOST_TEST(hearth::parse_byte_size("8gb", "--mem-per-task") == 8ull << 30);
    BOOST_TEST(hearth::parse_byte_size("1536K", "--mem-per-task") == 1536ull << 10);
    BOOST_TEST(hearth::parse_byte_size("2T", "--mem-per-task") == 2ull << 40);
    BOOST_CHECK_EXCEPTION(
        hearth::parse_byte_size("512", "--mem-per-task"), hearth::Error,
        usage_mentioning("--mem-per-task '512': no unit; write a size such as 512M"));
    BOOST_CHECK_EXCEPTION(hearth::parse_byte_size("0G", "--mem-per-task"), hearth::Error,
                          usage_mentioning("zero"));
    BOOST_CHECK_EXCEPTION(hearth::parse_byte_size("1.5G", "--mem-per-task"), hearth::Error,
                          usage_mentioning("unknown unit '.5G'"));
    BOOST_CHECK_EXCEPTION(hearth::parse_byte_size("G", "--mem-per-task"), hearth::Error,
                          usage_mentioning("not a size"));
    BOOST_CHECK_EXCEPTION(hearth::parse_byte_size("99999999999T", "--mem-per-task"), hearth::Error,
                          usage_mentioning("too large"));
    BOOST_CHECK_EXCEPTION(hearth::parse_byte_size("999999999999999999999999G", "--mem-per-task"),
                          hearth::Error, usage_mentioning("too large"));
    BOOST_TEST(hearth::format_byte_size(8ull << 30) == "8 GiB");
    BOOST_TEST(hearth::format_byte_size(1536ull << 20) == "1536 MiB");
    BOOST_TEST(hearth::format_byte_size(1000) == "1000 bytes");
}

BOOST_AUTO_TEST_CASE(mem_available_comes_from_meminfo) {
    // The head of a Debian 12 machine's /proc/meminfo.
    const std::string meminfo =
        "MemTotal:       24523100 kB\nMemFree:         9804344 kB\nMemAvailable:   23090524 kB\n"
        "Buffers:          286104 kB\n";
    BOOST_TEST(*hearth::parse_mem_available(meminfo) == 23090524ull * 1024);
    BOOST_TEST(!hearth::parse_mem_available("MemTotal: 1 kB\nMemFree: 1 kB\n"));
    BOOST_TEST(!hearth::parse_mem_available("XMemAvailable: 5 kB\n"));
    BOOST_TEST(!hearth::parse_mem_available("MemAvailable: kB\n"));
    hearth::test::TempDir root;
    std::filesystem::create_directories(root.path() / "proc");
    std::ofstream(root.file("proc/meminfo")) << meminfo;
    BOOST_TEST(*hearth::read_mem_available(hearth::FsRoot(root.path().string())) ==
               23090524ull * 1024);
    BOOST_TEST(!hearth::read_mem_available(hearth::FsRoot(root.file("nowhere"))));
    // MemTotal: what a node reports to the scheduler as the most a task could have.
    BOOST_TEST(*hearth::read_mem_total(hearth::FsRoot(root.path().string())) == 24523100ull * 1024);
    BOOST_TEST(!hearth::parse_mem_total("MemAvailable: 5 kB\n"));
}

BOOST_AUTO_TEST_CASE(tasks_fit_by_whole_sizes) {
    BOOST_TEST(hearth::tasks_fitting(8ull << 30, 3ull << 30) == 2u);
    BOOST_TEST(hearth::tasks_fitting(1ull << 30, 2ull << 30) == 0u);
    BOOST_TEST(hearth::tasks_fitting(1ull << 30, 0) == std::numeric_limits<std::uint32_t>::max());
    BOOST_TEST(hearth::tasks_fitting(std::numeric_limits<std::uint64_t>::max(), 1) ==
               std::numeric_limits<std::uint32_t>::max());
}

BOOST_AUTO_TEST_SUITE_END()
