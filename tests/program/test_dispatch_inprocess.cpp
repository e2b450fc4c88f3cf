// The MPI program of `hearth run` in one process: the dispatcher (rank 0)
// and one or two workers on threads, over the in-process link
// (tests/fakes/fake_link.hpp) instead of mpirun. The job directory is a real
// one (job.json and launch.json as `hearth run` and its supervisor write
// them) and the tasks are real programs, so what is checked is what a user
// sees: the journal, the collected outputs, the retries.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/journal.hpp"
#include "runner/job/job_dir.hpp"
#include "runner/job/launch_plan.hpp"
#include "runner/mpi/dispatcher.hpp"
#include "runner/mpi/worker.hpp"
#include "tests/fakes/fake_link.hpp"
#include "tests/unit/support.hpp"

namespace fs = std::filesystem;
using namespace hearth;
using hearth::test::FakeAbort;
using hearth::test::LinkHub;
using hearth::test::TempDir;

namespace {

// A job as `hearth run` leaves it for the supervisor, and the launch files
// the supervisor writes before it starts mpirun: `workers` local worker ranks.
JobDir make_job(const TempDir& tmp, JobSpec spec, std::uint32_t workers) {
    JobDir dir{tmp.file("job")};
    fs::create_directories(dir.stage());
    fs::create_directories(dir.out());
    fs::create_directories(dir.file("logs"));
    spec.id = "inprocess";
    spec.tenant = "alice";
    spec.split = SplitKind::count;
    spec.workers_per_host = workers;
    {
        std::ofstream out(dir.spec());
        out << to_json(spec).dump(2) << "\n";
    }
    write_launch_files(dir, plan_launch(spec));
    return dir;
}

struct RankEnd {
    int rc = -1;
    std::string error;  // what escaped the rank's program
};

// Every rank on a thread of its own, as cmd_worker runs it on its rank: an
// exception is reported and ends the job for every rank (MPI_Abort).
std::vector<RankEnd> run_ranks(const JobDir& dir, int workers, LinkHub* hub_out = nullptr) {
    LinkHub local(workers + 1);
    LinkHub& hub = hub_out ? *hub_out : local;
    std::vector<RankEnd> ends(static_cast<std::size_t>(workers + 1));
    std::vector<std::thread> threads;
    for (int r = 0; r <= workers; ++r)
        threads.emplace_back([&, r] {
            Link& link = hub.link(r);
            RankEnd& end = ends[static_cast<std::size_t>(r)];
            try {
                try {
                    end.rc = r == 0 ? run_dispatcher(link, dir.path) : run_worker(link);
                } catch (const std::exception& e) {
                    end.error = e.what();
                    link.abort(4);
                }
            } catch (const FakeAbort& a) {
                end.rc = 128 + a.code;
            }
        });
    for (auto& t : threads) t.join();
    return ends;
}

// The journal's records of one kind ("done", "fail", "start", "node", "end").
std::vector<nlohmann::json> records(const JobDir& dir, const std::string& kind) {
    std::vector<nlohmann::json> out;
    read_journal(dir.journal(), [&](const nlohmann::json& r) {
        if (r.at("e") == kind) out.push_back(r);
    });
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// No grid-agent for these workers: tasks run without energy accounting.
struct NoAgent {
    TempDir tmp;
    NoAgent() { ::setenv("HEARTH_AGENT_SOCKET", tmp.file("no-agent.sock").c_str(), 1); }
    ~NoAgent() { ::unsetenv("HEARTH_AGENT_SOCKET"); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dispatch_inprocess, *boost::unit_test::timeout(120))

BOOST_AUTO_TEST_CASE(the_fake_link_delivers_in_order_per_pair_and_never_blocks) {
    LinkHub hub(3);
    BOOST_TEST(hub.link(1).size() == 3);
    BOOST_TEST(!hub.link(0).poll().has_value());
    hub.link(1).send(0, Tag::hello, "a");
    hub.link(2).send(0, Tag::hello, "x");
    hub.link(1).send(0, Tag::report, "b");
    std::vector<std::string> from1;
    while (auto m = hub.link(0).poll())
        if (m->source == 1) from1.push_back(m->data);
    BOOST_TEST(from1 == (std::vector<std::string>{"a", "b"}));
    BOOST_TEST(!hub.link(1).poll().has_value());  // point-to-point: rank 1 got nothing
    BOOST_TEST(hub.sent().size() == 3u);
    // MPI_Abort ends every rank: the others see it at their next call.
    BOOST_CHECK_THROW(hub.link(2).abort(5), FakeAbort);
    BOOST_CHECK_THROW(hub.link(1).poll(), FakeAbort);
    BOOST_CHECK_THROW(hub.link(0).send(1, Tag::stop, ""), FakeAbort);
    BOOST_TEST(hub.abort_code().value_or(-1) == 5);
}

BOOST_FIXTURE_TEST_CASE(every_task_commits_once_and_its_outputs_are_collected, NoAgent) {
    JobSpec spec;
    spec.split_text = "8";
    spec.slots = 2;
    spec.command = {"sh", "-c", "echo task {task} attempt {attempt} > out_{task}.txt"};
    spec.collect = {"out_*.txt"};
    const JobDir dir = make_job(tmp, spec, 2);

    const auto ends = run_ranks(dir, 2);
    for (const auto& e : ends) {
        BOOST_TEST(e.error == "");
        BOOST_TEST(e.rc == 0);
    }

    const JournalState js = read_journal(dir.journal());
    BOOST_TEST(js.committed.size() == 8u);
    BOOST_TEST(js.failed.empty());
    BOOST_TEST_REQUIRE(js.end.has_value());
    BOOST_TEST(js.end->at("state") == "finished");
    std::map<std::uint64_t, int> done;
    for (const auto& r : records(dir, "done")) ++done[r.at("t").get<std::uint64_t>()];
    BOOST_TEST(done.size() == 8u);
    for (const auto& [task, n] : done)
        BOOST_TEST(n == 1, "task " << task << " committed " << n << " times");
    for (std::uint64_t t = 0; t < 8; ++t)
        BOOST_TEST(slurp(dir.out() + "/out_" + std::to_string(t) + ".txt") ==
                   "task " + std::to_string(t) + " attempt 1\n");
    // Both workers said hello and were configured as the launch plan named them.
    std::set<std::string> nodes;
    for (const auto& r : records(dir, "node")) nodes.insert(r.at("n").get<std::string>());
    BOOST_TEST(nodes == (std::set<std::string>{"localhost#1", "localhost#2"}));
}

BOOST_FIXTURE_TEST_CASE(a_failing_task_is_retried_then_reported_failed, NoAgent) {
    JobSpec spec;
    spec.split_text = "5";
    spec.slots = 2;
    spec.retries = 2;
    // Task 3 fails every time with exit code 7; the others succeed.
    spec.command = {"sh", "-c", "test {task} -ne 3 || exit 7"};
    const JobDir dir = make_job(tmp, spec, 2);

    const auto ends = run_ranks(dir, 2);
    for (const auto& e : ends) {
        BOOST_TEST(e.error == "");
        BOOST_TEST(e.rc == 0);
    }

    const JournalState js = read_journal(dir.journal());
    BOOST_TEST(js.committed.size() == 4u);
    BOOST_TEST(js.failed == (std::set<std::uint64_t>{3}));
    const auto fails = records(dir, "fail");
    // --retries 2: three attempts, the last one final.
    BOOST_TEST_REQUIRE(fails.size() == 3u);
    for (std::size_t i = 0; i < fails.size(); ++i) {
        BOOST_TEST(fails[i].at("t") == 3);
        BOOST_TEST(fails[i].at("a") == i + 1);
        BOOST_TEST(fails[i].at("exit") == 7);
        BOOST_TEST(fails[i].at("final") == (i + 1 == fails.size()));
    }
    for (const auto& r : records(dir, "done")) BOOST_TEST(r.at("t") != 3);
    BOOST_TEST(records(dir, "done").size() == 4u);
}

BOOST_FIXTURE_TEST_CASE(false_with_no_retries_fails_once_and_true_commits, NoAgent) {
    JobSpec spec;
    spec.split_text = "2";
    spec.slots = 1;
    spec.retries = 0;
    // Task 0 runs `true`, task 1 `false`, through the template's {task}.
    spec.command = {"sh", "-c", "if [ {task} = 0 ]; then true; else false; fi"};
    const JobDir dir = make_job(tmp, spec, 1);

    const auto ends = run_ranks(dir, 1);
    BOOST_TEST(ends[0].rc == 0);
    BOOST_TEST(ends[1].rc == 0);
    const auto fails = records(dir, "fail");
    BOOST_TEST_REQUIRE(fails.size() == 1u);
    BOOST_TEST(fails[0].at("t") == 1);
    BOOST_TEST(fails[0].at("exit") == 1);
    BOOST_TEST(fails[0].at("final") == true);
    const auto done = records(dir, "done");
    BOOST_TEST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].at("t") == 0);
    BOOST_TEST(read_journal(dir.journal()).end->at("state") == "finished");
}

BOOST_FIXTURE_TEST_CASE(staged_inputs_reach_every_task_on_every_worker, NoAgent) {
    JobSpec spec;
    spec.split_text = "4";
    spec.slots = 1;
    spec.stage = {"scene.txt"};
    spec.command = {"sh", "-c", "cat scene.txt > frame_{task}.txt"};
    spec.collect = {"frame_*.txt"};
    const JobDir dir = make_job(tmp, spec, 2);
    std::ofstream(dir.stage() + "/scene.txt") << "a staged scene\n";

    const auto ends = run_ranks(dir, 2);
    for (const auto& e : ends) BOOST_TEST(e.rc == 0);
    BOOST_TEST(read_journal(dir.journal()).committed.size() == 4u);
    for (int t = 0; t < 4; ++t)
        BOOST_TEST(slurp(dir.out() + "/frame_" + std::to_string(t) + ".txt") == "a staged scene\n");
}

BOOST_FIXTURE_TEST_CASE(hearth_cancel_kills_the_running_tasks_and_ends_the_job, NoAgent) {
    JobSpec spec;
    spec.split_text = "3";
    spec.slots = 2;
    // Each task says where it runs, then sleeps far longer than the test.
    const std::string pids = tmp.file("pids");
    fs::create_directories(pids);
    // Tasks may run as a user of their own (task_tenancy): let them in.
    fs::permissions(tmp.path(), fs::perms::others_exec, fs::perm_options::add);
    fs::permissions(pids, fs::perms::all);
    spec.command = {"sh", "-c", "echo $$ > " + pids + "/{task}; exec sleep 600"};
    const JobDir dir = make_job(tmp, spec, 1);

    std::vector<RankEnd> ends;
    std::thread job([&] { ends = run_ranks(dir, 1); });
    // Both slots busy: then `hearth cancel`, which creates the cancel file.
    while (std::distance(fs::directory_iterator(pids), fs::directory_iterator()) < 2)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ofstream(dir.cancel()).put('\n');
    job.join();

    BOOST_TEST(ends[0].rc == 0);
    BOOST_TEST(ends[1].rc == 0);
    const JournalState js = read_journal(dir.journal());
    BOOST_TEST_REQUIRE(js.end.has_value());
    BOOST_TEST(js.end->at("state") == "cancelled");
    BOOST_TEST(records(dir, "done").empty());
    // The sleeps are gone (killed and reaped by the worker), not orphaned.
    for (const auto& e : fs::directory_iterator(pids)) {
        std::string text = slurp(e.path().string());
        while (!text.empty() && text.back() == '\n') text.pop_back();
        BOOST_TEST_REQUIRE(!text.empty());
        const pid_t pid = static_cast<pid_t>(std::stol(text));
        BOOST_TEST((::kill(pid, 0) == -1 && errno == ESRCH),
                   "task process " << pid << " still exists");
    }
}

BOOST_FIXTURE_TEST_CASE(a_dispatcher_that_cannot_go_on_ends_every_rank, NoAgent) {
    JobSpec spec;
    spec.split_text = "2";
    spec.command = {"true"};
    const JobDir dir = make_job(tmp, spec, 1);
    // Another dispatcher holds the job: this one refuses to run it, and as
    // with MPI_Abort the waiting worker ends too.
    const int held = ::open(dir.lock().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    BOOST_TEST_REQUIRE(::flock(held, LOCK_EX | LOCK_NB) == 0);
    LinkHub hub(2);
    const auto ends = run_ranks(dir, 1, &hub);
    ::close(held);
    BOOST_TEST(ends[0].error == "job inprocess is already being run by another dispatcher");
    BOOST_TEST(hub.abort_code().value_or(-1) == 4);
    BOOST_TEST(ends[1].rc == 128 + 4);
    BOOST_TEST(records(dir, "launch").empty());
}

BOOST_AUTO_TEST_SUITE_END()
