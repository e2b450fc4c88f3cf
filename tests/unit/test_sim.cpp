#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "core/sim.hpp"
#include "tests/unit/support.hpp"

using hearth::Scenario;
using hearth::SimPolicy;
using hearth::SimResult;
using hearth::simulate;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

constexpr double k_j_per_kwh = 3.6e6;

// A room site. A capacity of 1e12 J/K keeps its temperature where it starts,
// so that the controller's mode cannot change during a test.
std::string room(const std::string& name, double target, double initial, double outside = 0,
                 double capacity = 1e12, double resistance = 1, double max = 40,
                 const std::string& schedule = "") {
    std::ostringstream s;
    s << "[[site]]\nname = \"" << name << "\"\nkind = \"room\"\ntarget = " << target
      << "\nmin = 5\nmax = " << max << "\nband = 1\n";
    if (!schedule.empty()) s << "schedule = \"" << schedule << "\"\n";
    s << "[site.thermal]\ncapacity_j_per_k = " << capacity
      << "\nresistance_k_per_w = " << resistance << "\noutside = " << outside
      << "\ninitial = " << initial << "\n";
    return s.str();
}

std::string node(const std::string& name, const std::string& site, int slots, double idle,
                 double max) {
    std::ostringstream s;
    s << "[[node]]\nname = \"" << name << "\"\nsite = \"" << site << "\"\nslots = " << slots
      << "\nidle_watts = " << idle << "\nmax_watts = " << max << "\n";
    return s.str();
}

std::string job(const std::string& name, int tasks, const std::string& task_time,
                const std::string& extra = "") {
    return "[[job]]\nname = \"" + name + "\"\ntasks = " + std::to_string(tasks) +
           "\ntask_time = \"" + task_time + "\"\n" + extra;
}

// A grid file and a scenario in a temporary directory, parsed the way
// `hearth sim` reads them.
Scenario scenario(const std::string& grid, const std::string& duration, const std::string& jobs,
                  const std::string& head = "") {
    TempDir tmp;
    std::ofstream(tmp.file("grid.toml")) << grid;
    const std::string text = "name = \"t\"\ngrid = \"grid.toml\"\nduration = \"" + duration +
                             "\"\nstep = \"60s\"\n" + head + jobs;
    return hearth::parse_scenario(text, "t.toml", tmp.path().string());
}

bool close_rel(double a, double b, double rel = 1e-9) {
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sim)

BOOST_AUTO_TEST_CASE(policy_names) {
    BOOST_TEST((hearth::parse_policy("heat-aware") == SimPolicy::heat_aware));
    BOOST_TEST((hearth::parse_policy("unaware") == SimPolicy::unaware));
    BOOST_TEST(std::string(hearth::to_string(SimPolicy::heat_aware)) == "heat-aware");
    BOOST_TEST(std::string(hearth::to_string(SimPolicy::unaware)) == "unaware");
    BOOST_CHECK_EXCEPTION(hearth::parse_policy("greedy"), hearth::Error,
                          usage_mentioning("unknown policy 'greedy'"));
}

BOOST_AUTO_TEST_CASE(energy_is_idle_power_plus_the_work_done) {
    // One cold site (open budget), one node of 2 slots, 10 W idle and 100 W
    // per busy slot; 3 tasks of 30 min: 5400 slot-seconds of work in 1 h.
    const Scenario sc =
        scenario(room("cold", 20, 5) + node("n", "cold", 2, 10, 210), "2h", job("j", 3, "30m"));
    for (auto p : {SimPolicy::heat_aware, SimPolicy::unaware}) {
        BOOST_TEST_CONTEXT(hearth::to_string(p)) {
            const SimResult r = simulate(sc, p);
            const double want_j = 10.0 * 7200 + 100.0 * 5400;
            BOOST_TEST(r.simulated_s == 7200.0);
            BOOST_TEST(r.steps == 120u);
            BOOST_TEST(close_rel(r.delivered_kwh * k_j_per_kwh, want_j));
            BOOST_TEST(close_rel(r.sites.at(0).delivered_kwh * k_j_per_kwh, want_j));
            BOOST_TEST(close_rel(r.useful_kwh, r.delivered_kwh));  // all wanted
            BOOST_TEST(r.wasted_kwh == 0.0);
            BOOST_TEST(r.useful_fraction == 1.0);
            BOOST_TEST(r.tasks_total == 3u);
            BOOST_TEST(r.tasks_done == 3u);
            BOOST_TEST(r.makespan_s == 3600.0);  // two waves of 30 min
            BOOST_TEST_REQUIRE(r.jobs.size() == 1u);
            BOOST_TEST(r.jobs[0].finish_s == 3600.0);
            BOOST_TEST(!r.jobs[0].missed);
            BOOST_TEST(r.requeues == 0u);
            BOOST_TEST(r.override_kwh == 0.0);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_task_of_two_cores_holds_two_slots_and_draws_their_power) {
    // One node of 4 slots (cores), 10 W idle and 100 W a busy slot. 4 tasks
    // of 30 min and 2 cores: two at once, in two waves, every slot busy.
    const std::string grid = room("cold", 20, 5) + node("n", "cold", 4, 10, 410);
    const Scenario sc = scenario(grid, "2h", job("j", 4, "30m", "cores_per_task = 2\n"));
    for (auto p : {SimPolicy::heat_aware, SimPolicy::unaware}) {
        BOOST_TEST_CONTEXT(hearth::to_string(p)) {
            const SimResult r = simulate(sc, p);
            BOOST_TEST(r.tasks_done == 4u);
            BOOST_TEST(r.makespan_s == 3600.0);  // 1-core tasks would take one wave
            BOOST_TEST(r.core_s == 4 * 2 * 1800.0);
            BOOST_TEST(close_rel(r.delivered_kwh * k_j_per_kwh, 10.0 * 7200 + 4 * 100.0 * 3600));
            BOOST_TEST(r.jobs.at(0).cores_per_task == 2u);
        }
    }
    // Memory: 3 GiB a task on a node of 8 GiB runs two at once, not four.
    const std::string small =
        room("cold", 20, 5) + node("n", "cold", 8, 10, 810) + "memory = \"8G\"\n";
    const SimResult m =
        simulate(scenario(small, "2h", job("j", 4, "30m", "mem_per_task = \"3G\"\n")),
                 SimPolicy::heat_aware);
    BOOST_TEST(m.tasks_done == 4u);
    BOOST_TEST(m.makespan_s == 3600.0);
    const std::string json = hearth::format_sim_json(m);
    BOOST_TEST(json.find("\"core_hours_done\":2.0") != std::string::npos, json);
}

BOOST_AUTO_TEST_CASE(a_gpu_task_runs_only_where_its_gpu_is_free) {
    // A node of 4 cores and 1 GPU: 4 one-GPU tasks of 30 min run one at a
    // time (four waves), though its cores could take them all at once.
    const std::string one = room("cold", 20, 5) + node("n", "cold", 4, 10, 410) + "gpus = 1\n";
    const SimResult a = simulate(scenario(one, "3h", job("j", 4, "30m", "gpus_per_task = 1\n")),
                                 SimPolicy::heat_aware);
    BOOST_TEST(a.tasks_done == 4u);
    BOOST_TEST(a.makespan_s == 4 * 1800.0);
    // A CPU node (gpus = 0) beside a node of 2 GPUs: every task on the
    // latter, two at a time; a job without GPUs still uses both.
    const std::string two = room("cold", 20, 5) + node("cpu", "cold", 4, 10, 410) + "gpus = 0\n" +
                            node("gpu", "cold", 4, 10, 410) + "gpus = 2\n";
    const SimResult b = simulate(scenario(two, "3h", job("j", 4, "30m", "gpus_per_task = 1\n")),
                                 SimPolicy::heat_aware);
    BOOST_TEST(b.tasks_done == 4u);
    BOOST_TEST(b.makespan_s == 2 * 1800.0);
    const SimResult c = simulate(scenario(two, "3h", job("j", 8, "30m")), SimPolicy::heat_aware);
    BOOST_TEST(c.makespan_s == 1800.0);
    BOOST_CHECK_EXCEPTION(scenario(two, "3h", job("j", 4, "30m", "gpus_per_task = -1\n")),
                          hearth::Error,
                          usage_mentioning("'gpus_per_task' must be a whole number"));
}

BOOST_AUTO_TEST_CASE(heat_delivered_is_the_node_energy_times_the_sites_recovery) {
    std::string site = room("cold", 20, 5);
    site.insert(site.find("band = 1\n"), "recovery = 0.95\n");
    const Scenario sc = scenario(site + node("n", "cold", 2, 10, 210), "2h", job("j", 3, "30m"));
    BOOST_TEST(sc.grid.sites.at(0).recovery == 0.95);
    const SimResult r = simulate(sc, SimPolicy::heat_aware);
    const double node_j = 10.0 * 7200 + 100.0 * 5400;  // as above: the work is the same
    BOOST_TEST(close_rel(r.sites.at(0).node_kwh * k_j_per_kwh, node_j));
    BOOST_TEST(close_rel(r.sites.at(0).delivered_kwh * k_j_per_kwh, 0.95 * node_j));
    BOOST_TEST(close_rel(r.delivered_kwh * k_j_per_kwh, 0.95 * node_j));
    BOOST_TEST(close_rel(r.useful_kwh, r.delivered_kwh));
}

BOOST_AUTO_TEST_CASE(useful_and_wasted_add_up_to_the_heat_delivered) {
    // A small room that the unaware policy overheats into its dump.
    const std::string grid = room("hall", 20, 15, 10, 2e5, 0.1, 30) + node("n", "hall", 4, 50, 450);
    const Scenario sc = scenario(grid, "12h", job("j", 10000, "1m"));
    for (auto p : {SimPolicy::heat_aware, SimPolicy::unaware}) {
        BOOST_TEST_CONTEXT(hearth::to_string(p)) {
            const SimResult r = simulate(sc, p);
            BOOST_TEST(r.delivered_kwh > 0);
            BOOST_TEST(close_rel(r.useful_kwh + r.wasted_kwh, r.delivered_kwh));
            const auto& s = r.sites.at(0);
            BOOST_TEST(close_rel(s.useful_kwh + s.wasted_kwh, s.delivered_kwh));
            BOOST_TEST(close_rel(r.useful_fraction, r.useful_kwh / r.delivered_kwh));
            BOOST_TEST(close_rel(r.gas_co2_kg, r.useful_kwh * 0.2));  // the grid's default factor
        }
    }
    const SimResult u = simulate(sc, SimPolicy::unaware);
    BOOST_TEST(u.wasted_kwh > 0);
    BOOST_TEST(u.sites[0].dumped_kwh > 0);
    BOOST_TEST(u.sites[0].final_c == 30.0);  // held at its maximum by the dump
    BOOST_TEST(u.max_overshoot_c == 10.0);
    const SimResult a = simulate(sc, SimPolicy::heat_aware);
    BOOST_TEST(a.sites[0].dumped_kwh == 0.0);
    BOOST_TEST(a.useful_fraction > u.useful_fraction);
    BOOST_TEST(a.max_overshoot_c <= 1.5);
    BOOST_TEST(std::fabs(a.sites[0].final_c - 20) <= 1.0);
}

BOOST_AUTO_TEST_CASE(heat_the_dump_rejects_is_the_heat_the_site_could_not_store) {
    // A lossless 100 L tank from 50 C, capped at 60 C: whatever the node
    // delivers beyond 10 K of warming goes to the dump.
    const std::string grid =
        "[[site]]\nname = \"tank\"\nkind = \"tank\"\ntarget = 55\nmin = 50\nmax = 60\n"
        "[site.thermal]\nvolume_litres = 100\nloss_w_per_k = 0\ninitial = 50\n" +
        node("n", "tank", 1, 100, 1100);
    const Scenario sc = scenario(grid, "2h", job("j", 1, "2h"));
    const SimResult r = simulate(sc, SimPolicy::unaware);
    const double delivered_j = 1100.0 * 7200;
    const double stored_j = 100 * 4186.0 * 10;
    BOOST_TEST(close_rel(r.delivered_kwh * k_j_per_kwh, delivered_j));
    BOOST_TEST(close_rel(r.sites[0].dumped_kwh * k_j_per_kwh, delivered_j - stored_j, 1e-6));
    BOOST_TEST(r.sites[0].final_c == 60.0);
}

BOOST_AUTO_TEST_CASE(unaware_dispatch_never_leaves_a_slot_idle_while_work_waits) {
    // A site above its band: heat-aware dispatch runs nothing there, unaware
    // fills all 6 slots: 12 tasks of 10 min in exactly two waves.
    const std::string grid = room("warm", 20, 25, 25) + node("a", "warm", 1, 10, 110) +
                             node("b", "warm", 2, 20, 220) + node("c", "warm", 3, 30, 330);
    const Scenario sc = scenario(grid, "1h", job("j", 12, "10m"));
    const SimResult u = simulate(sc, SimPolicy::unaware);
    BOOST_TEST(u.tasks_done == 12u);
    BOOST_TEST(u.makespan_s == 1200.0);
    BOOST_TEST(close_rel(u.delivered_kwh * k_j_per_kwh, 60.0 * 3600 + 600.0 * 1200));
    BOOST_TEST(u.useful_kwh == 0.0);  // the site never wanted it
    BOOST_TEST(u.useful_fraction == 0.0);

    const SimResult a = simulate(sc, SimPolicy::heat_aware);
    BOOST_TEST(a.tasks_done == 0u);
    BOOST_TEST(a.makespan_s == -1.0);
    BOOST_TEST(!a.jobs.at(0).missed);  // no deadline, nothing missed
    BOOST_TEST(close_rel(a.delivered_kwh * k_j_per_kwh, 60.0 * 3600));  // idle only
}

BOOST_AUTO_TEST_CASE(unaware_dispatch_keeps_every_slot_busy_as_work_arrives) {
    // Work arriving every 20 min, more than the slots: a slot never idles,
    // so the dynamic energy is all slots busy the whole time.
    const std::string grid =
        room("warm", 20, 25, 25) + node("a", "warm", 2, 0, 200) + node("b", "warm", 3, 0, 300);
    const Scenario sc = scenario(grid, "2h", job("j", 12, "10m", "every = \"20m\"\ncount = 6\n"));
    const SimResult u = simulate(sc, SimPolicy::unaware);
    BOOST_TEST(close_rel(u.delivered_kwh * k_j_per_kwh, 5 * 100.0 * 7200));
    BOOST_TEST(u.tasks_done == 5u * 12);  // 12 waves of 5 slots in 2 h
}

BOOST_AUTO_TEST_CASE(heat_aware_dispatch_sends_work_to_the_colder_site_first) {
    // Both sites below their band, the colder listed second.
    const std::string grid = room("warmer", 20, 17) + room("colder", 20, 10) +
                             node("w", "warmer", 1, 10, 110) + node("c", "colder", 1, 10, 110);
    const Scenario sc = scenario(grid, "1h", job("j", 1, "30m"));
    const double idle_j = 10.0 * 3600, task_j = 100.0 * 1800;

    const SimResult a = simulate(sc, SimPolicy::heat_aware);
    BOOST_TEST(close_rel(a.sites.at(0).delivered_kwh * k_j_per_kwh, idle_j));
    BOOST_TEST(close_rel(a.sites.at(1).delivered_kwh * k_j_per_kwh, idle_j + task_j));
    // Unaware dispatch takes the nodes in grid order.
    const SimResult u = simulate(sc, SimPolicy::unaware);
    BOOST_TEST(close_rel(u.sites.at(0).delivered_kwh * k_j_per_kwh, idle_j + task_j));
    BOOST_TEST(close_rel(u.sites.at(1).delivered_kwh * k_j_per_kwh, idle_j));

    // With work for both, both get it.
    const SimResult both =
        simulate(scenario(grid, "1h", job("j", 2, "30m")), SimPolicy::heat_aware);
    BOOST_TEST(close_rel(both.sites.at(0).delivered_kwh * k_j_per_kwh, idle_j + task_j));
    BOOST_TEST(close_rel(both.sites.at(1).delivered_kwh * k_j_per_kwh, idle_j + task_j));
    BOOST_TEST(both.makespan_s == 1800.0);
}

BOOST_AUTO_TEST_CASE(a_deadline_the_budgets_cannot_meet_gets_overrides) {
    // The only site is above its band: its budget is closed. 4 tasks of
    // 10 min due in 30 min need ceil(4 x 600 x 1.1 / 1800) = 2 slots at first.
    const std::string grid = room("warm", 20, 25, 25) + node("n", "warm", 4, 20, 420);
    const Scenario sc = scenario(grid, "1h", job("bank", 4, "10m", "deadline = \"30m\"\n"));
    const SimResult r = simulate(sc, SimPolicy::heat_aware);
    BOOST_TEST_REQUIRE(r.jobs.size() == 1u);
    BOOST_TEST(r.jobs[0].done == 4u);
    BOOST_TEST(r.jobs[0].finish_s > 0);
    BOOST_TEST(r.jobs[0].finish_s <= 1800.0);
    BOOST_TEST(r.jobs[0].deadline_s == 1800.0);
    BOOST_TEST(!r.jobs[0].missed);
    BOOST_TEST(r.jobs[0].feasible);
    BOOST_TEST(r.deadline_misses == 0u);
    // Every slot-second of the job ran past the budget: 4 x 600 s at 100 W,
    // all of it where heat was not wanted.
    const double override_j = 4 * 600 * 100.0;
    BOOST_TEST(close_rel(r.override_kwh * k_j_per_kwh, override_j));
    BOOST_TEST(close_rel(r.override_wasted_kwh, r.override_kwh));
    BOOST_TEST(close_rel(r.delivered_kwh * k_j_per_kwh, 20.0 * 3600 + override_j));

    // Without the deadline the budget holds and nothing runs.
    const SimResult lax =
        simulate(scenario(grid, "1h", job("bank", 4, "10m")), SimPolicy::heat_aware);
    BOOST_TEST(lax.tasks_done == 0u);
    BOOST_TEST(lax.override_kwh == 0.0);
}

BOOST_AUTO_TEST_CASE(urgent_work_opens_every_slot) {
    const std::string grid = room("warm", 20, 25, 25) + node("n", "warm", 4, 20, 420);
    const Scenario sc = scenario(grid, "1h", job("stress", 8, "10m", "urgent = true\n"));
    const SimResult r = simulate(sc, SimPolicy::heat_aware);
    BOOST_TEST(r.jobs.at(0).finish_s == 1200.0);
    BOOST_TEST(r.jobs.at(0).urgent);
    BOOST_TEST(!r.jobs.at(0).missed);
    BOOST_TEST(close_rel(r.override_kwh * k_j_per_kwh, 4 * 100.0 * 1200));
}

BOOST_AUTO_TEST_CASE(urgent_work_left_at_the_end_is_a_miss) {
    const std::string grid = room("warm", 20, 25, 25) + node("n", "warm", 1, 20, 120);
    const SimResult r = simulate(scenario(grid, "1h", job("stress", 8, "10m", "urgent = true\n")),
                                 SimPolicy::heat_aware);
    BOOST_TEST(r.jobs.at(0).done == 6u);
    BOOST_TEST(r.jobs.at(0).finish_s == -1.0);
    BOOST_TEST(r.jobs.at(0).missed);
    BOOST_TEST(r.deadline_misses == 1u);
    BOOST_TEST(r.makespan_s == -1.0);
}

BOOST_AUTO_TEST_CASE(a_deadline_the_whole_grid_cannot_meet_is_infeasible) {
    // 100 tasks of 10 min on 4 slots: 25 waves, not 3 in 30 min.
    const std::string grid = room("cold", 20, 5) + node("n", "cold", 4, 20, 420);
    const Scenario sc = scenario(grid, "1h",
                                 job("big", 100, "10m", "deadline = \"30m\"\n") +
                                     job("late", 1, "10m", "deadline = \"2h\"\n"));
    for (auto p : {SimPolicy::heat_aware, SimPolicy::unaware}) {
        const SimResult r = simulate(sc, p);
        BOOST_TEST_REQUIRE(r.jobs.size() == 2u);
        BOOST_TEST(r.jobs[0].missed);
        BOOST_TEST(!r.jobs[0].feasible);
        BOOST_TEST(r.jobs[1].missed);  // behind the earlier deadline; and due after the run's end
        BOOST_TEST(!r.jobs[1].feasible);
        BOOST_TEST(r.deadline_misses == 2u);
        BOOST_TEST(r.feasible_misses == 0u);
    }
}

BOOST_AUTO_TEST_CASE(deadline_work_goes_before_other_work) {
    // One slot; batch work arrived first, deadline work after it.
    const std::string grid = room("cold", 20, 5) + node("n", "cold", 1, 0, 100);
    const Scenario sc = scenario(
        grid, "2h",
        job("batch", 3, "10m") + job("due", 2, "10m", "arrival = \"10m\"\ndeadline = \"25m\"\n"));
    const SimResult r = simulate(sc, SimPolicy::heat_aware);
    BOOST_TEST_REQUIRE(r.jobs.size() == 2u);
    BOOST_TEST(r.jobs[1].name == "due");
    BOOST_TEST(r.jobs[1].finish_s == 1800.0);  // before the rest of the batch
    BOOST_TEST(!r.jobs[1].missed);
    BOOST_TEST(r.jobs[0].finish_s == 3000.0);
    BOOST_TEST(r.makespan_s == 3000.0);
}

BOOST_AUTO_TEST_CASE(a_site_with_no_work_is_starved_not_in_error) {
    // Cold, budget wide open, nothing to run: the controller is not to blame.
    const SimResult r =
        simulate(scenario(room("cold", 20, 5) + node("n", "cold", 2, 10, 110), "3h", ""),
                 SimPolicy::heat_aware);
    const auto& s = r.sites.at(0);
    BOOST_TEST(s.starved_h == 3.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(s.settled_h == 0.0);
    BOOST_TEST(s.mean_abs_error_c == 0.0);
    BOOST_TEST(r.mean_abs_error_c == 0.0);
    BOOST_TEST(r.tasks_total == 0u);
    BOOST_TEST(r.makespan_s == -1.0);  // no jobs at all
    BOOST_TEST(close_rel(r.delivered_kwh * k_j_per_kwh, 10.0 * 3 * 3600));
}

BOOST_AUTO_TEST_CASE(the_heat_up_is_not_setpoint_error) {
    // A room 10 K below target with plenty of work: the heat-up takes hours;
    // the error counts from the first time the room is in its band.
    const std::string grid = room("hall", 20, 10, 5, 4e6, 0.02) + node("n", "hall", 8, 100, 2500);
    const SimResult r =
        simulate(scenario(grid, "2d", job("j", 100000, "5m")), SimPolicy::heat_aware);
    const auto& s = r.sites.at(0);
    BOOST_TEST(s.settled_h > 24);
    BOOST_TEST(s.settled_h < 48);
    BOOST_TEST(s.mean_abs_error_c < 0.5);
    BOOST_TEST(s.max_overshoot_c <= 1.0);
    BOOST_TEST(std::fabs(s.final_c - 20) <= 1.0);
    BOOST_TEST(r.useful_fraction > 0.95);
}

BOOST_AUTO_TEST_CASE(the_cool_down_after_a_target_cut_is_not_overshoot) {
    // 25 C until 06:00, then 15 C: the room takes hours to cool 10 K.
    const std::string grid =
        room("office", 25, 25, 10, 1e6, 0.01, 30, "daily 00:00-06:00 at 25; otherwise 15") +
        node("n", "office", 8, 100, 3100);
    const Scenario sc = scenario(grid, "12h", job("j", 100000, "1m"));
    const SimResult a = simulate(sc, SimPolicy::heat_aware);
    const auto& s = a.sites.at(0);
    BOOST_TEST(s.max_overshoot_c <= 1.5);
    BOOST_TEST(std::fabs(s.final_c - 15) <= 1.0);
    // Unaware dispatch heats it into its dump at 30 C before the cut.
    const SimResult u = simulate(sc, SimPolicy::unaware);
    BOOST_TEST(u.sites.at(0).max_overshoot_c >= 5.0);
}

BOOST_AUTO_TEST_CASE(runs_are_deterministic) {
    const std::string grid =
        room("hall", 28, 27, 2, 2e7, 0.018, 32) +
        room("office", 21, 16, 2, 8e6, 0.025, 26, "weekdays 07:00-19:00 at 21; otherwise 16") +
        node("h1", "hall", 8, 30, 350) + node("h2", "hall", 8, 30, 350) +
        node("o1", "office", 4, 25, 250);
    const std::string jobs =
        job("risk", 150, "10m", "every = \"1h\"\n") +
        job("eod", 600, "10m", "arrival = \"18h\"\nevery = \"24h\"\ndeadline = \"12h\"\n") +
        job("stress", 500, "5m", "arrival = \"1d10h\"\nurgent = true\ndeadline = \"4h\"\n");
    const Scenario sc = scenario(grid, "3d", jobs);
    for (auto p : {SimPolicy::heat_aware, SimPolicy::unaware}) {
        const std::string one = hearth::format_sim_json(simulate(sc, p));
        const std::string two = hearth::format_sim_json(simulate(sc, p));
        BOOST_TEST(one == two);
        // A fresh parse of the same files gives the same run too.
        BOOST_TEST(hearth::format_sim_json(simulate(scenario(grid, "3d", jobs), p)) == one);
    }
    BOOST_TEST(hearth::format_sim_json(simulate(sc, SimPolicy::heat_aware)) !=
               hearth::format_sim_json(simulate(sc, SimPolicy::unaware)));
}

BOOST_AUTO_TEST_CASE(json_and_table_report_every_metric) {
    const std::string grid = room("warm", 20, 25, 25) + node("n", "warm", 4, 20, 420);
    const SimResult r = simulate(
        scenario(grid, "1h", job("bank", 4, "10m", "deadline = \"30m\"\n") + job("more", 2, "10m")),
        SimPolicy::heat_aware);
    const std::string text = hearth::format_sim_json(r);
    BOOST_TEST(text.back() == '\n');
    BOOST_TEST(text.find('\n') == text.size() - 1);  // one line
    const auto j = nlohmann::json::parse(text);
    for (const char* key : {"scenario",
                            "policy",
                            "simulated_s",
                            "steps",
                            "delivered_kwh",
                            "useful_kwh",
                            "wasted_kwh",
                            "useful_fraction",
                            "mean_abs_error_c",
                            "max_overshoot_c",
                            "tasks_total",
                            "tasks_done",
                            "requeues",
                            "deadline_misses",
                            "feasible_deadline_misses",
                            "makespan_s",
                            "override_kwh",
                            "override_wasted_kwh",
                            "gas_co2_kg_displaced",
                            "sites",
                            "jobs"})
        BOOST_TEST(j.contains(key), key);
    BOOST_TEST(j["scenario"] == "t");
    BOOST_TEST(j["policy"] == "heat-aware");
    BOOST_TEST(j["tasks_total"] == 6);
    BOOST_TEST(j["tasks_done"] == 4);
    BOOST_TEST(j["makespan_s"] == -1.0);
    BOOST_TEST_REQUIRE(j["sites"].size() == 1u);
    for (const char* key :
         {"name", "delivered_kwh", "useful_kwh", "wasted_kwh", "dumped_kwh", "mean_abs_error_c",
          "max_overshoot_c", "settled_h", "starved_h", "final_c"})
        BOOST_TEST(j["sites"][0].contains(key), key);
    BOOST_TEST_REQUIRE(j["jobs"].size() == 2u);
    BOOST_TEST(j["jobs"][0]["name"] == "bank");
    BOOST_TEST(j["jobs"][0]["deadline_s"] == 1800.0);
    BOOST_TEST(j["jobs"][0]["missed"] == false);
    BOOST_TEST(!j["jobs"][1].contains("deadline_s"));  // only when there is one
    BOOST_TEST(!j["jobs"][1].contains("urgent"));

    const std::string table = hearth::format_sim_table(r);
    for (const char* needle : {"scenario t, policy heat-aware", "warm", "useful fraction",
                               "tasks 4/6 done", "makespan: work left", "deadline overrides"})
        BOOST_TEST(table.find(needle) != std::string::npos, needle);
}

BOOST_AUTO_TEST_CASE(tenants_share_the_slots_by_their_shares) {
    // One cold site, 4 slots, two tenants with more work than the run.
    const std::string grid = room("cold", 20, 5) + node("n", "cold", 4, 0, 100);
    const std::string tenants =
        "[[tenant]]\nname = \"bank\"\nshare = 3\n[[tenant]]\nname = \"studio\"\n";
    const std::string jobs = job("risk", 1000, "10m", "tenant = \"bank\"\n") +
                             job("render", 1000, "10m", "tenant = \"studio\"\n");
    const SimResult r = simulate(scenario(grid, "10h", jobs, tenants), SimPolicy::heat_aware);
    BOOST_TEST_REQUIRE(r.jobs.size() == 2u);
    // 4 slots x 60 waves = 240 tasks: 3 to 1.
    BOOST_TEST(r.jobs[0].done + r.jobs[1].done == 240u);
    BOOST_TEST(r.jobs[0].done == 180u);
    BOOST_TEST(r.jobs[1].done == 60u);
    // Without a table, equal shares.
    const SimResult eq = simulate(scenario(grid, "10h", jobs), SimPolicy::heat_aware);
    BOOST_TEST(eq.jobs[0].done == 120u);
    BOOST_TEST(eq.jobs[1].done == 120u);
    // max_running caps the bank.
    const SimResult capped = simulate(
        scenario(grid, "10h", jobs,
                 "[[tenant]]\nname = \"bank\"\nshare = 3\nmax_running = 1\n"
                 "[[tenant]]\nname = \"studio\"\n"),
        SimPolicy::heat_aware);
    BOOST_TEST(capped.jobs[0].done == 60u);
    BOOST_TEST(capped.jobs[1].done == 180u);
}

BOOST_AUTO_TEST_CASE(a_higher_priority_job_of_a_tenant_runs_first) {
    const std::string grid = room("cold", 20, 5) + node("n", "cold", 1, 0, 100);
    const SimResult r = simulate(
        scenario(grid, "2h",
                 job("first", 3, "10m") + job("urgent-ish", 2, "10m", "arrival = \"5m\"\npriority = 5\n")),
        SimPolicy::heat_aware);
    BOOST_TEST_REQUIRE(r.jobs.size() == 2u);
    // The running task finishes at 10 min; then the priority job's two.
    BOOST_TEST(r.jobs[1].finish_s == 1800.0);
    BOOST_TEST(r.jobs[0].finish_s == 3000.0);
}

BOOST_AUTO_TEST_SUITE_END()
