// grid-agent as a real daemon: a fake RAPL tree (the only fake: /proc is the
// real one), real hearth jobs registering their tasks, the ledger read back
// with the sqlite3 shell, the HTTP API over a real socket.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <regex>

#include "harness.hpp"

using namespace hearth::test;

namespace {



// A RAPL package zone whose counter the test drives: 50 J wrap range, so a
// minute at 50 W wraps it many times.
struct FakeRapl {
    fs::path root;
    fs::path zone;
    std::uint64_t range = 50'000'000;
    std::uint64_t raw = 49'000'000;  // close to the wrap from the start
    std::uint64_t added = 0;
    explicit FakeRapl(const fs::path& r) : root(r), zone(r / "sys/class/powercap/intel-rapl:0") {
        fs::create_directories(zone);
        std::ofstream(zone / "name") << "package-0\n";
        std::ofstream(zone / "max_energy_range_uj") << range << "\n";
        std::ofstream(zone / "constraint_0_max_power_uw") << 200'000'000 << "\n";
        write();
        // Real processes, real /proc: only /sys is faked.
        fs::create_directory_symlink("/proc", root / "proc");
    }
    void write() { set_attribute(zone / "energy_uj", raw); }
    void add(std::uint64_t uj) {
        raw = (raw + uj) % range;
        added += uj;
        write();
    }
};

struct Agent {
    pid_t pid = -1;
    int port = 0;
    fs::path dir;
    std::string ledger, socket;
    Agent(const fs::path& d, const fs::path& fsroot, const std::string& extra = "") : dir(d) {
        ledger = (d / "ledger.db").string();
        socket = (d / "agent.sock").string();
        std::string cmd = "exec " + quote(agent_bin()) + " --node n1 --site pool --listen 127.0.0.1:0 --no-auth" +
                          " --socket " + quote(socket) + " --ledger " + quote(ledger) +
                          " --fsroot " + quote(fsroot.string()) + " --idle-watts 10 " + extra +
                          " 2>>" + quote((d / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        std::regex re("http 127\\.0\\.0\\.1:([0-9]+)");
        wait_for(
            [&] {
                std::smatch m;
                std::string log = slurp(d / "agent.log");
                std::string last;
                for (auto it = std::sregex_iterator(log.begin(), log.end(), re);
                     it != std::sregex_iterator(); ++it)
                    last = (*it)[1];
                if (!last.empty()) port = std::stoi(last);
                return port > 0 && fs::exists(socket);
            },
            std::chrono::seconds(10));
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
    int stop() {
        ::kill(pid, SIGTERM);
        return wait_exit(pid);
    }
    void kill9() {
        ::kill(pid, SIGKILL);
        wait_exit(pid);
    }
};

std::uint64_t sql_u64(const std::string& db, const std::string& query) {
    std::string out = sh_out("sqlite3 " + quote(db) + " " + quote(query));
    return out.empty() ? 0 : std::stoull(out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(agent)

BOOST_AUTO_TEST_CASE(probe_reports_each_source_and_why_not) {
    TempDir t;
    FakeRapl rapl(t / "root");
    std::string out = sh_out(quote(agent_bin()) + " --probe --fsroot " + quote((t / "root").string()) + " 2>&1");
    BOOST_TEST(out.find("available    powercap") != std::string::npos, out);
    BOOST_TEST(out.find("papi") != std::string::npos, out);
    BOOST_TEST(out.find("model") != std::string::npos, out);
    // A node without RAPL (this VM's real /sys) falls back to the model.
    TempDir bare;
    fs::create_directory_symlink("/proc", bare / "proc");
    out = sh_out(quote(agent_bin()) + " --probe --fsroot " + quote(bare.path.string()) + " 2>&1");
    BOOST_TEST(out.find("unavailable  powercap") != std::string::npos, out);
    BOOST_TEST(out.find("energy source: model") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(two_tenants_jobs_are_charged_exactly_what_the_counter_measured) {
    TempDir t;
    FakeRapl rapl(t / "root");
    Agent agent(t.path, t / "root", "--rate 20");
    BOOST_REQUIRE(agent.port > 0);
    std::atomic<bool> feeding{true};
    std::thread feeder([&] {
        // 60 W in 10 ms steps: 0.6 J a step; the 50 J counter wraps every ~0.8 s.
        while (feeding) {
            rapl.add(600'000);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    std::string env = "HEARTH_AGENT_SOCKET=" + quote(agent.socket);
    Result bank = run_hearth({"run", "--tenant", "bank", "--count", "4", "--slots", "2",
                              "--job-dir", "bank", "--", "sh", "-c",
                              "i=0; while [ $i -lt 40000 ]; do i=$((i+1)); done"},
                             t.path, env);
    Result studio = run_hearth({"run", "--tenant", "studio", "--count", "2", "--slots", "2",
                                "--job-dir", "studio", "--", "sleep", "0.3"},
                               t.path, env);
    feeding = false;
    feeder.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_TEST(agent.stop() == 0);
    BOOST_REQUIRE_EQUAL(bank.code, 0);
    BOOST_REQUIRE_EQUAL(studio.code, 0);

    // The ledger, read by the sqlite3 shell: charges add up to the intervals,
    // which add up to what the counter advanced, to the microjoule.
    std::uint64_t intervals = sql_u64(agent.ledger, "SELECT sum(energy_uj) FROM intervals");
    std::uint64_t charges = sql_u64(agent.ledger, "SELECT sum(static_uj+dynamic_uj) FROM charges");
    BOOST_TEST(intervals == rapl.added);
    BOOST_TEST(charges == rapl.added);
    BOOST_TEST(sql_u64(agent.ledger,
                       "SELECT count(*) FROM intervals i WHERE energy_uj != (SELECT "
                       "sum(static_uj+dynamic_uj) FROM charges c WHERE c.interval_id = i.id)") == 0u);

    // Each attempt's energy in the journal is what the ledger charged it.
    for (const char* job : {"bank", "studio"}) {
        auto s = summary(t / job);
        BOOST_TEST(s["energy_attempts"].get<int>() == s["tasks"].get<int>());
        std::string id = s["job"];
        for (const auto& rec : journal(t / job)) {
            if (rec["e"] != "done") continue;
            std::uint64_t in_ledger = sql_u64(
                agent.ledger, "SELECT coalesce(sum(static_uj+dynamic_uj),0) FROM charges WHERE job='" +
                                  id + "' AND task=" + std::to_string(rec["t"].get<int>()));
            BOOST_TEST(rec["uj"].get<std::uint64_t>() == in_ledger);
        }
    }
    // The busy job used more CPU than the sleeping one: it paid more dynamic energy.
    std::uint64_t bank_dyn = sql_u64(agent.ledger, "SELECT sum(dynamic_uj) FROM charges WHERE tenant='bank'");
    std::uint64_t studio_dyn = sql_u64(agent.ledger, "SELECT sum(dynamic_uj) FROM charges WHERE tenant='studio'");
    BOOST_TEST(bank_dyn > studio_dyn);

    // hearth energy reads the same ledger.
    Result rep = run_hearth({"energy", "--ledger", agent.ledger, "--format", "json"}, t.path);
    BOOST_REQUIRE_EQUAL(rep.code, 0);
    auto j = nlohmann::json::parse(rep.out);
    BOOST_TEST(j["total_uj"].get<std::uint64_t>() == rapl.added);
    std::set<std::string> keys;
    for (const auto& r : j["rows"]) keys.insert(r["tenant"].get<std::string>());
    BOOST_TEST((keys == std::set<std::string>{"bank", "house", "studio"}));
}

BOOST_AUTO_TEST_CASE(concurrent_tenants_are_charged_by_their_measured_cpu_shares) {
    TempDir t;
    FakeRapl rapl(t / "root");
    Agent agent(t.path, t / "root", "--rate 20");
    BOOST_REQUIRE(agent.port > 0);
    std::atomic<bool> feeding{true};
    std::thread feeder([&] {
        while (feeding) {
            rapl.add(400'000);  // 40 W
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    // Side by side for the same 2 s: bank spins all the time, studio about a
    // third of it. Each task prints its own CPU time (its shell's and its
    // children's, from /proc/PID/stat), the truth the charges must follow.
    const std::string spin =
        "end=$(($(date +%s%N)/1000000 + 2000)); "
        "while [ $(($(date +%s%N)/1000000)) -lt $end ]; do "
        "  b=$(($(date +%s%N)/1000000 + BUSY)); while [ $(($(date +%s%N)/1000000)) -lt $b ]; do :; done; "
        "  [ IDLE -gt 0 ] && sleep 0.IDLE; "
        "done; "
        "set -- $(cut -d' ' -f14-17 /proc/$$/stat); echo cpu_ticks=$(($1+$2+$3+$4))";
    auto job = [&](const char* tenant, const char* busy, const char* idle) {
        std::string cmd = std::regex_replace(std::regex_replace(spin, std::regex("BUSY"), busy),
                                             std::regex("IDLE"), idle);
        return start_hearth({"run", "--tenant", tenant, "--count", "1", "--slots", "1",
                             "--job-dir", tenant, "--", "sh", "-c", cmd},
                            t.path);
    };
    // start_hearth has no env parameter: the agent socket goes by environment.
    ::setenv("HEARTH_AGENT_SOCKET", agent.socket.c_str(), 1);
    pid_t bank = job("bank", "100", "0");
    pid_t studio = job("studio", "50", "1");
    int rb = wait_exit(bank), rs = wait_exit(studio);
    ::unsetenv("HEARTH_AGENT_SOCKET");
    feeding = false;
    feeder.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_TEST(agent.stop() == 0);
    BOOST_REQUIRE_EQUAL(rb, 0);
    BOOST_REQUIRE_EQUAL(rs, 0);
    auto ticks = [&](const char* job_dir) {
        Result l = run_hearth({"logs", job_dir, "0"}, t.path);
        auto p = l.out.find("cpu_ticks=");
        return p == std::string::npos ? 0.0 : std::stod(l.out.substr(p + 10));
    };
    double cb = ticks("bank"), cs = ticks("studio");
    BOOST_REQUIRE(cb > 0);
    BOOST_REQUIRE(cs > 0);
    double db = static_cast<double>(sql_u64(agent.ledger, "SELECT sum(dynamic_uj) FROM charges WHERE tenant='bank'"));
    double ds = static_cast<double>(sql_u64(agent.ledger, "SELECT sum(dynamic_uj) FROM charges WHERE tenant='studio'"));
    BOOST_REQUIRE(db + ds > 0);
    double measured_share = cb / (cb + cs), charged_share = db / (db + ds);
    BOOST_TEST_MESSAGE("bank CPU share " << measured_share << ", dynamic energy share " << charged_share);
    // Energy is split per interval by that interval's work, so a bursty task
    // (studio) is not charged exactly its share of the summed CPU time; on a
    // loaded machine the two have differed by up to 0.05.
    BOOST_TEST(std::abs(charged_share - measured_share) < 0.08);
    BOOST_TEST(measured_share > 0.55);  // the two really differed
    BOOST_TEST(sql_u64(agent.ledger, "SELECT sum(energy_uj) FROM intervals") == rapl.added);
}

BOOST_AUTO_TEST_CASE(http_api_round_trip_and_prometheus_text) {
    TempDir t;
    FakeRapl rapl(t / "root");
    // /metrics' figures move once a metrics interval: wait past a boundary.
    Agent agent(t.path, t / "root", "--metrics-interval 1");
    BOOST_REQUIRE(agent.port > 0);
    for (int i = 0; i < 20; ++i) {
        rapl.add(1'000'000);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    std::string health = sh_out("curl -sf " + agent.url() + "/v1/health");
    BOOST_TEST(nlohmann::json::parse(health)["ok"] == true);
    auto node = nlohmann::json::parse(sh_out("curl -sf " + agent.url() + "/v1/node"));
    BOOST_TEST(node["source"] == "powercap");
    BOOST_TEST(node["estimated"] == false);
    BOOST_TEST(node["energy_uj"].get<std::uint64_t>() == 20'000'000u);
    std::string metrics = sh_out("curl -sf " + agent.url() + "/metrics");
    // Prometheus text format: HELP and TYPE before each family, then samples.
    BOOST_TEST(metrics.find("# TYPE hearth_tenant_energy_joules_total counter") != std::string::npos);
    std::regex sample("^hearth_tenant_energy_joules_total\\{tenant=\"house\",site=\"pool\",node=\"n1\"\\} ([0-9.e+]+)$");
    bool found = false;
    std::stringstream ss(metrics);
    std::string line;
    while (std::getline(ss, line)) {
        if (line.empty() || line[0] == '#') continue;
        BOOST_TEST(std::regex_match(line, std::regex("^[a-z_]+\\{[^}]*\\} [-0-9.e+]+$")), line);
        std::smatch m;
        if (std::regex_match(line, m, sample)) {
            found = true;
            BOOST_TEST(std::stod(m[1]) == 20.0);
        }
    }
    BOOST_TEST(found, metrics);
    // hearth energy through the HTTP API (libcurl), not the file.
    Result rep = run_hearth({"energy", "--agent", agent.url(), "--by", "node", "--format", "csv"}, t.path);
    BOOST_REQUIRE_EQUAL(rep.code, 0);
    BOOST_TEST(rep.out.find("n1,") != std::string::npos, rep.out);
    BOOST_TEST(rep.out.find(",20000000,") != std::string::npos, rep.out);
    // A bad query is a 400 with a JSON error.
    std::string bad = sh_out("curl -s -o /dev/null -w '%{http_code}' '" + agent.url() + "/v1/energy?by=planet'");
    BOOST_TEST(bad == "400");
    BOOST_TEST(agent.stop() == 0);
}

BOOST_AUTO_TEST_CASE(sigkill_and_restart_keep_the_ledger_consistent) {
    TempDir t;
    FakeRapl rapl(t / "root");
    std::uint64_t committed_before = 0, t1_before = 0;
    {
        Agent a(t.path, t / "root");
        BOOST_REQUIRE(a.port > 0);
        for (int i = 0; i < 30; ++i) {
            rapl.add(500'000);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        a.kill9();
        // Energy used while the agent is down.
        for (int i = 0; i < 10; ++i) rapl.add(700'000);
        committed_before = sql_u64(a.ledger, "SELECT sum(energy_uj) FROM intervals");
        t1_before = sql_u64(a.ledger, "SELECT max(t1_ms) FROM intervals");
        BOOST_TEST(committed_before > 0u);
        BOOST_TEST(committed_before <= rapl.added);
    }
    Agent b(t.path, t / "root");
    BOOST_REQUIRE(b.port > 0);
    for (int i = 0; i < 30; ++i) {
        rapl.add(500'000);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    BOOST_TEST(b.stop() == 0);
    std::string db = b.ledger;
    BOOST_TEST(sh_out("sqlite3 " + quote(db) + " 'PRAGMA integrity_check'") == "ok\n");
    // No interval of the new run overlaps the old one: nothing charged twice.
    BOOST_TEST(sql_u64(db, "SELECT count(*) FROM intervals WHERE t0_ms < " + std::to_string(t1_before) +
                               " AND t1_ms > " + std::to_string(t1_before)) == 0u);
    // Every interval's charges still add up, and the total never exceeds what was measured.
    BOOST_TEST(sql_u64(db, "SELECT count(*) FROM intervals i WHERE energy_uj != (SELECT "
                           "sum(static_uj+dynamic_uj) FROM charges c WHERE c.interval_id = i.id)") == 0u);
    // The energy used while no agent ran (the interval in progress at the
    // kill, and the downtime) is recovered from the counter, as one gap
    // interval charged to the house: the ledger matches the counter exactly.
    std::uint64_t total = sql_u64(db, "SELECT sum(energy_uj) FROM intervals");
    BOOST_TEST(total > committed_before);
    BOOST_TEST(total == rapl.added);
    BOOST_TEST(sql_u64(db, "SELECT count(*) FROM intervals WHERE kind='gap'") == 1u);
    BOOST_TEST(sql_u64(db, "SELECT count(*) FROM charges c JOIN intervals i ON c.interval_id = i.id "
                           "WHERE i.kind='gap' AND c.tenant != ''") == 0u);
}

BOOST_AUTO_TEST_CASE(bad_configuration_is_a_usage_error) {
    TempDir t;
    std::ofstream(t / "bad.toml") << "rate_hz = 500\n";
    std::ofstream(t / "typo.toml") << "ledgr = \"x\"\n";
    for (const auto& args : {std::string("--config ") + quote((t / "bad.toml").string()),
                             std::string("--config ") + quote((t / "typo.toml").string()),
                             std::string("--energy nuclear --ledger ") + quote((t / "l.db").string()),
                             std::string("--listen nowhere")}) {
        std::string out = sh_out(quote(agent_bin()) + " --no-auth " + args + " --socket " +
                                 quote((t / "s").string()) + " >/dev/null 2>" +
                                 quote((t / "err").string()) + "; echo $?");
        BOOST_TEST(out == "2\n", args << ": " << slurp(t / "err"));
        BOOST_TEST(count_lines(slurp(t / "err")) == 1u, args << ": " << slurp(t / "err"));
    }
}

BOOST_AUTO_TEST_SUITE_END()
