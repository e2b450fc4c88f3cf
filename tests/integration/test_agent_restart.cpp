// grid-agent SIGKILLed and restarted in the middle of a real job: the tasks
// run on, the ledger matches the counter to the microjoule with nothing
// charged twice, and the job's energy in its summary is the ledger's. Only
// /sys is faked (a RAPL zone the test advances); /proc is the real one.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <regex>

#include "harness.hpp"

using namespace hearth::test;

namespace {



std::uint64_t sql_u64(const std::string& db, const std::string& query) {
    std::string out = sh_out("sqlite3 " + quote(db) + " " + quote(query));
    return out.empty() ? 0 : std::stoull(out);
}

// A RAPL package zone whose counter the test drives (as in test_agent.cpp):
// 50 J wrap range, so the counter wraps many times during the job.
struct FakeRapl {
    fs::path zone;
    std::uint64_t range = 50'000'000;
    std::uint64_t raw = 49'000'000;
    std::atomic<std::uint64_t> added{0};
    explicit FakeRapl(const fs::path& root) : zone(root / "sys/class/powercap/intel-rapl:0") {
        fs::create_directories(zone);
        std::ofstream(zone / "name") << "package-0\n";
        std::ofstream(zone / "max_energy_range_uj") << range << "\n";
        std::ofstream(zone / "constraint_0_max_power_uw") << 200'000'000 << "\n";
        write();
        fs::create_directory_symlink("/proc", root / "proc");
    }
    void write() { set_attribute(zone / "energy_uj", raw); }
    void add(std::uint64_t uj) {
        raw = (raw + uj) % range;
        write();
        added += uj;  // after the write: a reader never sees more than was fed
    }
};

// One run of grid-agent on dir's ledger and socket. Several runs append to
// the same log: a run is up once the log has one more "http" line than
// before it started (the killed run's socket file is still there).
struct Agent {
    pid_t pid = -1;
    int port = 0;
    std::string ledger, socket;
    fs::path log;
    Agent(const fs::path& d, const fs::path& fsroot) {
        ledger = (d / "ledger.db").string();
        socket = (d / "agent.sock").string();
        log = d / "agent.log";
        std::regex re("http 127\\.0\\.0\\.1:([0-9]+)");
        auto ports = [&] {
            std::vector<int> v;
            std::string text = slurp(log);
            for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
                 it != std::sregex_iterator(); ++it)
                v.push_back(std::stoi((*it)[1]));
            return v;
        };
        std::size_t runs_before = ports().size();
        std::string cmd =
            "exec " + quote(agent_bin()) + " --node n1 --site pool --listen 127.0.0.1:0 --no-auth --rate 20" +
            " --socket " + quote(socket) + " --ledger " + quote(ledger) + " --fsroot " +
            quote(fsroot.string()) + " --idle-watts 10" + " 2>>" + quote(log.string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        wait_for(
            [&] {
                auto v = ports();
                if (v.size() > runs_before) port = v.back();
                return port > 0;
            },
            std::chrono::seconds(10));
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
    nlohmann::json node() const {
        std::string out = sh_out("curl -sf " + url() + "/v1/node");
        return out.empty() ? nlohmann::json::object() : nlohmann::json::parse(out);
    }
    int stop() {
        ::kill(pid, SIGTERM);
        int code = wait_exit(pid);
        pid = -1;
        return code;
    }
    void kill9() {
        ::kill(pid, SIGKILL);
        wait_exit(pid);
        pid = -1;
    }
    ~Agent() {
        if (pid > 0) kill9();  // a failed check must not leave a daemon behind
    }
};

// What a failed check must stop too: the counter's feeder and the job.
struct Feeder {
    std::atomic<bool> on{true};
    std::thread thread;
    void stop() {
        on = false;
        if (thread.joinable()) thread.join();
    }
    ~Feeder() { stop(); }
};

struct Job {
    pid_t pid = -1;
    int wait() {
        int code = wait_exit(pid);
        pid = -1;
        return code;
    }
    ~Job() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);  // hearth cancels: mpirun and the tasks go too
            wait_exit(pid);
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_restart)

BOOST_AUTO_TEST_CASE(sigkill_mid_job_loses_no_task_and_no_energy) {
    TempDir t;
    FakeRapl rapl(t / "root");
    auto agent = std::make_unique<Agent>(t.path, t / "root");
    BOOST_REQUIRE(agent->port > 0);
    Feeder feeder;
    feeder.thread = std::thread([&] {
        // 60 W in 10 ms steps, through the kill and the restart.
        while (feeder.on) {
            rapl.add(600'000);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });

    // 6 tasks on 2 slots, each a busy loop then a sleep. Their lengths put
    // the kill (when task 2 starts, in the slot task 0 left) where every
    // path is taken: task 2 runs across the restart and is re-adopted, task
    // 1 ends while no agent runs, task 3 starts while no agent runs.
    const std::string task =
        "case {task} in 0) d=1;; 1) d=1.4;; 2) d=3;; 3) d=2;; *) d=0.5;; esac; "
        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep $d";
    ::setenv("HEARTH_AGENT_SOCKET", agent->socket.c_str(), 1);
    Job job;
    job.pid = start_hearth({"run", "--tenant", "bank", "--count", "6", "--slots", "2", "--job-dir",
                            "job", "--", "sh", "-c", task},
                           t.path);
    ::unsetenv("HEARTH_AGENT_SOCKET");

    // Task 2 has just started (3 s to run) and been charged a first interval,
    // committed (the agent writes its intervals at least once a second): the
    // kill comes now.
    const std::string charges_2_sql =
        "SELECT coalesce(sum(static_uj+dynamic_uj),0) FROM charges WHERE task=2";
    nlohmann::json target;
    bool seen = wait_for(
        [&] {
            for (const auto& tk : agent->node().value("tasks", nlohmann::json::array()))
                if (tk["task"] == 2 && tk["energy_uj"].get<std::uint64_t>() > 0) target = tk;
            return !target.is_null() && sql_u64(agent->ledger, charges_2_sql) > 0;
        },
        std::chrono::seconds(30));
    if (!seen)
        BOOST_FAIL("task 2 was never charged by the agent; agent log: " + slurp(agent->log) +
                   " hearth: " + slurp(t / ".bg.err"));
    agent->kill9();
    std::uint64_t committed_at_kill =
        sql_u64(agent->ledger, "SELECT sum(energy_uj) FROM intervals");
    // What the ledger holds of task 2: the intervals of the group the kill
    // caught unwritten come back as the gap (the house's), not as its.
    const std::uint64_t committed_2 = sql_u64(agent->ledger, charges_2_sql);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // no agent for a while
    agent = std::make_unique<Agent>(t.path, t / "root");
    BOOST_REQUIRE(agent->port > 0);

    // Re-adopted under the id the worker holds: while task 2's process lives
    // (its pid and start time unchanged), the new agent lists it.
    pid_t target_pid = target["pid"].get<pid_t>();
    bool alive = ::kill(target_pid, 0) == 0;
    nlohmann::json adopted;
    for (const auto& tk : agent->node().value("tasks", nlohmann::json::array()))
        if (tk["id"] == target["id"]) adopted = tk;
    BOOST_TEST(alive, "task 2 (3 s long) ended during a 0.6 s restart");
    BOOST_TEST(!(alive && adopted.is_null()), "task 2 runs on but the new agent lost it");
    if (alive && !adopted.is_null()) {
        BOOST_TEST(adopted["task"] == 2);
        BOOST_TEST(adopted["pid"] == target_pid);
        // It carries what the first run had committed for it, and more from now on.
        BOOST_TEST(adopted["energy_uj"].get<std::uint64_t>() >= committed_2);
    }

    int code = job.wait();
    feeder.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_TEST(agent->stop() == 0);
    BOOST_REQUIRE_EQUAL(code, 0);
    const std::string db = agent->ledger;
    std::string log = slurp(agent->log);
    BOOST_TEST_MESSAGE("agent log:\n" << log);
    BOOST_TEST(log.find("re-adopted tasks registered before the restart") != std::string::npos);

    // The tasks kept running: each started once, none failed or reran.
    auto s = summary(t / "job");
    std::string id = s["job"];
    BOOST_TEST(s["tasks"].get<int>() == 6);
    std::map<std::string, int> events;
    std::vector<nlohmann::json> done;
    for (const auto& rec : journal(t / "job")) {
        ++events[rec["e"].get<std::string>()];
        if (rec["e"] == "done") done.push_back(rec);
    }
    BOOST_TEST(events["start"] == 6);
    BOOST_TEST(events["done"] == 6);
    BOOST_TEST(events["fail"] == 0);

    // The ledger: exactly what the counter advanced (the kill's lost interval
    // and the downtime are one gap interval, the house's), nothing charged
    // twice (charges add up to their intervals, no two intervals overlap).
    BOOST_TEST(committed_at_kill > 0u);
    BOOST_TEST(sql_u64(db, "SELECT sum(energy_uj) FROM intervals") == rapl.added.load());
    BOOST_TEST(sql_u64(db, "SELECT sum(static_uj+dynamic_uj) FROM charges") == rapl.added.load());
    BOOST_TEST(sql_u64(db,
                       "SELECT count(*) FROM intervals i WHERE energy_uj != (SELECT "
                       "sum(static_uj+dynamic_uj) FROM charges c WHERE c.interval_id = i.id)") ==
               0u);
    BOOST_TEST(sql_u64(db,
                       "SELECT count(*) FROM intervals a JOIN intervals b ON a.id < b.id "
                       "WHERE a.t0_ms < b.t1_ms AND b.t0_ms < a.t1_ms") == 0u);
    BOOST_TEST(sql_u64(db, "SELECT count(*) FROM intervals WHERE kind='gap'") == 1u);
    BOOST_TEST(sql_u64(db,
                       "SELECT count(*) FROM charges c JOIN intervals i ON c.interval_id = i.id "
                       "WHERE i.kind='gap' AND c.tenant != ''") == 0u);

    // Each attempt's figure is what the ledger charged it; an attempt with
    // no figure (possible only if no agent answered for 10 s) has no charges.
    int with_figure = 0;
    for (const auto& rec : done) {
        std::uint64_t in_ledger =
            sql_u64(db, "SELECT coalesce(sum(static_uj+dynamic_uj),0) FROM charges WHERE job='" +
                            id + "' AND task=" + std::to_string(rec["t"].get<int>()) +
                            " AND attempt=" + std::to_string(rec["a"].get<int>()));
        if (rec.contains("uj")) {
            ++with_figure;
            BOOST_TEST(rec["uj"].get<std::uint64_t>() == in_ledger, "task " << rec["t"]);
        } else {
            BOOST_TEST(in_ledger == 0u, "task " << rec["t"] << " has no figure");
        }
    }
    BOOST_TEST(s["energy_attempts"].get<int>() == with_figure);
    BOOST_TEST_MESSAGE(with_figure << " of 6 attempts carry an energy figure");

    // The job's total: the summary's is the ledger's, by SQL and by hearth energy.
    std::uint64_t job_total = sql_u64(
        db, "SELECT coalesce(sum(static_uj+dynamic_uj),0) FROM charges WHERE job='" + id + "'");
    BOOST_TEST(job_total > 0u);
    BOOST_TEST(s["energy_uj"].get<std::uint64_t>() == job_total);
    Result rep = run_hearth(
        {"energy", "--job", id, "--by", "job", "--ledger", db, "--format", "json"}, t.path);
    BOOST_REQUIRE_EQUAL(rep.code, 0);
    BOOST_TEST(nlohmann::json::parse(rep.out)["total_uj"].get<std::uint64_t>() == job_total);

    // Task 2 was charged on both sides of the gap, all of it in its figure.
    if (alive) {
        std::string gap = "(SELECT t0_ms FROM intervals WHERE kind='gap')";
        std::string gap_end = "(SELECT t1_ms FROM intervals WHERE kind='gap')";
        std::string charges_of_2 =
            "SELECT coalesce(sum(static_uj+dynamic_uj),0) FROM charges c JOIN intervals i ON "
            "c.interval_id = i.id WHERE c.job='" +
            id + "' AND c.task=2 AND ";
        BOOST_TEST(sql_u64(db, charges_of_2 + "i.t1_ms <= " + gap) > 0u);
        BOOST_TEST(sql_u64(db, charges_of_2 + "i.t0_ms >= " + gap_end) > 0u);
    }
}

BOOST_AUTO_TEST_SUITE_END()
