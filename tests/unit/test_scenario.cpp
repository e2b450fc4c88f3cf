#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "tests/unit/support.hpp"

using hearth::Scenario;
using hearth::SiteKind;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

// A tank and a room, one node each.
const char* k_grid = R"(
[[site]]
name = "tank"
kind = "tank"
target = 60
min = 50
max = 70
[site.thermal]
ambient = 15
[[site]]
name = "hall"
kind = "room"
target = 20
min = 10
max = 30
[site.thermal]
outside = 5
[[node]]
name = "n1"
site = "tank"
[[node]]
name = "n2"
site = "hall"
)";

// A scenario directory holding grid.toml.
struct Dir {
    TempDir tmp;
    Dir() { std::ofstream(tmp.file("grid.toml")) << k_grid; }
    Scenario parse(const std::string& body) const {
        return hearth::parse_scenario(body, "sc.toml", tmp.path().string());
    }
};

const std::string k_head = "grid = \"grid.toml\"\nduration = \"1d\"\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(scenario)

BOOST_AUTO_TEST_CASE(a_minimal_scenario_takes_the_defaults) {
    Dir d;
    const Scenario sc = d.parse(k_head);
    BOOST_TEST(sc.name.empty());
    BOOST_TEST(sc.description.empty());
    BOOST_TEST(sc.grid.sites.size() == 2u);
    BOOST_TEST(sc.grid.nodes.size() == 2u);
    BOOST_TEST(sc.start_unix == 1799020800);  // 2027-01-04, a Monday
    BOOST_TEST(sc.duration_s == 86400.0);
    BOOST_TEST(sc.step_s == 60.0);
    BOOST_TEST(!sc.outside.has_value());
    BOOST_TEST(sc.jobs.empty());
    // Without 'outside' the grid file's weather stands.
    BOOST_TEST(sc.grid.sites[1].thermal.outside.value == 5);
}

BOOST_AUTO_TEST_CASE(every_key_is_read) {
    Dir d;
    const Scenario sc = d.parse(R"(
name = "w"
description = "a test week"
grid = "grid.toml"
start = "2027-01-04T06:30:15Z"
duration = "7d"
step = "5m"
outside = -3.5
[[job]]
name = "risk"
tenant = "bank"
arrival = "2h30m"
tasks = 150
task_time = "10m"
deadline = "12h"
urgent = true
cores_per_task = 4
mem_per_task = "6G"
)");
    BOOST_TEST(sc.name == "w");
    BOOST_TEST(sc.description == "a test week");
    BOOST_TEST(sc.start_unix == 1799044215);
    BOOST_TEST(sc.duration_s == 7 * 86400.0);
    BOOST_TEST(sc.step_s == 300.0);
    BOOST_TEST_REQUIRE(sc.outside.has_value());
    BOOST_TEST(sc.outside->value == -3.5);
    BOOST_TEST_REQUIRE(sc.jobs.size() == 1u);
    const auto& j = sc.jobs[0];
    BOOST_TEST(j.name == "risk");
    BOOST_TEST(j.tenant == "bank");
    BOOST_TEST(j.arrival_s == 9000.0);
    BOOST_TEST(j.tasks == 150u);
    BOOST_TEST(j.task_s == 600.0);
    BOOST_TEST(j.deadline_s == 43200.0);
    BOOST_TEST(j.urgent);
    BOOST_TEST(j.cores_per_task == 4u);
    BOOST_TEST(j.mem_per_task == std::uint64_t{6} << 30);
}

BOOST_AUTO_TEST_CASE(cores_and_memory_a_task_are_checked) {
    Dir d;
    const std::string job = k_head + "[[job]]\ntasks = 1\ntask_time = \"1m\"\n";
    BOOST_CHECK_EXCEPTION(
        d.parse(job + "cores_per_task = 0\n"), hearth::Error,
        usage_mentioning("job 1: 'cores_per_task' must be a whole number from 1 to 1024"));
    BOOST_CHECK_EXCEPTION(d.parse(job + "cores_per_task = \"2\"\n"), hearth::Error,
                          usage_mentioning("'cores_per_task'"));
    BOOST_CHECK_EXCEPTION(d.parse(job + "mem_per_task = 8\n"), hearth::Error,
                          usage_mentioning("'mem_per_task' must be a size such as \"8G\""));
    BOOST_CHECK_EXCEPTION(d.parse(job + "mem_per_task = \"8\"\n"), hearth::Error,
                          usage_mentioning("job 1 mem_per_task '8': no unit"));
}

BOOST_AUTO_TEST_CASE(outside_replaces_the_weather_of_rooms_not_tanks) {
    Dir d;
    const Scenario sc = d.parse(k_head + "outside = 12\n");
    BOOST_TEST((sc.grid.sites[0].kind == SiteKind::tank));
    BOOST_TEST(sc.grid.sites[0].thermal.ambient.value == 15);  // a cellar has no weather
    BOOST_TEST(sc.grid.sites[1].thermal.outside.value == 12);
}

BOOST_AUTO_TEST_CASE(job_defaults) {
    Dir d;
    const Scenario sc = d.parse(k_head + "[[job]]\ntasks = 3\ntask_time = \"90s\"\n");
    BOOST_TEST_REQUIRE(sc.jobs.size() == 1u);
    BOOST_TEST(sc.jobs[0].name == "job1");
    BOOST_TEST(sc.jobs[0].tenant == "default");
    BOOST_TEST(sc.jobs[0].arrival_s == 0.0);
    BOOST_TEST(sc.jobs[0].task_s == 90.0);
    BOOST_TEST(sc.jobs[0].deadline_s == 0.0);
    BOOST_TEST(!sc.jobs[0].urgent);
    BOOST_TEST(sc.jobs[0].cores_per_task == 1u);
    BOOST_TEST(sc.jobs[0].mem_per_task == 0u);
}

BOOST_AUTO_TEST_CASE(an_arrival_may_be_at_the_very_start) {
    Dir d;
    for (const char* zero : {"0", "0s", "0m", "0h", "0d"}) {
        const Scenario sc = d.parse(
            k_head + "[[job]]\ntasks = 1\ntask_time = \"1m\"\narrival = \"" + zero + "\"\n");
        BOOST_TEST(sc.jobs.at(0).arrival_s == 0.0, zero);
    }
}

// Found by tests/fuzz (corpus/scenario/zero-task-time): the arrival's "0"
// was accepted for every duration, so a task took no time at all.
BOOST_AUTO_TEST_CASE(only_an_arrival_may_be_zero) {
    Dir d;
    const std::string job = "[[job]]\ntasks = 1\ntask_time = \"1m\"\n";
    for (const char* zero : {"0", "0s", "0m"}) {
        BOOST_TEST_CONTEXT("zero: " << zero) {
            const std::string z = std::string("\"") + zero + "\"\n";
            BOOST_CHECK_EXCEPTION(d.parse(k_head + "[[job]]\ntasks = 1\ntask_time = " + z),
                                  hearth::Error, usage_mentioning("job 1 task_time"));
            BOOST_CHECK_EXCEPTION(d.parse(k_head + job + "deadline = " + z), hearth::Error,
                                  usage_mentioning("job 1 deadline"));
            BOOST_CHECK_EXCEPTION(d.parse(k_head + job + "every = " + z), hearth::Error,
                                  usage_mentioning("job 1 every"));
            BOOST_CHECK_EXCEPTION(d.parse(k_head + "step = " + z), hearth::Error,
                                  usage_mentioning("step"));
            BOOST_CHECK_EXCEPTION(d.parse("grid = \"grid.toml\"\nduration = " + z), hearth::Error,
                                  usage_mentioning("duration"));
        }
    }
}

BOOST_AUTO_TEST_CASE(every_without_count_repeats_to_the_end) {
    Dir d;
    // 1d from 1h, every 6h: 1h 7h 13h 19h.
    const Scenario sc =
        d.parse(k_head +
                "[[job]]\nname = \"r\"\ntasks = 2\ntask_time = \"1m\"\narrival = \"1h\"\n"
                "every = \"6h\"\n");
    BOOST_TEST_REQUIRE(sc.jobs.size() == 4u);
    const std::vector<std::string> names = {"r.1", "r.2", "r.3", "r.4"};
    for (std::size_t k = 0; k < 4; ++k) {
        BOOST_TEST(sc.jobs[k].name == names[k]);
        BOOST_TEST(sc.jobs[k].arrival_s == 3600.0 + 6 * 3600.0 * static_cast<double>(k));
        BOOST_TEST(sc.jobs[k].tasks == 2u);
    }
}

BOOST_AUTO_TEST_CASE(count_limits_the_repeats_and_jobs_are_sorted_by_arrival) {
    Dir d;
    const Scenario sc = d.parse(k_head + R"(
[[job]]
name = "late"
tasks = 1
task_time = "1m"
arrival = "5h"
[[job]]
name = "hourly"
tasks = 1
task_time = "1m"
arrival = "2h"
every = "2h"
count = 3
[[job]]
name = "once"
tasks = 1
task_time = "1m"
every = "1h"
count = 1
)");
    std::vector<std::string> names;
    std::vector<double> arrivals;
    for (const auto& j : sc.jobs) {
        names.push_back(j.name);
        arrivals.push_back(j.arrival_s);
    }
    // One occurrence keeps its name; equal arrivals keep the file's order.
    const std::vector<std::string> want = {"once", "hourly.1", "hourly.2", "late", "hourly.3"};
    BOOST_TEST(names == want, boost::test_tools::per_element());
    const std::vector<double> at = {0, 7200, 14400, 18000, 21600};
    BOOST_TEST(arrivals == at, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_relative_grid_is_found_beside_the_scenario) {
    Dir d;
    std::ofstream(d.tmp.file("sc.toml")) << k_head;
    const Scenario sc = hearth::load_scenario(d.tmp.file("sc.toml"));
    BOOST_TEST(sc.grid.nodes.size() == 2u);
    // ... and an absolute one anywhere.
    const Scenario abs =
        hearth::parse_scenario("grid = \"" + d.tmp.file("grid.toml") + "\"\nduration = \"1h\"\n",
                               "x.toml", "/nonexistent");
    BOOST_TEST(abs.grid.sites.size() == 2u);
}

BOOST_AUTO_TEST_CASE(bad_scenarios_are_refused_with_the_fix) {
    Dir d;
    const std::string job = "[[job]]\ntasks = 3\ntask_time = \"1m\"\n";
    struct Bad {
        std::string text, needle;
    };
    const std::vector<Bad> bad = {
        {"duration = \"1d\"\n", "'grid' (the grid file) is required"},
        {"grid = \"grid.toml\"\n", "'duration' is required"},
        {"grid = \"nope.toml\"\nduration = \"1d\"\n", "nope.toml"},
        {"grid = \"grid.toml\"\nduration = \"a week\"\n", "a week"},
        {"grid = \"grid.toml\"\nduration = 7\n", "must be a duration string"},
        {k_head + "colour = \"blue\"\n", "unknown key 'colour'"},
        {k_head + "step = \"2h\"\n", "step must be between 1s and 1h"},
        {k_head + "step = \"500ms\"\n", "step must be between 1s and 1h"},
        {"grid = \"grid.toml\"\nduration = \"400d\"\n", "at most 366d"},
        {k_head + "outside = 80\n", "'outside' must be a temperature"},
        {k_head + "outside = \"cold\"\n", "'outside' must be a temperature"},
        {k_head + "start = \"next monday\"\n", "is not a UTC time"},
        {k_head + "name = [\n", "fix the TOML syntax"},
        {k_head + "[[job]]\ntask_time = \"1m\"\n", "'tasks' must be an integer"},
        {k_head + "[[job]]\ntasks = 0\ntask_time = \"1m\"\n", "'tasks' must be an integer"},
        {k_head + "[[job]]\ntasks = 2.5\ntask_time = \"1m\"\n", "'tasks' must be an integer"},
        {k_head + "[[job]]\ntasks = 3\n", "'task_time' is required"},
        {k_head + "[[job]]\ntasks = 3\ntask_time = \"soon\"\n", "job 1 task_time"},
        {k_head + job + "count = 3\n", "'count' above 1 needs 'every'"},
        {k_head + job + "every = \"1h\"\ncount = 0\n", "'count' must be from 1 to 100000"},
        {k_head + job + "every = \"1h\"\ncount = 100001\n", "'count' must be from 1 to 100000"},
        {k_head + job + "weight = 1\n", "job 1: unknown key 'weight'"},
        {k_head + job + "priority = 1001\n", "job 1: 'priority' must be a whole number from -1000 to 1000"},
        {k_head + job + "priority = 1.5\n", "job 1: 'priority' must be a whole number"},
        {k_head + job + "priority = \"high\"\n", "job 1: 'priority' must be a whole number"},
        {k_head + "usage_half_life = \"never\"\n", "usage_half_life"},
        {k_head + "[[tenant]]\nname = \"bank\"\n" + job,
         "job 1: tenant 'default' is not in the tenant table; name one of bank or add a [[tenant]]"},
        {k_head + "[[tenant]]\nname = \"bank\"\nshare = 0\n", "sc.toml:5: tenant 'bank': 'share' 0"},
        {k_head + job + "name = \"../etc\"\n", "name and tenant must be"},
        {k_head + job + "tenant = \"a b\"\n", "name and tenant must be"},
        {k_head + job + job + "deadline = \"tomorrow\"\n", "job 2 deadline"},
    };
    for (const auto& b : bad) {
        BOOST_TEST_CONTEXT(b.text) {
            BOOST_CHECK_EXCEPTION(d.parse(b.text), hearth::Error, usage_mentioning(b.needle));
        }
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_key_message_lists_the_valid_ones) {
    Dir d;
    BOOST_CHECK_EXCEPTION(
        d.parse(k_head + "[[job]]\ntasks = 1\ntask_time = \"1m\"\ncont = 2\n"), hearth::Error,
        usage_mentioning("valid keys: arrival cores_per_task count deadline "
                         "every gpus_per_task mem_per_task name priority task_time "
                         "tasks tenant urgent"));
}

BOOST_AUTO_TEST_CASE(a_missing_scenario_file_names_the_path) {
    BOOST_CHECK_EXCEPTION(hearth::load_scenario("/nonexistent/sc.toml"), hearth::Error,
                          usage_mentioning("cannot read scenario /nonexistent/sc.toml"));
}

BOOST_AUTO_TEST_CASE(jobs_carry_a_tenant_and_a_priority_and_a_scenario_may_set_shares) {
    Dir d;
    const Scenario sc = d.parse(k_head +
                                "usage_half_life = \"2h\"\n"
                                "[[tenant]]\nname = \"bank\"\nshare = 3\nmax_running = 5\n"
                                "[[tenant]]\nname = \"studio\"\n"
                                "[[job]]\ntenant = \"bank\"\ntasks = 1\ntask_time = \"1m\"\npriority = -7\n"
                                "[[job]]\ntenant = \"studio\"\ntasks = 1\ntask_time = \"1m\"\n");
    BOOST_TEST(sc.usage_half_life_s == 7200.0);
    BOOST_TEST_REQUIRE(sc.grid.tenants.size() == 2u);
    BOOST_TEST(sc.grid.tenants[0].name == "bank");
    BOOST_TEST(sc.grid.tenants[0].share == 3.0);
    BOOST_TEST(sc.grid.tenants[0].max_running == 5u);
    BOOST_TEST_REQUIRE(sc.jobs.size() == 2u);
    BOOST_TEST(sc.jobs[0].tenant == "bank");
    BOOST_TEST(sc.jobs[0].priority == -7);
    BOOST_TEST(sc.jobs[1].priority == 0);
    // Without a table: no tenants, any tenant name, a week's half-life.
    const Scenario plain = d.parse(k_head + "[[job]]\ntenant = \"Anyone\"\ntasks = 1\ntask_time = \"1m\"\n");
    BOOST_TEST(plain.grid.tenants.empty());
    BOOST_TEST(plain.usage_half_life_s == 7 * 86400.0);
}

BOOST_AUTO_TEST_SUITE_END()
