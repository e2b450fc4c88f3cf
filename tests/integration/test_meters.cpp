// Node meters with grid-agent as a real daemon: a fake hwmon tree under
// --fsroot (an ACPI power_meter whose power or energy counter the test
// drives; /proc is the real one), the ledger read back with the sqlite3 shell.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <regex>

#include "harness.hpp"

using namespace hearth::test;

namespace {

// An ACPI power meter as acpi_power_meter shows it, its values changed in
// place (set_attribute) as the kernel's are.
struct FakeMeter {
    fs::path dir;
    explicit FakeMeter(const fs::path& root) : dir(root / "sys/class/hwmon/hwmon3") {
        fs::create_directories(dir);
        fs::create_directories(root / "sys/class/hwmon/hwmon0");
        std::ofstream(root / "sys/class/hwmon/hwmon0/name") << "coretemp\n";
        std::ofstream(dir / "name") << "power_meter\n";
        std::ofstream(dir / "power1_average_interval") << "1000\n";
        set("power1_average", 150'000'000);
        if (!fs::exists(root / "proc")) fs::create_directory_symlink("/proc", root / "proc");
    }
    void set(const std::string& file, std::uint64_t v) { set_attribute(dir / file, v); }
};

struct MeterAgent {
    pid_t pid = -1;
    std::string ledger;
    fs::path dir;
    MeterAgent(const fs::path& d, const fs::path& fsroot, const std::string& extra = "") : dir(d) {
        ledger = (d / "ledger.db").string();
        std::string cmd = "exec " + quote(agent_bin()) +
                          " --node n1 --site pool --listen 127.0.0.1:0 --no-auth --socket " +
                          quote((d / "agent.sock").string()) + " --ledger " + quote(ledger) +
                          " --fsroot " + quote(fsroot.string()) + " --rate 20 " + extra + " 2>>" +
                          quote((d / "agent.log").string());
        std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                                   cmd.data(), nullptr};
        ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
        bool up = wait_for(
            [&] { return slurp(d / "agent.log").find("http 127.0.0.1:") != std::string::npos; },
            std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(up, "grid-agent did not start: " + slurp(d / "agent.log"));
    }
    int stop() {
        ::kill(pid, SIGTERM);
        return wait_exit(pid);
    }
    std::string log() const { return slurp(dir / "agent.log"); }
};

std::string sql(const std::string& db, const std::string& query) {
    return sh_out("sqlite3 " + quote(db) + " " + quote(query));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(meters)

BOOST_AUTO_TEST_CASE(probe_shows_the_node_meter_with_its_reading) {
    TempDir t;
    FakeMeter meter(t / "root");
    std::string out =
        sh_out(quote(agent_bin()) + " --probe --fsroot " + quote((t / "root").string()) + " 2>&1");
    BOOST_TEST(out.find("available    hwmon: power_meter (hwmon3): 150 W from power1_average "
                        "(averaged over 1 s), integrated between reads") != std::string::npos,
               out);
    BOOST_TEST(out.find("energy source: hwmon (power_meter power1_average)") != std::string::npos,
               out);
    // The GPU source is compiled in and probed; without a driver it says so.
    if (out.find("available    nvml") == std::string::npos)
        BOOST_TEST(out.find("unavailable  nvml: no NVIDIA driver") != std::string::npos, out);
    // A meter whose file holds garbage: unavailable, the file named, the model used.
    std::ofstream(meter.dir / "power1_average") << "ERROR\n";
    out =
        sh_out(quote(agent_bin()) + " --probe --fsroot " + quote((t / "root").string()) + " 2>&1");
    BOOST_TEST(out.find("unavailable  hwmon: node power meter found but unreadable: power_meter "
                        "(hwmon3) power1_average: unparsable value 'ERROR'") != std::string::npos,
               out);
    BOOST_TEST(out.find("energy source: model") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(ledger_total_is_the_meters_power_integrated) {
    TempDir t;
    FakeMeter meter(t / "root");
    MeterAgent agent(t.path, t / "root");
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    BOOST_TEST(agent.stop() == 0);
    BOOST_TEST(
        agent.log().find("energy source: hwmon (power_meter power1_average)") != std::string::npos,
        agent.log());
    // 150 W over the span the intervals cover (the agent's first read starts it).
    const double uj = std::stod(sql(agent.ledger, "SELECT sum(energy_uj) FROM intervals"));
    const double ms = std::stod(sql(agent.ledger, "SELECT max(t1_ms) - min(t0_ms) FROM intervals"));
    const double fed = 150.0 * ms * 1000.0;
    BOOST_TEST(ms > 1500.0);
    BOOST_TEST(std::abs(uj - fed) <= fed * 0.005, "ledger " << uj << " uJ, fed " << fed << " uJ");
    BOOST_TEST(sql(agent.ledger, "SELECT DISTINCT source FROM intervals") == "hwmon\n");
    BOOST_TEST(sql(agent.ledger, "SELECT sum(estimated) FROM intervals") == "0\n");
}

BOOST_AUTO_TEST_CASE(ledger_total_is_exactly_what_the_wrapping_counter_advanced) {
    TempDir t;
    FakeMeter meter(t / "root");
    const std::uint64_t wrap = std::uint64_t{1} << 32;
    std::uint64_t raw = wrap - 20'000'000;  // wraps within the first second
    meter.set("energy1_input", raw);
    MeterAgent agent(t.path, t / "root");
    std::uint64_t added = 0;
    std::atomic<bool> feeding{true};
    std::thread feeder([&] {
        while (feeding) {  // 100 W in 10 ms steps
            raw = (raw + 1'000'000) % wrap;
            added += 1'000'000;
            meter.set("energy1_input", raw);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    feeding = false;
    feeder.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_TEST(agent.stop() == 0);
    BOOST_TEST(
        agent.log().find("energy source: hwmon (power_meter energy1_input)") != std::string::npos,
        agent.log());
    BOOST_TEST(std::stoull(sql(agent.ledger, "SELECT sum(energy_uj) FROM intervals")) == added);
    BOOST_TEST(std::stoull(sql(agent.ledger, "SELECT sum(static_uj+dynamic_uj) FROM charges")) ==
               added);
    BOOST_TEST(sql(agent.ledger, "SELECT DISTINCT meter FROM intervals") ==
               "power_meter (hwmon3) energy1_input\n");
    // hearth energy: every joule measured, by the node meter.
    Result rep = run_hearth({"energy", "--ledger", agent.ledger}, t.path);
    BOOST_REQUIRE_EQUAL(rep.code, 0);
    BOOST_TEST(rep.out.find("measured 100.0%, estimated 0.0% (source: hwmon)") != std::string::npos,
               rep.out);
    rep = run_hearth({"energy", "--ledger", agent.ledger, "--format", "json"}, t.path);
    auto j = nlohmann::json::parse(rep.out);
    BOOST_TEST(j["measured_uj"].get<std::uint64_t>() == added);
    BOOST_TEST(j["estimated_uj"].get<std::uint64_t>() == 0u);
    BOOST_TEST(j["sources"] == nlohmann::json::array({"hwmon"}));
}

// One site with a static heat source (below its band: all heat useful).
std::string recovery_grid(const std::string& recovery) {
    return "[[site]]\nname = \"dhw\"\nkind = \"tank\"\ntarget = 60\nmin = 55\nmax = 70\n" +
           recovery +
           "\n[site.source]\ntype = \"static\"\nmeasured = 50\n"
           "[[node]]\nname = \"n1\"\nsite = \"dhw\"\nslots = 2\n";
}

BOOST_AUTO_TEST_CASE(heat_delivered_is_the_metered_energy_times_the_sites_recovery) {
    TempDir t;
    FakeMeter meter(t / "root");
    std::uint64_t raw = 1'000'000;
    meter.set("energy1_input", raw);
    std::ofstream(t / "grid.toml") << recovery_grid("recovery = 0.95");
    MeterAgent agent(t.path, t / "root", "--grid " + quote((t / "grid.toml").string()));
    std::smatch m;
    const std::string log = agent.log();
    BOOST_REQUIRE(std::regex_search(log, m, std::regex("http 127\\.0\\.0\\.1:([0-9]+)")));
    const std::string url = "http://127.0.0.1:" + m[1].str() + "/v1/heat";
    for (int i = 0; i < 50; ++i) {  // 100 W for half a second, then the node stops drawing
        raw += 1'000'000;
        meter.set("energy1_input", raw);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto heat = nlohmann::json::parse(sh_out("curl -s --noproxy '*' " + quote(url)));
    BOOST_TEST(agent.stop() == 0);  // writes the last group of intervals
    const auto node_uj = std::stoull(sql(agent.ledger, "SELECT sum(energy_uj) FROM intervals"));
    BOOST_TEST(node_uj == 50'000'000u);
    BOOST_TEST(heat["recovery"].get<double>() == 0.95);
    BOOST_TEST(std::abs(heat["today_kwh"].get<double>() * 3.6e12 - 0.95 * 50e6) < 1.0, heat.dump());
    // Useful once the control step has read the site below its band.
    BOOST_TEST(heat["today_useful_kwh"].get<double>() > 0);
    BOOST_TEST(heat["today_useful_kwh"].get<double>() <= heat["today_kwh"].get<double>());
}

BOOST_AUTO_TEST_CASE(a_recovery_outside_its_bounds_is_refused_with_file_and_line) {
    TempDir t;
    FakeMeter meter(t / "root");
    std::ofstream(t / "grid.toml") << recovery_grid("recovery = 1.2");
    int code = 0;
    std::string out =
        sh_out(quote(agent_bin()) + " --node n1 --no-auth --grid " +
                   quote((t / "grid.toml").string()) + " --fsroot " + quote((t / "root").string()) +
                   " --ledger " + quote((t / "l.db").string()) + " 2>&1",
               &code);
    BOOST_TEST(code == 2);
    BOOST_TEST(
        out.find("grid.toml:7: site 'dhw': 'recovery' 1.2 is out of range") != std::string::npos,
        out);
    BOOST_TEST(!fs::exists(t / "l.db"));
}

// A node meter with RAPL beside it: the ledger's intervals are the meter's
// energy; RAPL's part is charged by activity (here the house's dynamic part,
// no task being registered: exactly what the zone's counter advanced) and the
// platform overhead by reservation (the house's static part).
BOOST_AUTO_TEST_CASE(rapl_splits_the_node_meter_into_parts) {
    TempDir t;
    FakeMeter meter(t / "root");
    const fs::path zone = t / "root/sys/class/powercap/intel-rapl:0";
    fs::create_directories(zone);
    std::ofstream(zone / "name") << "package-0\n";
    std::ofstream(zone / "max_energy_range_uj") << "262143328850\n";
    std::uint64_t rapl = 1'000'000'000;
    const auto set_rapl = [&] { set_attribute(zone / "energy_uj", rapl); };
    set_rapl();
    const std::string probe =
        sh_out(quote(agent_bin()) + " --probe --fsroot " + quote((t / "root").string()) + " 2>&1");
    BOOST_TEST(
        probe.find("energy source: hwmon (power_meter power1_average), split into parts by "
                   "powercap (package-0): they are charged by activity, the rest of the "
                   "node's energy (the platform overhead) by reservation") != std::string::npos,
        probe);

    MeterAgent agent(t.path, t / "root");
    // RAPL at about 50 W (2.5 J every 50 ms) under the meter's 150 W.
    std::uint64_t fed = 0;
    for (int i = 0; i < 40; ++i) {
        rapl += 2'500'000;
        fed += 2'500'000;
        set_rapl();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the last step is read
    BOOST_TEST(agent.stop() == 0);
    BOOST_TEST(sql(agent.ledger, "SELECT DISTINCT source FROM intervals") == "hwmon+powercap\n");
    BOOST_TEST(sql(agent.ledger, "SELECT DISTINCT meter FROM intervals") ==
               "power_meter (hwmon3) power1_average (integrated)+package-0\n");
    const double uj = std::stod(sql(agent.ledger, "SELECT sum(energy_uj) FROM intervals"));
    const double ms = std::stod(sql(agent.ledger, "SELECT max(t1_ms) - min(t0_ms) FROM intervals"));
    const double metered = 150.0 * ms * 1000.0;
    BOOST_TEST(std::abs(uj - metered) <= metered * 0.005,
               "ledger " << uj << " uJ, meter " << metered << " uJ");
    BOOST_TEST(sql(agent.ledger,
                   "SELECT count(*) FROM intervals i WHERE energy_uj != (SELECT "
                   "sum(static_uj + dynamic_uj) FROM charges c WHERE "
                   "c.interval_id = i.id)") == "0\n");
    BOOST_TEST(sql(agent.ledger, "SELECT sum(dynamic_uj) FROM charges") ==
               std::to_string(fed) + "\n");
    BOOST_TEST_MESSAGE("meter split: " << uj << " uJ metered, " << fed << " uJ RAPL, overhead "
                                       << uj - static_cast<double>(fed) << " uJ");
}

BOOST_AUTO_TEST_SUITE_END()
