// GPU tasks end to end: `hearth run --gpus-per-task` on a node whose grid
// file declares 2 GPUs, with a real grid-agent metering them through a
// stand-in libnvidia-ml.so.1 (tests/fakes/fake_libnvml.c, built here and
// dlopened by the agent as it would the driver's). Each task "uses" the GPU
// it was given by adding energy to that GPU's counter; the ledger, read with
// the sqlite3 shell, must charge that energy to the task that held the GPU.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace hearth::test;

namespace {

// The fake NVML library and its GPUs: files gpuN holding millijoule counters.
struct FakeGpus {
    fs::path lib_dir, gpu_dir;
    FakeGpus(const fs::path& root, unsigned count)
        : lib_dir(root / "nvml"), gpu_dir(root / "gpus") {
        fs::create_directories(lib_dir);
        fs::create_directories(gpu_dir);
        int code = 0;
        const std::string out =
            sh_out("cc -O2 -Wall -Werror -shared -fPIC -o " +
                       quote((lib_dir / "libnvidia-ml.so.1").string()) + " " +
                       quote(repo_root() + "/tests/fakes/fake_libnvml.c") + " 2>&1",
                   &code);
        BOOST_TEST_REQUIRE(code == 0, "cannot build the fake NVML library: " << out);
        for (unsigned i = 0; i < count; ++i) set(i, 1'000'000);  // 1 kJ since the driver loaded
        // Tasks run as the tenant's own user: they may reach and replace the
        // counters.
        fs::permissions(root, fs::perms::others_exec | fs::perms::group_exec,
                        fs::perm_options::add);
        fs::permissions(gpu_dir, fs::perms::all);
    }
    void set(unsigned gpu, std::uint64_t mj) const {
        const fs::path f = gpu_dir / ("gpu" + std::to_string(gpu));
        std::ofstream(f.string() + ".tmp") << mj << "\n";
        fs::rename(f.string() + ".tmp", f);
        fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                               fs::perms::group_write | fs::perms::others_read |
                               fs::perms::others_write);
    }
    std::uint64_t get(unsigned gpu) const {
        return std::stoull(slurp(gpu_dir / ("gpu" + std::to_string(gpu))));
    }
};

struct GpuAgent {
    pid_t pid = -1;
    fs::path dir;
    std::string ledger, socket;
    GpuAgent(const fs::path& d, const FakeGpus& gpus) : dir(d) {
        ledger = (d / "ledger.db").string();
        socket = (d / "agent.sock").string();
        std::string cmd = "LD_LIBRARY_PATH=" + quote(gpus.lib_dir.string()) +
                          " HEARTH_FAKE_NVML_DIR=" + quote(gpus.gpu_dir.string()) + " exec " +
                          quote(agent_bin()) +
                          " --node n1 --site studio --listen 127.0.0.1:0 --no-auth --energy nvml"
                          " --rate 20 --socket " +
                          quote(socket) + " --ledger " + quote(ledger) + " 2>>" +
                          quote((d / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        const bool up = wait_for(
            [&] {
                return fs::exists(socket) &&
                       slurp(d / "agent.log").find("http 127.0.0.1:") != std::string::npos;
            },
            std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(up, "grid-agent did not start: " + log());
    }
    int stop() {
        ::kill(pid, SIGTERM);
        return wait_exit(pid);
    }
    std::string log() const { return slurp(dir / "agent.log"); }
};

std::uint64_t sql_u64(const std::string& db, const std::string& query) {
    const std::string out = sh_out("sqlite3 " + quote(db) + " " + quote(query));
    return out.empty() || out == "\n" ? 0 : std::stoull(out);
}

const char* k_grid = R"([[site]]
name = "studio"
kind = "room"
target = 21

[[node]]
name = "ws1"
site = "studio"
host = "localhost"
slots = 4
gpus = 2
)";

// A render task on its GPU: half a second in, it has drawn (task + 1) x 40 J
// from each GPU in CUDA_VISIBLE_DEVICES (added to the fake counter, replaced
// atomically as the driver's would read), then it says what it saw and when.
const char* k_task = R"(t0=$(date +%s%N); sleep 0.5
for g in $(echo "$CUDA_VISIBLE_DEVICES" | tr , ' '); do
  f=$GPUS/gpu$g; v=$(cat "$f"); echo $((v + (HEARTH_TASK + 1) * 40000)) > "$f.$HEARTH_TASK" && mv "$f.$HEARTH_TASK" "$f"
done
sleep 0.5; t1=$(date +%s%N)
echo "$HEARTH_TASK $CUDA_VISIBLE_DEVICES $HEARTH_GPUS $CUDA_DEVICE_ORDER $t0 $t1" >> "$SPANS/spans"
)";

struct Span {
    int task = -1;
    std::string gpus, hearth_gpus, order;
    long long t0 = 0, t1 = 0;
};

std::vector<Span> read_spans(const fs::path& file) {
    std::vector<Span> spans;
    std::istringstream in(slurp(file));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream l(line);
        Span s;
        l >> s.task >> s.gpus >> s.hearth_gpus >> s.order >> s.t0 >> s.t1;
        spans.push_back(s);
    }
    return spans;
}

// A job directory refused before it was made.
void nothing_written(const fs::path& dir) {
    BOOST_TEST(!fs::exists(dir / "hearth-jobs"));
}

bool one_line(const std::string& err) {
    return !err.empty() && err.find('\n') == err.size() - 1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gpu_tasks)

BOOST_AUTO_TEST_CASE(each_task_gets_its_own_gpu_and_is_charged_its_energy) {
    TempDir t;
    FakeGpus gpus(t.path, 3);  // NVML sees 3; the grid file gives tasks 2
    GpuAgent agent(t.path, gpus);
    std::ofstream(t / "grid.toml") << k_grid;
    std::ofstream(t / "render.sh") << k_task;
    fs::create_directories(t / "spans");
    fs::permissions(t / "spans", fs::perms::all);
    // GPU 2 draws too, with no task on it: the house's.
    gpus.set(2, gpus.get(2) + 10'000);

    Result r = run_hearth({"run",
                           "--grid",
                           "grid.toml",
                           "--tenant",
                           "studio",
                           "--count",
                           "3",
                           "--gpus-per-task",
                           "1",
                           "--job-dir",
                           "job",
                           "--stage",
                           "render.sh",
                           "--env",
                           "GPUS=" + gpus.gpu_dir.string(),
                           "--env",
                           "SPANS=" + (t / "spans").string(),
                           "--",
                           "sh",
                           "render.sh"},
                          t.path, "HEARTH_AGENT_SOCKET=" + quote(agent.socket));
    // The agent's last interval closes with the unregistrations; let it commit.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    BOOST_TEST(agent.stop() == 0);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err + agent.log());

    const std::vector<Span> spans = read_spans(t / "spans" / "spans");
    BOOST_TEST_REQUIRE(spans.size() == 3u);
    std::set<int> tasks;
    for (const Span& s : spans) {
        tasks.insert(s.task);
        // One GPU each, of the two the grid file gives (never NVML's third).
        BOOST_TEST((s.gpus == "0" || s.gpus == "1"), "task " << s.task << " saw " << s.gpus);
        BOOST_TEST(s.hearth_gpus == s.gpus);
        BOOST_TEST(s.order == "PCI_BUS_ID");
    }
    BOOST_TEST(tasks == (std::set<int>{0, 1, 2}), boost::test_tools::per_element());
    // Never more than 2 at once (the node has 4 slots), and tasks running at
    // the same time never share a GPU.
    for (const Span& a : spans) {
        int at_once = 0;
        for (const Span& b : spans) {
            if (b.t0 > a.t0 || b.t1 <= a.t0) continue;  // b running when a started
            ++at_once;
            if (b.task != a.task)
                BOOST_TEST(b.gpus != a.gpus, "tasks " << a.task << " and " << b.task
                                                      << " ran together on GPU " << a.gpus);
        }
        BOOST_TEST(at_once <= 2, "task " << a.task << " started with " << at_once << " running");
    }

    // The ledger charges each task exactly what its GPU drew while it ran:
    // (task + 1) x 40 J; the idle GPU's 10 J is the house's (task -1,
    // hearth-ledger(5)).
    const std::string id = summary(t / "job")["job"];
    for (int task = 0; task < 3; ++task)
        BOOST_TEST(sql_u64(agent.ledger,
                           "SELECT coalesce(sum(static_uj+dynamic_uj),0) FROM charges WHERE job='" +
                               id + "' AND task=" + std::to_string(task)) ==
                       static_cast<std::uint64_t>(task + 1) * 40'000'000u,
                   "task " << task);
    BOOST_TEST(sql_u64(agent.ledger, "SELECT sum(energy_uj) FROM intervals") ==
               (40u + 80u + 120u + 10u) * 1'000'000u);
    BOOST_TEST(sql_u64(agent.ledger,
                       "SELECT coalesce(sum(static_uj+dynamic_uj),0) FROM charges WHERE task=-1") ==
               10'000'000u);
    // The job's journal has the ledger's figure for each attempt.
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done")
            BOOST_TEST(rec["uj"].get<std::uint64_t>() ==
                       static_cast<std::uint64_t>(rec["t"].get<int>() + 1) * 40'000'000u);
}

BOOST_AUTO_TEST_CASE(without_a_grid_file_the_agent_counts_the_gpus) {
    TempDir t;
    FakeGpus gpus(t.path, 1);
    GpuAgent agent(t.path, gpus);
    fs::create_directories(t / "spans");
    fs::permissions(t / "spans", fs::perms::all);
    std::ofstream(t / "render.sh") << k_task;
    Result r = run_hearth({"run",
                           "--tenant",
                           "studio",
                           "--count",
                           "2",
                           "--slots",
                           "2",
                           "--gpus-per-task",
                           "1",
                           "--job-dir",
                           "job",
                           "--stage",
                           "render.sh",
                           "--env",
                           "GPUS=" + gpus.gpu_dir.string(),
                           "--env",
                           "SPANS=" + (t / "spans").string(),
                           "--",
                           "sh",
                           "render.sh"},
                          t.path, "HEARTH_AGENT_SOCKET=" + quote(agent.socket));
    agent.stop();
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err + agent.log());
    const std::vector<Span> spans = read_spans(t / "spans" / "spans");
    BOOST_TEST_REQUIRE(spans.size() == 2u);
    // One GPU: the two tasks ran one after the other on it.
    for (const Span& s : spans) BOOST_TEST(s.gpus == "0");
    const Span& first = spans[0].t0 < spans[1].t0 ? spans[0] : spans[1];
    const Span& second = spans[0].t0 < spans[1].t0 ? spans[1] : spans[0];
    BOOST_TEST(second.t0 >= first.t1);
}

BOOST_AUTO_TEST_CASE(gpus_the_agent_does_not_read_are_left_out_of_the_registration) {
    TempDir t;
    FakeGpus gpus(t.path, 1);  // the grid file says 2; NVML finds 1
    GpuAgent agent(t.path, gpus);
    std::ofstream(t / "grid.toml") << k_grid;
    Result r = run_hearth({"run", "--grid", "grid.toml", "--tenant", "studio", "--count", "2",
                           "--gpus-per-task", "1", "--job-dir", "job", "--", "sleep", "0.3"},
                          t.path, "HEARTH_AGENT_SOCKET=" + quote(agent.socket));
    agent.stop();
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    // The task on GPU 1 is still metered (without its GPU), and the worker
    // said why once.
    BOOST_TEST(summary(t / "job")["energy_attempts"].get<int>() == 2);
    const std::string log = slurp(t / "job" / "mpirun.log");
    BOOST_TEST(
        log.find("grid-agent refused a task: GPU 1 on a node with 1 GPU") != std::string::npos,
        log);
    BOOST_TEST(log.find("tasks are metered without their GPUs") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(a_node_without_enough_gpus_runs_none_and_says_why) {
    TempDir t;
    // No agent here (and no grid file): the node has no GPUs to give.
    Result r = run_hearth({"run", "--tenant", "studio", "--count", "2", "--gpus-per-task", "1",
                           "--job-dir", "job", "--", "true"},
                          t.path, "HEARTH_AGENT_SOCKET=" + quote((t / "none.sock").string()));
    BOOST_TEST(r.code == 3, r.err);  // stalled: no node could run it
    BOOST_TEST(r.err.find("has 0 GPUs, fewer than --gpus-per-task 1; give it gpus = N in the "
                          "grid file") != std::string::npos,
               r.err);
    // No task started anywhere.
    for (const auto& rec : journal(t / "job")) BOOST_TEST(rec["e"] != "start");
}

BOOST_AUTO_TEST_CASE(bad_gpu_requests_are_refused_with_the_fix) {
    TempDir t;
    std::ofstream(t / "grid.toml") << k_grid;
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{"run", "--gpus-per-task", "65", "--count", "1", "--", "true"},
         "--gpus-per-task 65: give 0 to 64 GPUs a task"},
        {{"run", "--gpus-per-task", "-1", "--count", "1", "--", "true"}, "--gpus-per-task"},
        {{"run", "--gpus-per-task", "two", "--count", "1", "--", "true"}, "--gpus-per-task"},
        {{"run", "--grid", "grid.toml", "--gpus-per-task", "3", "--count", "1", "--", "true"},
         "--gpus-per-task 3: no node in grid.toml has that many GPUs (the most is 2"},
        {{"run", "--gpus-per-task", "1", "--workers-per-host", "2", "--count", "1", "--", "true"},
         "use --workers-per-host 1"},
        {{"run", "--env", "CUDA_VISIBLE_DEVICES=0", "--count", "1", "--", "true"},
         "ask for GPUs with --gpus-per-task N instead"},
        {{"submit", "--server", "http://127.0.0.1:9", "--gpus-per-task", "99", "--count", "1", "--",
          "true"},
         "--gpus-per-task 99: give 0 to 64"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.args[1] << " " << c.args[2]) {
            Result r = run_hearth(c.args, t.path, "HEARTH_TENANT=studio");
            BOOST_TEST(r.code == 2, r.err);
            BOOST_TEST(r.err.find(c.says) != std::string::npos, r.err);
            BOOST_TEST(one_line(r.err), r.err);
            nothing_written(t.path);
        }
    }
    // A grid file with a bad node GPU count is refused as a whole, by line.
    std::ofstream(t / "bad.toml") << std::regex_replace(k_grid, std::regex("gpus = 2"),
                                                        "gpus = -1");
    Result r = run_hearth({"run", "--grid", "bad.toml", "--count", "1", "--", "true"}, t.path,
                          "HEARTH_TENANT=studio");
    BOOST_TEST(r.code == 2, r.err);
    BOOST_TEST(
        r.err.find("bad.toml:11: node 'ws1': 'gpus' must be a whole number from 0 to 1024") !=
            std::string::npos,
        r.err);
    nothing_written(t.path);
}

BOOST_AUTO_TEST_SUITE_END()
