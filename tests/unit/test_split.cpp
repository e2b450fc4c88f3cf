#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/error.hpp"
#include "core/frameset.hpp"
#include "core/line_items.hpp"
#include "core/split.hpp"

using hearth::ChunkPlan;
using hearth::FrameSet;
using hearth::LineItems;
using hearth::NumberItems;
using Items = std::vector<std::string>;
namespace fs = std::filesystem;

using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

// A file in the temp directory that is removed when the test ends.
class TempFile {
public:
    explicit TempFile(const std::string& content) {
        static std::atomic<int> counter{0};
        m_path = fs::temp_directory_path() / ("hearth-test-" + std::to_string(::getpid()) + "-" +
                                              std::to_string(counter++) + ".txt");
        std::ofstream out(m_path, std::ios::binary);
        out << content;
        BOOST_TEST_REQUIRE(out.good());
    }
    ~TempFile() {
        std::error_code ec;
        fs::remove(m_path, ec);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    std::string path() const { return m_path.string(); }

private:
    fs::path m_path;
};

// A source of "i0", "i1", ... that counts reads, to check task_items reads only its chunk.
class CountingItems final : public hearth::ItemSource {
public:
    explicit CountingItems(std::uint64_t n) : m_n(n) {}
    std::uint64_t size() const override { return m_n; }
    std::string item(std::uint64_t i) override {
        BOOST_TEST_REQUIRE(i < m_n);
        ++reads;
        return "i" + std::to_string(i);
    }
    std::uint64_t reads = 0;

private:
    std::uint64_t m_n;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(split)

BOOST_AUTO_TEST_CASE(chunk_plan_covers_every_item_once) {
    for (std::uint64_t items : {0u, 1u, 2u, 5u, 7u, 10u, 64u, 100u, 101u, 4097u}) {
        for (std::uint64_t chunk : {1u, 2u, 3u, 7u, 10u, 64u, 200u, 5000u}) {
            BOOST_TEST_CONTEXT("items " << items << " chunk " << chunk) {
                const ChunkPlan plan{items, chunk};
                BOOST_TEST(plan.tasks() == (items + chunk - 1) / chunk);
                if (chunk >= items && items > 0) BOOST_TEST(plan.tasks() == 1u);
                CountingItems source(items);
                std::vector<int> seen(items, 0);
                std::uint64_t expected_next = 0;
                for (std::uint64_t t = 0; t < plan.tasks(); ++t) {
                    const auto got = hearth::task_items(source, plan, t);
                    BOOST_TEST(!got.empty());
                    BOOST_TEST(got.size() <= chunk);
                    // Every task but the last is full.
                    if (t + 1 < plan.tasks()) BOOST_TEST(got.size() == chunk);
                    for (const auto& item : got) {
                        const auto index = std::stoull(item.substr(1));
                        BOOST_TEST(index == expected_next);
                        ++expected_next;
                        BOOST_TEST_REQUIRE(index < items);
                        ++seen[index];
                    }
                }
                BOOST_TEST(expected_next == items);
                BOOST_TEST(source.reads == items);
                for (std::uint64_t i = 0; i < items; ++i) BOOST_TEST(seen[i] == 1);
                BOOST_CHECK_THROW(hearth::task_items(source, plan, plan.tasks()),
                                  std::out_of_range);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(task_items_of_numbers) {
    NumberItems source(FrameSet::parse("1-10x2,100"));
    const ChunkPlan plan{source.size(), 2};
    BOOST_TEST(plan.tasks() == 3u);
    BOOST_TEST(hearth::task_items(source, plan, 0) == (Items{"1", "3"}),
               boost::test_tools::per_element());
    BOOST_TEST(hearth::task_items(source, plan, 1) == (Items{"5", "7"}),
               boost::test_tools::per_element());
    BOOST_TEST(hearth::task_items(source, plan, 2) == (Items{"9", "100"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(task_items_of_huge_set) {
    NumberItems source(FrameSet::parse("0-999999999999"));
    const ChunkPlan plan{source.size(), 1000};
    BOOST_TEST(plan.tasks() == 1000000000u);
    const auto last = hearth::task_items(source, plan, plan.tasks() - 1);
    BOOST_TEST(last.size() == 1000u);
    BOOST_TEST(last.front() == "999999999000");
    BOOST_TEST(last.back() == "999999999999");
}

BOOST_AUTO_TEST_CASE(line_items_basic) {
    TempFile file("alpha\n\nbeta\r\n\r\n  gamma  \ndelta");
    LineItems items(file.path());
    BOOST_TEST(items.size() == 4u);
    BOOST_TEST(items.item(0) == "alpha");
    BOOST_TEST(items.item(1) == "beta");
    BOOST_TEST(items.item(2) == "  gamma  ");
    BOOST_TEST(items.item(3) == "delta");
    BOOST_TEST(items.item(1) == "beta");
    BOOST_TEST(items.item(3) == "delta");
    BOOST_TEST(items.item(0) == "alpha");
    BOOST_CHECK_THROW(items.item(4), std::out_of_range);
    BOOST_TEST(items.item(2) == "  gamma  ");
}

BOOST_AUTO_TEST_CASE(line_items_crlf) {
    TempFile file("a\r\nb\r\n\r\nc\r\n");
    LineItems items(file.path());
    BOOST_TEST(items.size() == 3u);
    BOOST_TEST(items.item(0) == "a");
    BOOST_TEST(items.item(1) == "b");
    BOOST_TEST(items.item(2) == "c");
}

BOOST_AUTO_TEST_CASE(line_items_many_lines_random_access) {
    // More than two index strides, with blank and CRLF lines so byte offsets and item numbers
    // drift apart.
    const std::uint64_t n = 10000;
    std::string content;
    Items expected;
    for (std::uint64_t i = 0; i < n; ++i) {
        if (i % 7 == 0) content += "\n";
        if (i % 11 == 0) content += "\r\n";
        expected.push_back("item-" + std::to_string(i) + std::string(i % 5, 'x'));
        content += expected.back() + (i % 3 == 0 ? "\r\n" : "\n");
    }
    TempFile file(content);
    LineItems items(file.path());
    BOOST_TEST_REQUIRE(items.size() == n);

    for (std::uint64_t i = 0; i < n; ++i) BOOST_TEST_REQUIRE(items.item(i) == expected[i]);

    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::uint64_t> pick(0, n - 1);
    for (int k = 0; k < 3000; ++k) {
        const auto i = pick(rng);
        BOOST_TEST_REQUIRE(items.item(i) == expected[i], "item " << i);
    }
    for (std::uint64_t i = n; i-- > 0;) BOOST_TEST_REQUIRE(items.item(i) == expected[i]);
    // Stride boundaries, where the sparse index is used directly.
    for (std::uint64_t i : {4095u, 4096u, 4097u, 8191u, 8192u, 0u, 9999u}) {
        BOOST_TEST(items.item(i) == expected[i]);
    }

    const ChunkPlan plan{items.size(), 3000};
    std::uint64_t next = 0;
    for (std::uint64_t t = plan.tasks(); t-- > 0;) {
        const auto got = hearth::task_items(items, plan, t);
        for (std::uint64_t k = 0; k < got.size(); ++k) {
            BOOST_TEST_REQUIRE(got[k] == expected[plan.begin(t) + k]);
        }
        next += got.size();
    }
    BOOST_TEST(next == n);
}

BOOST_AUTO_TEST_CASE(line_items_last_line_without_newline) {
    TempFile file(std::string("x\n") + std::string(5000, 'y'));
    LineItems items(file.path());
    BOOST_TEST(items.size() == 2u);
    BOOST_TEST(items.item(1) == std::string(5000, 'y'));
    BOOST_TEST(items.item(0) == "x");
}

BOOST_AUTO_TEST_CASE(line_items_empty_file) {
    for (const std::string content : {"", "\n", "\r\n\n\r\n"}) {
        TempFile file(content);
        BOOST_CHECK_EXCEPTION(LineItems{file.path()}, hearth::Error,
                              usage_mentioning("items file '" + file.path() + "' has no items"));
        BOOST_CHECK_EXCEPTION(LineItems{file.path()}, hearth::Error,
                              usage_mentioning("one item a line"));
    }
}

BOOST_AUTO_TEST_CASE(line_items_missing_file) {
    const std::string path = (fs::temp_directory_path() / "hearth-no-such-file.txt").string();
    BOOST_CHECK_EXCEPTION(LineItems{path}, hearth::Error,
                          usage_mentioning("cannot read items file '" + path + "'"));
    BOOST_CHECK_EXCEPTION(LineItems{path}, hearth::Error,
                          usage_mentioning("No such file or directory; check the path"));
    const std::string dir = fs::temp_directory_path().string();
    BOOST_CHECK_EXCEPTION(LineItems{dir}, hearth::Error,
                          usage_mentioning("cannot read items file '" + dir + "'"));
}

BOOST_AUTO_TEST_SUITE_END()
