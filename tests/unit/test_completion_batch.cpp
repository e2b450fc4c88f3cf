#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "core/completion_batch.hpp"

using namespace hearth;
using namespace std::chrono_literals;

namespace {
Completion done(std::uint64_t task) {
    Completion c;
    c.job = "j";
    c.task = task;
    return c;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(completion_batch)

BOOST_AUTO_TEST_CASE(due_five_ms_after_the_first_not_the_last) {
    CompletionBatch b;
    const CompletionBatch::TimePoint t0{1s};
    BOOST_TEST(!b.due(t0));
    BOOST_TEST(b.empty());
    b.add(done(1), t0);
    BOOST_TEST(!b.due(t0 + 4ms));
    b.add(done(2), t0 + 4ms);  // a later one does not push the report back
    BOOST_TEST(b.due(t0 + 5ms));
    BOOST_TEST((b.due_at() == t0 + 5ms));
    auto got = b.take();
    BOOST_TEST_REQUIRE(got.size() == 2u);
    BOOST_TEST(got[0].task == 1u);
    BOOST_TEST(got[1].task == 2u);
    BOOST_TEST(b.empty());
    BOOST_TEST(!b.due(t0 + 1h));
    // The next batch counts from its own first completion.
    b.add(done(3), t0 + 10ms);
    BOOST_TEST(!b.due(t0 + 14ms));
    BOOST_TEST(b.due(t0 + 15ms));
}

BOOST_AUTO_TEST_CASE(due_at_once_when_sixty_four_wait) {
    CompletionBatch b;
    const CompletionBatch::TimePoint t0{1s};
    for (std::uint64_t i = 0; i < 63; ++i) b.add(done(i), t0);
    BOOST_TEST(!b.due(t0));
    b.add(done(63), t0);
    BOOST_TEST(b.size() == 64u);
    BOOST_TEST(b.due(t0));
}

BOOST_AUTO_TEST_SUITE_END()
