// `hearth sim` on the shipped scenarios (examples/heat-targets): the issue's
// targets, heat-aware against unaware in the same run. These are
// deterministic virtual-time results, not timings.
#include <boost/test/unit_test.hpp>

#include <map>

#include "harness.hpp"

using namespace hearth::test;

namespace {

const std::vector<std::string> k_scenarios = {"winter-week", "mild-week", "urgent"};

std::string scenario_path(const std::string& name) {
    return repo_root() + "/examples/heat-targets/" + name + ".toml";
}

struct Both {
    nlohmann::json aware, unaware;
};

// `hearth sim SCENARIO --policy both --json`, once per scenario.
const Both& run_both(const std::string& name) {
    static std::map<std::string, Both> cache;
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
    TempDir t;
    const Result r = run_hearth({"sim", scenario_path(name), "--policy", "both", "--json"}, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, "hearth sim " << name << ": " << r.err);
    const auto lines = json_lines(r.out);
    BOOST_TEST_REQUIRE(lines.size() == 2u, "hearth sim " << name << ": " << r.out);
    BOOST_TEST_REQUIRE(lines[0]["policy"] == "heat-aware");
    BOOST_TEST_REQUIRE(lines[1]["policy"] == "unaware");
    Both b{lines[0], lines[1]};
    for (const nlohmann::json* j : {&b.aware, &b.unaware})
        BOOST_TEST_MESSAGE(
            name << " " << (*j)["policy"] << ": useful_fraction " << (*j)["useful_fraction"]
                 << ", mean_abs_error_c " << (*j)["mean_abs_error_c"] << ", max_overshoot_c "
                 << (*j)["max_overshoot_c"] << ", feasible_deadline_misses "
                 << (*j)["feasible_deadline_misses"] << ", makespan_s " << (*j)["makespan_s"]
                 << ", tasks " << (*j)["tasks_done"] << "/" << (*j)["tasks_total"]);
    return cache.emplace(name, std::move(b)).first->second;
}

double num(const nlohmann::json& j, const char* key) {
    return j.at(key).get<double>();
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& needle,
                        const std::string& scenario_text = "") {
    TempDir t;
    std::ofstream(t / "grid.toml") << slurp(repo_root() + "/examples/heat-targets/grid.toml");
    if (!scenario_text.empty()) std::ofstream(t / "sc.toml") << scenario_text;
    const Result r = run_hearth(args, t.path);
    BOOST_TEST_CONTEXT("hearth sim ...: " << r.err) {
        BOOST_TEST(r.code == 2);
        BOOST_TEST(count_lines(r.err) == 1u);
        BOOST_TEST(r.err.find(needle) != std::string::npos);
        BOOST_TEST(r.out.empty());
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sim)

BOOST_AUTO_TEST_CASE(winter_useful_heat_fraction_is_at_least_0_95) {
    BOOST_TEST(num(run_both("winter-week").aware, "useful_fraction") >= 0.95);
}

BOOST_AUTO_TEST_CASE(heat_aware_wastes_less_than_unaware_on_every_scenario) {
    for (const auto& name : k_scenarios) {
        const Both& b = run_both(name);
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(num(b.aware, "useful_fraction") > num(b.unaware, "useful_fraction"));
            BOOST_TEST(num(b.aware, "delivered_kwh") > 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(heat_aware_holds_the_targets_within_the_issue_bounds) {
    for (const auto& name : k_scenarios) {
        const Both& b = run_both(name);
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(num(b.aware, "mean_abs_error_c") <= 0.5);
            BOOST_TEST(num(b.aware, "max_overshoot_c") <= 1.5);
            for (const auto& s : b.aware["sites"]) {
                BOOST_TEST_CONTEXT(s["name"]) {
                    BOOST_TEST(num(s, "mean_abs_error_c") <= 0.5);
                    BOOST_TEST(num(s, "max_overshoot_c") <= 1.5);
                    BOOST_TEST(num(s, "dumped_kwh") == 0.0);  // never driven into its dump
                    BOOST_TEST(num(s, "settled_h") > 0);      // the error was measured
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(heat_aware_misses_no_deadline_the_grid_could_meet) {
    for (const auto& name : k_scenarios) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(run_both(name).aware["feasible_deadline_misses"] == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(winter_makespan_is_within_ten_percent_of_unaware) {
    // In winter the sites want more heat than the work gives: heat-aware
    // dispatch must not hold the work back.
    const Both& b = run_both("winter-week");
    BOOST_TEST_REQUIRE(b.aware["tasks_done"] == b.aware["tasks_total"]);
    BOOST_TEST_REQUIRE(b.unaware["tasks_done"] == b.unaware["tasks_total"]);
    const double aware = num(b.aware, "makespan_s"), unaware = num(b.unaware, "makespan_s");
    BOOST_TEST_REQUIRE(aware > 0);
    BOOST_TEST_REQUIRE(unaware > 0);
    BOOST_TEST_MESSAGE("winter makespan ratio heat-aware/unaware " << aware / unaware);
    BOOST_TEST(aware / unaware <= 1.10);
}

BOOST_AUTO_TEST_CASE(the_urgent_job_is_met_by_overriding_budgets) {
    const Both& b = run_both("urgent");
    const nlohmann::json* stress = nullptr;
    for (const auto& j : b.aware["jobs"])
        if (j["name"] == "stress") stress = &j;
    BOOST_TEST_REQUIRE(stress != nullptr);
    BOOST_TEST((*stress)["urgent"] == true);
    BOOST_TEST((*stress)["feasible"] == true);
    BOOST_TEST((*stress)["missed"] == false);
    BOOST_TEST((*stress)["done"] == (*stress)["tasks"]);
    BOOST_TEST(num(*stress, "finish_s") <= num(*stress, "deadline_s"));
    BOOST_TEST(num(b.aware, "override_kwh") > 0);  // the budgets alone would not do
    BOOST_TEST(b.aware["deadline_misses"] == 0);
}

BOOST_AUTO_TEST_CASE(runs_are_reproducible) {
    TempDir t;
    const auto args =
        std::vector<std::string>{"sim", scenario_path("winter-week"), "--policy", "both", "--json"};
    const Result one = run_hearth(args, t.path);
    const Result two = run_hearth(args, t.path);
    BOOST_TEST(one.code == 0);
    BOOST_TEST(one.out == two.out);
}

BOOST_AUTO_TEST_CASE(the_table_compares_the_policies) {
    TempDir t;
    const Result r = run_hearth({"sim", scenario_path("mild-week"), "--policy", "both"}, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    for (const char* needle :
         {"scenario mild-week, policy heat-aware", "scenario mild-week, policy unaware",
          "home-tank", "pool-hall", "office", "useful fraction", "heat-aware vs unaware"})
        BOOST_TEST(r.out.find(needle) != std::string::npos, needle);
}

BOOST_AUTO_TEST_CASE(the_default_policy_is_heat_aware) {
    TempDir t;
    const Result r = run_hearth({"sim", scenario_path("urgent"), "--json"}, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const auto lines = json_lines(r.out);
    BOOST_TEST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0]["policy"] == "heat-aware");
    BOOST_TEST(lines[0] == run_both("urgent").aware);
}

BOOST_AUTO_TEST_CASE(an_unknown_scenario_key_is_refused) {
    expect_usage_error({"sim", "sc.toml"}, "unknown key 'colour'",
                       "grid = \"grid.toml\"\nduration = \"1d\"\ncolour = \"blue\"\n");
}

BOOST_AUTO_TEST_CASE(an_unknown_job_key_is_refused) {
    expect_usage_error({"sim", "sc.toml"}, "job 1: unknown key 'prio'",
                       "grid = \"grid.toml\"\nduration = \"1d\"\n[[job]]\ntasks = 1\n"
                       "task_time = \"1m\"\nprio = 3\n");
}

BOOST_AUTO_TEST_CASE(an_unknown_policy_is_refused) {
    expect_usage_error({"sim", "sc.toml", "--policy", "greedy"}, "unknown policy 'greedy'",
                       "grid = \"grid.toml\"\nduration = \"1d\"\n");
}

BOOST_AUTO_TEST_CASE(a_missing_scenario_is_refused) {
    expect_usage_error({"sim", "no-such-scenario.toml"}, "no-such-scenario.toml");
}

BOOST_AUTO_TEST_CASE(a_scenario_with_a_bad_grid_is_refused) {
    expect_usage_error({"sim", "sc.toml"}, "no-such-grid.toml",
                       "grid = \"no-such-grid.toml\"\nduration = \"1d\"\n");
}

BOOST_AUTO_TEST_SUITE_END()
