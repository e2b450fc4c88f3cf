// Group commit (core/group_sync): one fdatasync covers every commit made
// before it began, a waiter returns only once its commit is covered, a
// failed sync is sticky, and a Scheduler with group_commit keeps what it
// committed across a reopen.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/group_sync.hpp"
#include "core/scheduler.hpp"
#include "support.hpp"

using namespace hearth;
using hearth::test::TempDir;

namespace {

// Every free slot of every open node to the first job with tasks waiting.
std::vector<Grant> first_job(const PolicyInput& in) {
    std::vector<Grant> out;
    if (in.jobs.empty()) return out;
    for (std::uint32_t n = 0; n < in.nodes.size(); ++n) {
        const PolicyNode& node = in.nodes[n];
        if (node.open && node.cap.allowed > node.busy && in.jobs[0].queued > 0)
            out.push_back(Grant{0, n,
                                static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                    node.cap.allowed - node.busy, in.jobs[0].queued)),
                                false});
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(group_sync)

BOOST_AUTO_TEST_CASE(one_sync_covers_every_commit_before_it) {
    TempDir dir;
    std::ofstream(dir.file("q.db-wal")) << "frames";
    GroupSync g(dir.file("q.db-wal"));
    BOOST_TEST(g.last() == 0u);
    g.wait_durable(0);  // nothing committed: nothing to sync
    BOOST_TEST(g.syncs() == 0u);
    BOOST_TEST(g.committed() == 1u);
    BOOST_TEST(g.committed() == 2u);
    BOOST_TEST(g.committed() == 3u);
    g.wait_durable(2);
    BOOST_TEST(g.syncs() == 1u);
    g.wait_durable(3);  // covered by the same sync: it began after commit 3
    g.wait_durable(1);
    BOOST_TEST(g.syncs() == 1u);
    BOOST_TEST(g.committed() == 4u);
    g.wait_durable(4);
    BOOST_TEST(g.syncs() == 2u);
}

BOOST_AUTO_TEST_CASE(concurrent_committers_all_return_durable) {
    TempDir dir;
    std::ofstream(dir.file("q.db-wal")) << "frames";
    GroupSync g(dir.file("q.db-wal"));
    std::mutex lock;  // the scheduler's: commits are numbered under it
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                std::uint64_t seq = 0;
                {
                    std::lock_guard l(lock);
                    seq = g.committed();
                }
                g.wait_durable(seq);
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(g.last() == 400u);
    const auto syncs = g.syncs();
    BOOST_TEST(syncs >= 1u);
    BOOST_TEST(syncs <= 400u);
    g.wait_durable(400);  // every commit was covered already
    BOOST_TEST(g.syncs() == syncs);
}

BOOST_AUTO_TEST_CASE(a_failed_sync_is_sticky_and_names_the_file) {
    TempDir dir;
    GroupSync g(dir.file("missing.db-wal"));
    g.committed();
    try {
        g.wait_durable(1);
        BOOST_FAIL("a WAL that cannot be opened was reported synced");
    } catch (const Error& e) {
        BOOST_TEST(std::string(e.what()).find("missing.db-wal") != std::string::npos);
    }
    // The file appearing later does not make the lost commit durable.
    std::ofstream(dir.file("missing.db-wal")) << "frames";
    BOOST_CHECK_THROW(g.wait_durable(1), Error);
}

BOOST_AUTO_TEST_CASE(scheduler_with_group_commit_keeps_what_it_answered) {
    TempDir dir;
    ManualClock clock;
    Grid grid;
    Site site;
    site.name = "pool";
    grid.sites = {site};
    GridNode node;
    node.name = "n1";
    node.site = "pool";
    node.slots = 4;
    grid.nodes = {node};
    const Role op{RoleKind::operator_, "", ""};
    SchedulerSettings settings;
    settings.group_commit = true;
    std::string id;
    std::vector<TaskGrant> granted;
    {
        Scheduler s(dir.file("state"), grid, clock, first_job, settings);
        JobSubmit j;
        j.tenant = "bank";
        j.split = SplitKind::count;
        j.split_text = "10";
        j.command = {"true"};
        id = s.submit(op, j).id;
        const std::uint64_t after_submit = s.last_commit();
        BOOST_TEST(after_submit >= 1u);
        WorkRequest r;
        r.site = "pool";
        r.run = "r1";
        NodeReport n;
        n.node = "n1";
        n.slots = 4;
        n.want = 4;
        r.nodes = {n};
        granted = s.work("pool", r).tasks;
        BOOST_TEST(granted.size() == 4u);
        BOOST_TEST(s.last_commit() > after_submit);
        s.wait_durable(s.last_commit());
    }
    // Reopened (as after a restart): the job and its four attempts out.
    Scheduler again(dir.file("state"), grid, clock, first_job);
    BOOST_TEST(again.last_commit() == 0u);  // no group commit: nothing to wait for
    const JobInfo info = again.job(op, id);
    BOOST_TEST(info.total == 10u);
    BOOST_TEST(info.running == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
