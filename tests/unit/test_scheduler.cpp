// The grid scheduler's service (core/scheduler) in virtual time: submit and
// role scoping, refusals that queue nothing, exactly-once commits, leases,
// retries, restarts on the same state directory, lazy splitting, blobs and
// cancellation. The policy is a FIFO written here: fill the free slots of
// the open nodes with the oldest jobs' tasks.
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/content_store.hpp"
#include "core/error.hpp"
#include "core/scheduler.hpp"
#include "support.hpp"

using namespace hearth;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

const Role k_bank{RoleKind::tenant, "bank", ""};
const Role k_studio{RoleKind::tenant, "studio", ""};
const Role k_operator{RoleKind::operator_, "", ""};
const Role k_facility{RoleKind::facility, "", ""};

// Oldest job first (seq), every free slot of every open node.
std::vector<Grant> fifo(const PolicyInput& in) {
    std::vector<std::uint32_t> order;
    for (std::uint32_t j = 0; j < in.jobs.size(); ++j) order.push_back(j);
    std::sort(order.begin(), order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return in.jobs[a].seq < in.jobs[b].seq; });
    std::vector<std::uint64_t> left;
    for (const PolicyJob& j : in.jobs) left.push_back(j.queued);
    std::vector<Grant> out;
    for (std::uint32_t n = 0; n < in.nodes.size(); ++n) {
        const PolicyNode& node = in.nodes[n];
        if (!node.open || node.cap.allowed <= node.busy) continue;
        std::uint32_t free = node.cap.allowed - node.busy;
        for (std::uint32_t j : order) {
            const auto take = static_cast<std::uint32_t>(std::min<std::uint64_t>(free, left[j]));
            if (take == 0) continue;
            out.push_back(Grant{j, n, take, false});
            left[j] -= take;
            free -= take;
        }
    }
    return out;
}

Grid test_grid() {
    Grid g;
    Site pool;
    pool.name = "pool";
    Site tank;
    tank.name = "tank";
    g.sites = {pool, tank};
    GridNode n1;
    n1.name = "n1";
    n1.site = "pool";
    n1.slots = 2;
    GridNode n2;
    n2.name = "n2";
    n2.site = "tank";
    n2.slots = 2;
    g.nodes = {n1, n2};
    return g;
}

// One scheduler on a state directory, reopened at will.
struct Fixture {
    TempDir dir;
    ManualClock clock;
    SchedulerSettings settings;
    Grid grid = test_grid();
    std::optional<PolicyInput> last_input;
    bool policy_fails = false;
    bool real_policy = false;  // hearth::schedule, as hearth serve runs it, instead of the FIFO
    std::unique_ptr<Scheduler> s;

    Fixture() {
        settings.lease_ms = 10'000;
        settings.usage_half_life_s = 100;
        open();
    }
    void open() {
        s.reset();
        s = std::make_unique<Scheduler>(state(), grid, clock, [this](const PolicyInput& in) {
            last_input = in;
            if (policy_fails) throw Error("the policy failed");
            return real_policy ? hearth::schedule(in) : fifo(in);
        }, settings);
    }
    std::string state() const { return dir.file("state"); }

    // The site's request: one node with `want` free slots.
    WorkRequest ask(const std::string& site, std::uint32_t want, const std::string& run = "r1") {
        WorkRequest r;
        r.site = site;
        r.run = run;
        NodeReport n;
        n.node = site == "pool" ? "n1" : "n2";
        n.slots = 2;
        n.want = want;
        r.nodes = {n};
        return r;
    }
    // What each site holds, as a site would track it: granted attempts until
    // it reports them. Requests say so (held) unless the test sets held itself.
    std::map<std::string, std::set<AttemptKey>> holding;
    WorkReply work(WorkRequest r, bool auto_held = true) {
        std::set<AttemptKey>& h = holding[r.site];
        for (const AttemptResult& res : r.results) h.erase(res.key);
        for (const AttemptKey& k : r.lost) h.erase(k);
        if (auto_held && r.held.empty()) r.held.assign(h.begin(), h.end());
        WorkReply reply = s->work(r.site, r);
        for (const TaskGrant& t : reply.tasks) h.insert(t.key);
        return reply;
    }

    std::int64_t rows(const std::string& table) const {
        sqlite3* db = nullptr;
        BOOST_TEST_REQUIRE(sqlite3_open_v2((state() + "/queue.db").c_str(), &db, SQLITE_OPEN_READONLY,
                                           nullptr) == SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        const std::string sql = "SELECT count(*) FROM " + table;
        BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
        BOOST_TEST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        const std::int64_t n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
    }
};

JobSubmit count_job(const std::string& n, std::uint32_t retries = 2) {
    JobSubmit j;
    j.split = SplitKind::count;
    j.split_text = n;
    j.command = {"render", "{item:04}", "{job}", "{attempt}"};
    j.retries = retries;
    return j;
}

AttemptResult ok(const AttemptKey& k, std::uint64_t wall_ms = 1000) {
    AttemptResult r;
    r.key = k;
    r.node = "n1";
    r.status = AttemptStatus::ok;
    r.wall_ms = wall_ms;
    return r;
}

AttemptResult failed(const AttemptKey& k) {
    AttemptResult r = ok(k);
    r.status = AttemptStatus::exited;
    r.exit_code = 3;
    r.reason = "exit 3";
    return r;
}

int status_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.http_status();
    }
    return 200;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scheduler)

BOOST_AUTO_TEST_CASE(submit_list_cancel_resume) {
    Fixture f;
    JobInfo a = f.s->submit(k_bank, count_job("10"));
    BOOST_TEST(a.id == "j-000001");
    BOOST_TEST(a.tenant == "bank");
    BOOST_TEST(to_string(a.state) == "queued");
    BOOST_TEST(a.total == 10u);
    BOOST_TEST(a.submitted_ms == f.clock.unix_ms());
    JobInfo b = f.s->submit(k_bank, count_job("3"));
    BOOST_TEST(b.id == "j-000002");
    auto list = f.s->jobs(k_bank, {});
    BOOST_TEST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[0].id == b.id);  // newest first
    BOOST_TEST(to_string(f.s->cancel(k_bank, a.id).state) == "cancelled");
    BOOST_TEST(to_string(f.s->job(k_bank, a.id).state) == "cancelled");
    JobFilter only_cancelled;
    only_cancelled.state = JobState::cancelled;
    BOOST_TEST(f.s->jobs(k_bank, only_cancelled).size() == 1u);
    BOOST_TEST(to_string(f.s->resume(k_bank, a.id).state) == "queued");
    // A cancelled job's tasks are not handed out; a resumed one's are.
    f.s->cancel(k_bank, b.id);
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    BOOST_TEST(r.tasks[0].key.job == a.id);
    BOOST_TEST(r.tasks[1].key.job == a.id);
}

BOOST_AUTO_TEST_CASE(argv_is_expanded_lazily_as_hearth_run_does) {
    Fixture f;
    JobSubmit j;
    j.split = SplitKind::frames;
    j.split_text = "21-24";
    j.chunk = 2;
    j.command = {"blender", "-s", "{first}", "-e", "{last}", "-o", "f{first:04}_{attempt}"};
    const JobInfo info = f.s->submit(k_studio, j);
    BOOST_TEST(info.total == 2u);
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    const std::vector<std::string> want0 = {"blender", "-s", "21", "-e", "22", "-o", "f0021_1"};
    const std::vector<std::string> want1 = {"blender", "-s", "23", "-e", "24", "-o", "f0023_1"};
    BOOST_TEST(r.tasks[0].argv == want0, boost::test_tools::per_element());
    BOOST_TEST(r.tasks[1].argv == want1, boost::test_tools::per_element());
    BOOST_TEST(r.tasks[0].node == "n1");
    // The job's settings come with its first attempts, once per run of the site.
    BOOST_TEST_REQUIRE(r.jobs.size() == 1u);
    BOOST_TEST(r.jobs[0].tenant == "studio");
    auto tasks = f.s->tasks(k_studio, info.id, 0, 10);
    BOOST_TEST_REQUIRE(tasks.size() == 2u);
    BOOST_TEST(tasks[1].first == "23");
    BOOST_TEST(tasks[1].last == "24");
    BOOST_TEST(to_string(tasks[1].state) == "running");
}

BOOST_AUTO_TEST_CASE(roles_scope_jobs) {
    Fixture f;
    const JobInfo a = f.s->submit(k_bank, count_job("2"));
    // Another tenant: as if the job were absent.
    BOOST_TEST(status_of([&] { f.s->job(k_studio, a.id); }) == 404);
    BOOST_TEST(status_of([&] { f.s->cancel(k_studio, a.id); }) == 404);
    BOOST_TEST(status_of([&] { f.s->tasks(k_studio, a.id, 0, 10); }) == 404);
    BOOST_TEST(status_of([&] { f.s->task_log(k_studio, a.id, 0, std::nullopt); }) == 404);
    BOOST_TEST(status_of([&] { f.s->outputs(k_studio, a.id); }) == 404);
    BOOST_TEST(f.s->jobs(k_studio, {}).empty());
    JobFilter theirs;
    theirs.tenant = "bank";
    BOOST_TEST(f.s->jobs(k_studio, theirs).empty());
    // A facility token sees no jobs at all.
    BOOST_TEST(status_of([&] { f.s->jobs(k_facility, {}); }) == 403);
    BOOST_TEST(status_of([&] { f.s->job(k_facility, a.id); }) == 403);
    BOOST_TEST(status_of([&] { f.s->submit(k_facility, count_job("1")); }) == 403);
    // A tenant submits as itself only; an operator for anyone it names.
    JobSubmit as_bank = count_job("1");
    as_bank.tenant = "bank";
    BOOST_TEST(status_of([&] { f.s->submit(k_studio, as_bank); }) == 403);
    BOOST_TEST(status_of([&] { f.s->submit(k_operator, count_job("1")); }) == 400);
    BOOST_TEST(f.s->submit(k_operator, as_bank).tenant == "bank");
    BOOST_TEST(f.s->jobs(k_operator, {}).size() == 2u);
    BOOST_TEST(f.s->job(k_operator, a.id).id == a.id);
    BOOST_TEST(status_of([&] { f.s->job(k_bank, "j-999999"); }) == 404);
}

BOOST_AUTO_TEST_CASE(bad_input_queues_nothing) {
    Fixture f;
    JobSubmit reversed = count_job("1");
    reversed.split = SplitKind::frames;
    reversed.split_text = "5-1";
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, reversed), Error, usage_mentioning("5-1"));
    JobSubmit not_a_count = count_job("ten");
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, not_a_count), Error, usage_mentioning("ten"));
    JobSubmit placeholder = count_job("4");
    placeholder.command = {"render", "{frame}"};
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, placeholder), Error, usage_mentioning("frame"));
    JobSubmit priority = count_job("4");
    priority.priority = 5000;
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, priority), Error, usage_mentioning("priority"));
    JobSubmit huge = count_job("4");
    huge.command.assign(300, std::string(4096, 'x'));  // 1.2 MB: within each word's limit, over the whole
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, huge), Error, usage_mentioning("spec"));
    JobSubmit tenant = count_job("4");
    tenant.tenant = "Bank!";
    BOOST_CHECK_EXCEPTION(f.s->submit(k_operator, tenant), Error, usage_mentioning("Bank!"));
    JobSubmit staged = count_job("4");
    staged.stage = {BlobRef{"book.csv", std::string(64, 'a'), 0644, 3}};
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, staged), Error, usage_mentioning("book.csv"));
    JobSubmit outside = count_job("4");
    outside.collect = {"../../etc/passwd"};
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, outside), Error, usage_mentioning("collect"));
    JobSubmit too_many = count_job("1000");
    f.settings.max_tasks_per_job = 100;
    f.open();
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, too_many), Error, usage_mentioning("chunk"));
    BOOST_TEST(f.s->jobs(k_operator, {}).empty());
    BOOST_TEST(f.rows("jobs") == 0);
    // The next good job still gets the first id.
    BOOST_TEST(f.s->submit(k_bank, count_job("1")).id == "j-000001");
}

BOOST_AUTO_TEST_CASE(a_job_no_node_could_hold_is_refused_and_one_that_fits_travels) {
    Fixture f;
    JobSubmit wide = count_job("4");
    wide.cores_per_task = 3;  // the nodes have 2 slots (cores) each
    BOOST_CHECK_EXCEPTION(
        f.s->submit(k_bank, wide), Error,
        usage_mentioning("'cores_per_task' 3 is more than any node has: the largest, "
                         "'n1', has 2 cores"));
    // Memory: refused only once every node able to hold the task says its memory.
    JobSubmit big = count_job("4");
    big.mem_per_task = std::uint64_t{8} << 30;
    f.grid.nodes[0].memory = std::uint64_t{4} << 30;
    f.open();
    BOOST_TEST(f.s->submit(k_bank, big).total == 4u);  // n2 does not say: it may fit there
    f.grid.nodes[1].memory = std::uint64_t{6} << 30;
    f.open();
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, big), Error,
                          usage_mentioning("'mem_per_task' 8 GiB is more than any node has: the "
                                           "largest, 'n2', has 6 GiB"));
    // GPUs likewise: refused only once every node says how many it has.
    JobSubmit gpu = count_job("4");
    gpu.gpus_per_task = 2;
    f.grid.nodes[0].gpus = 1;
    f.open();
    const std::string id = f.s->submit(k_bank, gpu).id;  // n2 leaves it to its agent
    for (const auto& j : f.s->jobs(k_operator, {}))
        if (j.id == id) BOOST_TEST(j.gpus_per_task == 2u);
    f.grid.nodes[1].gpus = 0;
    f.open();
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, gpu), Error,
                          usage_mentioning("'gpus_per_task' 2 is more than any node has: the "
                                           "most, 'n1', has 1 (gpus in the grid file)"));
}

BOOST_AUTO_TEST_CASE(a_job_no_reporting_node_can_hold_says_why_it_waits) {
    Fixture f;  // the grid file says no node's memory: the job is taken
    JobSubmit big = count_job("2");
    big.mem_per_task = std::uint64_t{8} << 30;
    const JobInfo id = f.s->submit(k_bank, big);
    BOOST_TEST(id.waiting.empty());  // no node has reported yet
    BOOST_TEST(id.mem_per_task == std::uint64_t{8} << 30);
    WorkRequest req = f.ask("pool", 0);  // wanting nothing: the FIFO here would ignore memory
    req.nodes[0].mem_total = std::uint64_t{4} << 30;
    req.nodes[0].mem_available = std::uint64_t{3} << 30;
    f.work(req);
    const JobInfo j = f.s->job(k_bank, id.id);
    BOOST_TEST(
        j.waiting ==
        "no node up can hold a task of 1 cores and 8 GiB: the largest has 2 cores and 4 GiB; "
        "it waits for a node that can, or cancel it and submit smaller tasks");
    // A node that can hold it reports: no reason any more.
    req.nodes[0].mem_total = std::uint64_t{16} << 30;
    f.work(req);
    BOOST_TEST(f.s->job(k_bank, id.id).waiting.empty());
}

BOOST_AUTO_TEST_CASE(a_jobs_cores_and_memory_reach_the_policy_and_the_site) {
    Fixture f;
    JobSubmit two = count_job("3");
    two.cores_per_task = 2;
    two.mem_per_task = std::uint64_t{1} << 30;
    const JobInfo id = f.s->submit(k_bank, two);
    WorkRequest req = f.ask("pool", 2);
    req.nodes[0].mem_total = std::uint64_t{8} << 30;
    req.nodes[0].mem_available = std::uint64_t{5} << 30;
    const WorkReply r = f.work(req);
    BOOST_TEST_REQUIRE(f.last_input.has_value());
    BOOST_TEST_REQUIRE(f.last_input->jobs.size() == 1u);
    BOOST_TEST(f.last_input->jobs[0].cores_per_task == 2u);
    BOOST_TEST(f.last_input->jobs[0].mem_per_task == std::uint64_t{1} << 30);
    BOOST_TEST(f.last_input->nodes.at(0).mem_free == std::uint64_t{5} << 30);
    BOOST_TEST(f.last_input->nodes.at(0).mem_total == std::uint64_t{8} << 30);
    BOOST_TEST_REQUIRE(r.jobs.size() == 1u);
    BOOST_TEST(r.jobs[0].job == id.id);
    BOOST_TEST(r.jobs[0].cores_per_task == 2u);
    BOOST_TEST(r.jobs[0].mem_per_task == std::uint64_t{1} << 30);
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);  // the FIFO here counts slots; the real policy cores
    // Next request: the memory granted to the running attempts is held back
    // (8 GiB less 2 x 1 GiB), whatever the node says is free.
    req.nodes[0].mem_available = std::uint64_t{7} << 30;
    f.work(req);
    BOOST_TEST(f.last_input->nodes.at(0).mem_free == std::uint64_t{6} << 30);
}

BOOST_AUTO_TEST_CASE(a_gpu_job_reaches_the_policy_with_the_nodes_gpus_and_says_why_it_waits) {
    Fixture f;  // the grid file says no node's GPUs: the job is taken
    JobSubmit gpu = count_job("2");
    gpu.gpus_per_task = 2;
    const JobInfo id = f.s->submit(k_bank, gpu);
    WorkRequest req = f.ask("pool", 0);  // wanting nothing: the FIFO here would ignore GPUs
    req.nodes[0].gpus = 1;               // as the site's worker hands them out
    f.work(req);
    BOOST_TEST(f.s->job(k_bank, id.id).waiting ==
               "no node up can hold a task of 1 cores and 2 GPUs: the largest has 2 cores, the "
               "most GPUs 1; it waits for a node that can, or cancel it and submit smaller tasks");
    req.nodes[0].gpus = 2;
    f.work(req);
    BOOST_TEST(f.s->job(k_bank, id.id).waiting.empty());
    // What the policy is given to place it.
    req = f.ask("pool", 2);
    req.nodes[0].gpus = 2;
    f.work(req);
    BOOST_TEST_REQUIRE(f.last_input.has_value());
    BOOST_TEST(f.last_input->jobs.at(0).gpus_per_task == 2u);
    BOOST_TEST(f.last_input->nodes.at(0).gpus == 2u);
}

BOOST_AUTO_TEST_CASE(gpus_in_use_across_requests_limit_the_grants_until_results_free_them) {
    Fixture f;
    f.real_policy = true;
    f.grid.nodes[0].slots = 8;
    f.open();
    JobSubmit gpu = count_job("10");
    gpu.gpus_per_task = 1;
    const JobInfo g = f.s->submit(k_bank, gpu);
    // n1: 8 cores, 2 GPUs, as its site reports it.
    const auto ask = [&](std::uint32_t running, std::vector<AttemptResult> results = {}) {
        WorkRequest r = f.ask("pool", 8 - running);
        r.nodes[0].slots = 8;
        r.nodes[0].running = running;
        r.nodes[0].gpus = 2;
        r.results = std::move(results);
        return f.work(r);
    };
    WorkReply r = ask(0);
    BOOST_TEST(r.tasks.size() == 2u);  // 2 GPUs: 2 tasks, not 8
    BOOST_TEST(f.last_input->nodes.at(0).gpus_free == 2u);
    const AttemptKey first = r.tasks.at(0).key;
    // Both GPUs are out: no GPU task, but a later CPU job of the same
    // tenant takes the free cores (the GPU job, first in line, holds none).
    const JobInfo cpu = f.s->submit(k_bank, count_job("10"));
    r = ask(2);
    BOOST_TEST(f.last_input->nodes.at(0).gpus_free == 0u);
    BOOST_TEST_REQUIRE(r.tasks.size() == 6u);
    for (const TaskGrant& t : r.tasks) BOOST_TEST(t.key.job == cpu.id);
    const AttemptKey cpu_task = r.tasks.at(0).key;
    // A CPU task's result comes back: its core goes to the CPU job again.
    r = ask(7, {ok(cpu_task)});
    BOOST_TEST(f.last_input->nodes.at(0).gpus_free == 0u);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    BOOST_TEST(r.tasks[0].key.job == cpu.id);
    // A GPU task's result comes back: its GPU goes to the next GPU task.
    r = ask(7, {ok(first)});
    BOOST_TEST(f.last_input->nodes.at(0).gpus_free == 1u);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    BOOST_TEST(r.tasks[0].key.job == g.id);
    BOOST_TEST(f.s->job(k_bank, g.id).running == 2u);
    BOOST_TEST(f.s->job(k_bank, g.id).committed == 1u);
}

BOOST_AUTO_TEST_CASE(the_grid_tenant_table_decides_who_submits_and_their_terms) {
    Fixture f;
    f.grid.tenants = {TenantSpec{"bank", 3, 1, ""}, TenantSpec{"studio", 1, 0, ""}};
    f.open();
    JobSubmit stranger = count_job("2");
    stranger.tenant = "lab";
    BOOST_CHECK_EXCEPTION(f.s->submit(k_operator, stranger), Error, usage_mentioning("bank, studio"));
    BOOST_TEST(f.rows("jobs") == 0);
    f.s->submit(k_bank, count_job("4"));
    f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(f.last_input.has_value());
    BOOST_TEST_REQUIRE(f.last_input->tenants.size() == 1u);
    BOOST_TEST(f.last_input->tenants[0].name == "bank");
    BOOST_TEST(f.last_input->tenants[0].share == 3.0);
    BOOST_TEST(f.last_input->tenants[0].max_running == 1u);
}

BOOST_AUTO_TEST_CASE(each_task_commits_exactly_once) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("2"));
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    const AttemptKey t0 = r.tasks[0].key;
    const AttemptKey t1 = r.tasks[1].key;
    BOOST_TEST(t0.attempt == 1u);
    WorkRequest again = f.ask("pool", 0);
    again.results = {ok(t0), ok(t0)};  // sent twice in one request
    BOOST_TEST(f.work(again).acked == 2u);
    again.results = {ok(t0)};  // and again: the site did not see the reply
    BOOST_TEST(f.work(again).acked == 1u);
    BOOST_TEST(f.s->job(k_bank, j.id).committed == 1u);
    BOOST_TEST(f.rows("commits") == 1);
    again.results = {ok(t1)};
    f.work(again);
    const JobInfo done = f.s->job(k_bank, j.id);
    BOOST_TEST(done.committed == 2u);
    BOOST_TEST(to_string(done.state) == "finished");
    BOOST_TEST(done.finished_ms == f.clock.unix_ms());
    BOOST_TEST(done.running == 0u);
    // An attempt nobody handed out is acknowledged and ignored.
    again.results = {ok(AttemptKey{"j-000042", 0, 1})};
    BOOST_TEST(f.work(again).acked == 1u);
    BOOST_TEST(f.rows("commits") == 2);
}

BOOST_AUTO_TEST_CASE(a_late_result_of_a_lapsed_attempt_commits_once) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("1", 0));
    WorkReply at_pool = f.work(f.ask("pool", 1));
    BOOST_TEST_REQUIRE(at_pool.tasks.size() == 1u);
    const AttemptKey first = at_pool.tasks[0].key;
    f.clock.advance(std::chrono::milliseconds(f.settings.lease_ms + 1));
    f.s->tick();
    BOOST_TEST(f.s->job(k_bank, j.id).running == 0u);
    WorkReply at_tank = f.work(f.ask("tank", 1));
    BOOST_TEST_REQUIRE(at_tank.tasks.size() == 1u);
    const AttemptKey second = at_tank.tasks[0].key;
    BOOST_TEST(second.task == first.task);
    BOOST_TEST(second.attempt == 2u);
    // The pool comes back and delivers the lapsed attempt: it commits.
    WorkRequest back = f.ask("pool", 0, "r1");
    back.results = {ok(first)};
    back.held = {};
    BOOST_TEST(f.work(back).acked == 1u);
    BOOST_TEST(f.s->job(k_bank, j.id).committed == 1u);
    // The tank's copy is a duplicate now: told to stop, its result ignored.
    WorkRequest tank = f.ask("tank", 0);
    tank.held = {second};
    WorkReply stop = f.work(tank);
    BOOST_TEST_REQUIRE(stop.cancel.size() == 1u);
    BOOST_TEST(stop.cancel[0].attempt == 2u);
    tank.held = {};
    tank.results = {ok(second)};
    BOOST_TEST(f.work(tank).acked == 1u);
    const JobInfo done = f.s->job(k_bank, j.id);
    BOOST_TEST(done.committed == 1u);
    BOOST_TEST(done.failed == 0u);
    BOOST_TEST(to_string(done.state) == "finished");
    BOOST_TEST(f.rows("commits") == 1);
    BOOST_TEST(f.rows("commits WHERE attempt = 1") == 1);
    BOOST_TEST(f.rows("tasks") == 0);
}

BOOST_AUTO_TEST_CASE(lapsed_and_lost_attempts_do_not_use_retries) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("1", 1));
    AttemptKey k = f.work(f.ask("pool", 1)).tasks.at(0).key;
    f.clock.advance(std::chrono::milliseconds(f.settings.lease_ms + 1));
    f.s->tick();
    // Lost with a node: requeued too, not a failure.
    k = f.work(f.ask("tank", 1)).tasks.at(0).key;
    BOOST_TEST(k.attempt == 2u);
    WorkRequest lost = f.ask("tank", 1);
    lost.lost = {k};
    WorkReply r = f.work(lost);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    k = r.tasks[0].key;
    BOOST_TEST(k.attempt == 3u);
    // One real failure is within retries = 1: the task runs a fourth time.
    WorkRequest fail = f.ask("tank", 1);
    fail.results = {failed(k)};
    r = f.work(fail);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    BOOST_TEST(r.tasks[0].key.attempt == 4u);
    BOOST_TEST(to_string(f.s->job(k_bank, j.id).state) == "running");
    BOOST_TEST(f.rows("attempts WHERE state = 'lapsed'") == 1);
    BOOST_TEST(f.rows("attempts WHERE state = 'lost'") == 1);
}

BOOST_AUTO_TEST_CASE(failures_use_retries_then_the_job_fails_and_resume_retries) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("2", 1));
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    WorkRequest next = f.ask("pool", 1);
    next.results = {ok(r.tasks[1].key), failed(r.tasks[0].key)};
    r = f.work(next);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    BOOST_TEST(r.tasks[0].key.task == 0u);
    BOOST_TEST(r.tasks[0].key.attempt == 2u);
    next.results = {failed(r.tasks[0].key)};
    r = f.work(next);
    BOOST_TEST(r.tasks.empty());
    JobInfo info = f.s->job(k_bank, j.id);
    BOOST_TEST(to_string(info.state) == "failed");
    BOOST_TEST(info.failed == 1u);
    BOOST_TEST(info.committed == 1u);
    auto tasks = f.s->tasks(k_bank, j.id, 0, 10);
    BOOST_TEST_REQUIRE(tasks.size() == 2u);
    BOOST_TEST(to_string(tasks[0].state) == "failed");
    BOOST_TEST(tasks[0].attempts == 2u);
    BOOST_TEST(tasks[0].reason == "exit 3");
    BOOST_TEST(tasks[0].exit_code == 3);
    BOOST_TEST(to_string(tasks[1].state) == "done");
    // Resume: the failed task gets a fresh set of retries.
    info = f.s->resume(k_bank, j.id);
    BOOST_TEST(to_string(info.state) == "running");
    BOOST_TEST(info.failed == 0u);
    r = f.work(f.ask("pool", 1));
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    BOOST_TEST(r.tasks[0].key.attempt == 3u);
    next.results = {failed(r.tasks[0].key)};
    r = f.work(next);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);  // one retry again
    next.results = {ok(r.tasks[0].key)};
    next.nodes[0].want = 0;
    f.work(next);
    BOOST_TEST(to_string(f.s->job(k_bank, j.id).state) == "finished");
    BOOST_TEST(status_of([&] { f.s->resume(k_bank, j.id); }) == 409);
    BOOST_TEST(status_of([&] { f.s->cancel(k_bank, j.id); }) == 409);
}

BOOST_AUTO_TEST_CASE(a_restart_keeps_everything_and_carries_on) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("5", 1));
    const JobInfo other = f.s->submit(k_studio, count_job("1"));
    f.s->cancel(k_studio, other.id);
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    WorkRequest next = f.ask("pool", 0);
    next.results = {ok(r.tasks[0].key), failed(r.tasks[1].key)};
    f.work(next);
    const AttemptKey out = f.work(f.ask("pool", 1)).tasks.at(0).key;  // the retry of task 1
    BOOST_TEST(out.task == 1u);
    BOOST_TEST(out.attempt == 2u);

    f.open();  // as after a SIGKILL: the database is all there is
    JobInfo info = f.s->job(k_bank, j.id);
    BOOST_TEST(to_string(info.state) == "running");
    BOOST_TEST(info.committed == 1u);
    BOOST_TEST(info.running == 1u);
    BOOST_TEST(to_string(f.s->job(k_studio, other.id).state) == "cancelled");
    // The running attempt stays running: its site may still deliver it.
    f.clock.advance(std::chrono::milliseconds(f.settings.lease_ms / 2));
    f.s->tick();
    BOOST_TEST(f.s->job(k_bank, j.id).running == 1u);
    next.results = {ok(out)};
    next.nodes[0].want = 2;
    r = f.work(next);
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    BOOST_TEST(r.tasks[0].key.task == 2u);  // the cursor carried on
    BOOST_TEST(r.tasks[0].key.attempt == 1u);
    BOOST_TEST(r.tasks[1].key.task == 3u);
    next.results = {ok(r.tasks[0].key), ok(r.tasks[1].key)};
    next.nodes[0].want = 1;
    r = f.work(next);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    f.open();
    next.results = {ok(r.tasks[0].key)};
    next.nodes[0].want = 0;
    f.work(next);
    info = f.s->job(k_bank, j.id);
    BOOST_TEST(to_string(info.state) == "finished");
    BOOST_TEST(info.committed == 5u);
    BOOST_TEST(f.rows("commits") == 5);
}

BOOST_AUTO_TEST_CASE(a_restart_while_a_site_is_away_lapses_its_lease_later) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("1"));
    f.work(f.ask("pool", 1));
    f.clock.advance(std::chrono::milliseconds(3 * f.settings.lease_ms));
    f.open();  // the scheduler was down longer than the lease: the site gets a new one
    f.s->tick();
    BOOST_TEST(f.s->job(k_bank, j.id).running == 1u);
    f.clock.advance(std::chrono::milliseconds(f.settings.lease_ms + 1));
    f.s->tick();
    BOOST_TEST(f.s->job(k_bank, j.id).running == 0u);
    const WorkReply r = f.work(f.ask("tank", 1));
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    BOOST_TEST(r.tasks[0].key.attempt == 2u);
}

BOOST_AUTO_TEST_CASE(a_billion_tasks_are_one_row) {
    Fixture f;
    const auto t0 = std::chrono::steady_clock::now();
    const JobInfo j = f.s->submit(k_bank, count_job("1000000000"));
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST_MESSAGE("submitting 10^9 tasks took "
                       << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " us");
    BOOST_TEST(j.total == 1'000'000'000u);
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    BOOST_TEST(f.rows("jobs") == 1);
    BOOST_TEST(f.rows("attempts") == 2);
    BOOST_TEST(f.rows("tasks") == 0);
    BOOST_TEST(f.rows("commits") == 0);
    auto last = f.s->tasks(k_bank, j.id, 999'999'999, 10);
    BOOST_TEST_REQUIRE(last.size() == 1u);
    BOOST_TEST(last[0].first == "999999999");
    BOOST_TEST(to_string(last[0].state) == "waiting");
    f.open();
    BOOST_TEST(f.s->job(k_bank, j.id).running == 2u);
}

BOOST_AUTO_TEST_CASE(outputs_and_logs_round_trip) {
    Fixture f;
    const std::string input = "strike,vol\n100,0.2\n";
    const std::string input_sha = ContentStore::address_of(input);
    f.s->put_blob(input_sha, input);
    JobSubmit job = count_job("1");
    job.stage = {BlobRef{"book.csv", input_sha, 0644, input.size()}};
    job.collect = {"out/*.csv"};
    const JobInfo j = f.s->submit(k_bank, job);
    WorkReply r = f.work(f.ask("pool", 1));
    BOOST_TEST_REQUIRE(r.jobs.size() == 1u);
    BOOST_TEST_REQUIRE(r.jobs[0].stage.size() == 1u);
    BOOST_TEST(f.s->get_blob(r.jobs[0].stage[0].sha256) == input);
    const std::string result = "pv,1.5\n";
    const std::string result_sha = ContentStore::address_of(result);
    AttemptResult done = ok(r.tasks.at(0).key);
    done.log = "priced 2 rows\n";
    done.outputs = {BlobRef{"out/pv.csv", result_sha, 0640, result.size()}};
    // Reported before its output was uploaded: not committed.
    WorkRequest early = f.ask("pool", 1);
    early.results = {done};
    r = f.work(early);
    BOOST_TEST(f.s->job(k_bank, j.id).committed == 0u);
    BOOST_TEST(f.s->outputs(k_bank, j.id).empty());
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);  // its retry
    f.s->put_blob(result_sha, result);
    done.key = r.tasks[0].key;
    early.results = {done};
    f.work(early);
    BOOST_TEST(f.s->job(k_bank, j.id).committed == 1u);
    auto outs = f.s->outputs(k_bank, j.id);
    BOOST_TEST_REQUIRE(outs.size() == 1u);
    BOOST_TEST(outs[0].path == "out/pv.csv");
    BOOST_TEST(outs[0].mode == 0640u);
    BOOST_TEST(f.s->get_blob(outs[0].sha256) == result);
    BOOST_TEST(f.s->task_log(k_bank, j.id, 0, std::nullopt) == "priced 2 rows\n");
    BOOST_TEST(f.s->task_log(k_bank, j.id, 0, 1u) == "priced 2 rows\n");
    BOOST_TEST(status_of([&] { f.s->task_log(k_bank, j.id, 0, 9u); }) == 404);
    BOOST_TEST(status_of([&] { f.s->task_log(k_bank, j.id, 5, std::nullopt); }) == 404);
}

// out/ is one folder: a second task collecting a name another task already
// committed fails for good (a retry collects the same name), and the first
// task's file is what the job keeps, as a local `hearth run` does.
BOOST_AUTO_TEST_CASE(an_output_name_collected_by_two_tasks_fails_the_second_for_good) {
    Fixture f;
    JobSubmit job = count_job("2", 3);
    job.collect = {"out.txt"};
    const JobInfo j = f.s->submit(k_bank, job);
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    std::vector<AttemptResult> done;
    std::map<std::uint64_t, std::string> bodies;
    for (const TaskGrant& t : r.tasks) {
        const std::string body = "task " + std::to_string(t.key.task) + "\n";
        f.s->put_blob(ContentStore::address_of(body), body);
        AttemptResult a = ok(t.key);
        a.outputs = {BlobRef{"out.txt", ContentStore::address_of(body), 0644, body.size()}};
        done.push_back(a);
        bodies[t.key.task] = body;
    }
    WorkRequest report = f.ask("pool", 2);
    report.results = done;
    r = f.work(report);
    BOOST_TEST(r.tasks.empty());  // no retry of the refused task
    const JobInfo after = f.s->job(k_bank, j.id);
    BOOST_TEST(after.committed == 1u);
    BOOST_TEST(after.failed == 1u);
    BOOST_TEST(to_string(after.state) == "failed");
    auto outs = f.s->outputs(k_bank, j.id);
    BOOST_TEST_REQUIRE(outs.size() == 1u);
    BOOST_TEST(f.s->get_blob(outs[0].sha256) == bodies.at(outs[0].task));
    const std::uint64_t loser = outs[0].task == 0 ? 1 : 0;
    auto tasks = f.s->tasks(k_bank, j.id, loser, 1);
    BOOST_TEST_REQUIRE(tasks.size() == 1u);
    BOOST_TEST(to_string(tasks[0].state) == "failed");
    BOOST_TEST(tasks[0].reason.find("output 'out.txt' was already collected from task " +
                                    std::to_string(outs[0].task)) != std::string::npos);
    BOOST_TEST(tasks[0].reason.find("give each task its own output names") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_items_file_from_the_content_store_splits_by_line) {
    Fixture f;
    const std::string items = "alpha\n\nbeta\r\ngamma\n";
    const std::string sha = ContentStore::address_of(items);
    JobSubmit j;
    j.split = SplitKind::items;
    j.split_text = "items";
    j.items_sha256 = sha;
    j.chunk = 2;
    j.command = {"echo", "{items}"};
    BOOST_CHECK_EXCEPTION(f.s->submit(k_bank, j), Error, usage_mentioning("upload it first"));
    BOOST_TEST(f.rows("jobs") == 0);
    f.s->put_blob(sha, items);
    const JobInfo info = f.s->submit(k_bank, j);
    BOOST_TEST(info.total == 2u);
    f.open();  // the items are read back from the content store
    const WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    BOOST_TEST(r.tasks[0].argv.at(1) == "alpha,beta");
    BOOST_TEST(r.tasks[1].argv.at(1) == "gamma");
}

BOOST_AUTO_TEST_CASE(cancel_tells_the_site_to_stop) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("4"));
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    f.s->cancel(k_bank, j.id);
    WorkRequest next = f.ask("pool", 2);
    next.held = {r.tasks[0].key, r.tasks[1].key};
    WorkReply stop = f.work(next);
    BOOST_TEST_REQUIRE(stop.cancel.size() == 2u);
    BOOST_TEST(stop.cancel[0].job == j.id);
    BOOST_TEST(stop.tasks.empty());
    AttemptResult c0 = ok(r.tasks[0].key);
    c0.status = AttemptStatus::cancelled;
    AttemptResult c1 = ok(r.tasks[1].key);
    c1.status = AttemptStatus::cancelled;
    next.held = {};
    next.results = {c0, c1};
    stop = f.work(next);
    BOOST_TEST(stop.cancel.empty());
    BOOST_TEST(f.s->job(k_bank, j.id).running == 0u);
    // Resumed: the stopped tasks wait again, without a retry spent.
    f.s->resume(k_bank, j.id);
    next.results = {};
    r = f.work(next);
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    BOOST_TEST(r.tasks[0].key.task == 0u);
    BOOST_TEST(r.tasks[0].key.attempt == 2u);
    BOOST_TEST(f.rows("tasks WHERE failures = 0") == 2);
}

BOOST_AUTO_TEST_CASE(attempts_a_site_does_not_hold_are_requeued_without_a_retry) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("2", 0));
    WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    // The reply never reached the site: its next request holds nothing.
    WorkRequest next = f.ask("pool", 0);
    f.work(next, false);
    BOOST_TEST(f.s->job(k_bank, j.id).running == 0u);
    BOOST_TEST(f.rows("attempts WHERE state = 'lost'") == 2);
    next.nodes[0].want = 2;
    r = f.work(next, false);
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    BOOST_TEST(r.tasks[0].key.attempt == 2u);
    BOOST_TEST(to_string(f.s->job(k_bank, j.id).state) == "running");  // retries = 0, yet not failed
}

BOOST_AUTO_TEST_CASE(a_request_that_fails_changes_nothing) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("3"));
    const WorkReply r = f.work(f.ask("pool", 2));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    WorkRequest next = f.ask("pool", 1);
    next.held = {r.tasks[1].key};
    next.results = {ok(r.tasks[0].key)};
    f.policy_fails = true;
    BOOST_CHECK_THROW(f.s->work("pool", next), Error);
    // Not acknowledged, so not recorded: the site sends it again.
    JobInfo info = f.s->job(k_bank, j.id);
    BOOST_TEST(info.committed == 0u);
    BOOST_TEST(info.running == 2u);
    BOOST_TEST(f.rows("commits") == 0);
    f.policy_fails = false;
    const WorkReply again = f.s->work("pool", next);
    BOOST_TEST(again.acked == 1u);
    BOOST_TEST_REQUIRE(again.tasks.size() == 1u);
    BOOST_TEST(again.tasks[0].key.task == 2u);
    info = f.s->job(k_bank, j.id);
    BOOST_TEST(info.committed == 1u);
    BOOST_TEST(info.running == 2u);
}

BOOST_AUTO_TEST_CASE(sites_are_checked) {
    Fixture f;
    WorkRequest r = f.ask("pool", 1);
    BOOST_TEST(status_of([&] { f.s->work("tank", r); }) == 403);
    r.site = "attic";
    BOOST_TEST(status_of([&] { f.s->work("attic", r); }) == 404);
    r = f.ask("pool", 1);
    r.nodes[0].node = "n2";  // the tank's node
    BOOST_TEST(status_of([&] { f.s->work("pool", r); }) == 400);
}

BOOST_AUTO_TEST_CASE(the_site_gets_no_more_than_it_wants_nor_the_reply_cap) {
    Fixture f;
    f.s->submit(k_bank, count_job("100"));
    BOOST_TEST(f.work(f.ask("pool", 1)).tasks.size() == 1u);
    f.settings.max_grants_per_reply = 1;
    f.open();
    WorkRequest big = f.ask("pool", 2);
    big.nodes[0].slots = 8;
    big.nodes[0].running = 1;
    big.nodes[0].want = 7;
    BOOST_TEST(f.work(big).tasks.size() == 1u);
    BOOST_TEST_REQUIRE(f.last_input.has_value());
    BOOST_TEST(f.last_input->nodes[0].cap.allowed == 8u);
    BOOST_TEST(f.last_input->jobs[0].queued == 99u);
    BOOST_TEST(f.last_input->jobs[0].running == 1u);
}

BOOST_AUTO_TEST_CASE(usage_is_slot_seconds_decayed_by_half_life) {
    Fixture f;
    f.s->submit(k_bank, count_job("3"));
    const AttemptKey k = f.work(f.ask("pool", 1)).tasks.at(0).key;
    WorkRequest next = f.ask("pool", 1);
    next.results = {ok(k, 10'000)};
    f.work(next);
    BOOST_TEST_REQUIRE(f.last_input.has_value());
    BOOST_TEST_REQUIRE(f.last_input->tenants.size() == 1u);
    BOOST_TEST(f.last_input->tenants[0].name == "bank");
    BOOST_TEST(f.last_input->tenants[0].usage_slot_s == 10.0, boost::test_tools::tolerance(1e-9));
    f.clock.advance(std::chrono::seconds(100));  // one half-life
    f.open();  // usage is durable too
    f.work(f.ask("pool", 1));
    BOOST_TEST(f.last_input->tenants[0].usage_slot_s == 5.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(f.rows("tenant_usage") == 1);
}

BOOST_AUTO_TEST_CASE(a_relaunched_site_loses_what_it_no_longer_holds) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("2"));
    WorkReply r = f.work(f.ask("pool", 2, "r1"));
    BOOST_TEST_REQUIRE(r.tasks.size() == 2u);
    WorkRequest relaunched = f.ask("pool", 0, "r2");
    relaunched.held = {r.tasks[1].key};
    WorkReply again = f.work(relaunched);
    BOOST_TEST(f.s->job(k_bank, j.id).running == 1u);
    relaunched.nodes[0].want = 1;
    again = f.work(relaunched);
    BOOST_TEST_REQUIRE(again.tasks.size() == 1u);
    BOOST_TEST(again.tasks[0].key.task == r.tasks[0].key.task);
    BOOST_TEST(again.tasks[0].key.attempt == 2u);
    // A new run of the site gets the job's settings again.
    BOOST_TEST(again.jobs.size() == 1u);
}

BOOST_AUTO_TEST_CASE(queued_work_a_heat_budget_holds_back_shows_as_waiting_for_heat) {
    Fixture f;
    const JobInfo j = f.s->submit(k_bank, count_job("4"));
    // Plain queued before any site asked.
    BOOST_TEST(f.s->job(k_bank, j.id).waiting_for_heat == 0u);
    // The only site's node: 2 slots free, its heat budget allows none.
    WorkRequest warm = f.ask("pool", 0);
    warm.nodes[0].heat.known = true;
    warm.nodes[0].heat.allowed = 0;
    warm.nodes[0].heat.slots = 2;
    BOOST_TEST(f.work(warm).tasks.empty());
    BOOST_TEST(f.s->job(k_bank, j.id).waiting_for_heat == 4u);
    auto tasks = f.s->tasks(k_bank, j.id, 0, 10);
    BOOST_TEST_REQUIRE(tasks.size() == 4u);
    BOOST_TEST((tasks[0].state == TaskState::waiting_for_heat));
    BOOST_TEST(to_json(f.s->job(k_bank, j.id))["waiting_for_heat"] == 4);
    // The budget opens one slot: one task runs, the other three wait for heat.
    warm.nodes[0].heat.allowed = 1;
    warm.nodes[0].want = 1;
    const WorkReply r = f.work(warm);
    BOOST_TEST_REQUIRE(r.tasks.size() == 1u);
    BOOST_TEST(f.s->job(k_bank, j.id).waiting_for_heat == 3u);
    tasks = f.s->tasks(k_bank, j.id, 0, 10);
    BOOST_TEST((tasks[r.tasks[0].key.task].state == TaskState::running));
    // A second site with room: plain queued again.
    WorkRequest tank = f.ask("tank", 0);
    f.work(tank);
    BOOST_TEST(f.s->job(k_bank, j.id).waiting_for_heat == 0u);
    tasks = f.s->tasks(k_bank, j.id, 0, 10);
    for (const TaskInfo& t : tasks) BOOST_TEST((t.state != TaskState::waiting_for_heat));
    // That site's lease lapses: only the warm one counts again.
    f.clock.advance(std::chrono::seconds(11));
    warm.nodes[0].running = 1;
    warm.nodes[0].want = 0;
    warm.held = {r.tasks[0].key};
    f.work(warm);
    BOOST_TEST(f.s->job(k_bank, j.id).waiting_for_heat == 3u);
    // An urgent job is never held for heat: the policy may open slots for it.
    JobSubmit urgent = count_job("2");
    urgent.urgent = true;
    const JobInfo u = f.s->submit(k_bank, urgent);
    BOOST_TEST(f.s->job(k_bank, u.id).waiting_for_heat == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
