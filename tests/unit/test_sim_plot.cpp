// core/sim_plot: the gnuplot data and script drawn from known results, and
// the series simulate() traces for it.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "core/sim.hpp"
#include "core/sim_plot.hpp"
#include "tests/unit/support.hpp"

using hearth::PlotFormat;
using hearth::Scenario;
using hearth::SimPolicy;
using hearth::SimResult;
using hearth::SimSample;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

constexpr std::int64_t k_start = 1799020800;  // 2027-01-04T00:00:00Z, a Monday

hearth::Site site(const std::string& name, double target, double band) {
    hearth::Site s;
    s.name = name;
    s.kind = hearth::SiteKind::room;
    s.target = hearth::Celsius{target};
    s.band = band;
    return s;
}

Scenario two_site_scenario() {
    Scenario sc;
    sc.name = "small";
    sc.start_unix = k_start;
    sc.duration_s = 7200;
    sc.step_s = 60;
    sc.grid.sites = {site("office", 21, 1), site("tank \"B\"", 60, 2)};
    return sc;
}

SimSample sample(double t_s, double temp, double target, double power_w, double override_w,
                 double starved_h) {
    SimSample p;
    p.t_s = t_s;
    p.temp_c = temp;
    p.target_c = target;
    p.power_w = power_w;
    p.override_w = override_w;
    p.starved_h = starved_h;
    return p;
}

// Two hours, a sample an hour, the second site only traced.
SimResult result(SimPolicy policy, double temp_end, double override_w) {
    SimResult r;
    r.scenario = "small";
    r.policy = policy;
    r.simulated_s = 7200;
    r.series.push_back({1, {sample(0, 58, 60, 0, 0, 0), sample(3600, 59.5, 60, 2000, override_w, 0.5),
                            sample(7200, temp_end, 60, 1000, 0, 0.75)}});
    hearth::JobResult plain, urgent;
    plain.name = "render";
    plain.arrival_s = 600;
    urgent.name = "stress";
    urgent.arrival_s = 1800;
    urgent.urgent = true;
    urgent.deadline_s = 5400;
    r.jobs = {plain, urgent};
    return r;
}

// The data file's blocks (separated by two blank lines), each its rows of
// tab-separated fields, comments left out.
std::vector<std::vector<std::vector<std::string>>> blocks(const std::string& data) {
    std::vector<std::vector<std::vector<std::string>>> out(1);
    std::istringstream in(data);
    std::string line;
    int blanks = 0;
    while (std::getline(in, line)) {
        if (line.empty()) {
            if (++blanks == 2) out.emplace_back();
            continue;
        }
        blanks = 0;
        if (line[0] == '#') continue;
        std::vector<std::string> fields;
        std::istringstream f(line);
        std::string field;
        while (std::getline(f, field, '\t')) fields.push_back(field);
        out.back().push_back(fields);
    }
    return out;
}

double num(const std::string& s) { return std::stod(s); }

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(sim_plot)

BOOST_AUTO_TEST_CASE(the_format_is_the_file_suffix) {
    BOOST_TEST((hearth::plot_format("out.svg") == PlotFormat::svg));
    BOOST_TEST((hearth::plot_format("dir/week.PNG") == PlotFormat::png));
    for (const char* bad : {"out.pdf", "out", "svg", "out.svg.txt"})
        BOOST_CHECK_EXCEPTION(hearth::plot_format(bad), hearth::Error, usage_mentioning(".svg or .png"));
}

BOOST_AUTO_TEST_CASE(the_sites_drawn_are_the_first_six_or_those_named) {
    hearth::Grid g;
    for (int i = 0; i < 14; ++i) g.sites.push_back(site("s" + std::to_string(i), 20, 1));
    BOOST_TEST((hearth::plot_sites(g, {}) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
    BOOST_TEST((hearth::plot_sites(g, {"s9", "s2", "s9"}) == std::vector<std::size_t>{9, 2}));
    BOOST_CHECK_EXCEPTION(hearth::plot_sites(g, {"s1", "attic"}), hearth::Error,
                          usage_mentioning("--plot-site 'attic' is not a site"));
    std::vector<std::string> thirteen;
    for (int i = 0; i < 13; ++i) thirteen.push_back("s" + std::to_string(i));
    BOOST_CHECK_EXCEPTION(hearth::plot_sites(g, thirteen), hearth::Error, usage_mentioning("at most 12"));
    hearth::Grid small;
    small.sites = {site("a", 20, 1)};
    BOOST_TEST((hearth::plot_sites(small, {}) == std::vector<std::size_t>{0}));
}

BOOST_AUTO_TEST_CASE(the_sample_interval_is_round_and_about_a_thousandth_of_the_run) {
    Scenario sc;
    sc.step_s = 60;
    sc.duration_s = 7 * 86400;
    BOOST_TEST(hearth::plot_trace(sc, {0}).every_steps == 15u);  // 15 min: 672 points a week
    sc.duration_s = 86400;
    BOOST_TEST(hearth::plot_trace(sc, {0}).every_steps == 2u);  // 2 min
    sc.duration_s = 3600;
    BOOST_TEST(hearth::plot_trace(sc, {0}).every_steps == 1u);  // never finer than a step
    sc.duration_s = 365 * 86400.0;
    BOOST_TEST(hearth::plot_trace(sc, {0}).every_steps == 720u);  // 12 h
    BOOST_TEST((hearth::plot_trace(sc, {3, 1}).sites == std::vector<std::size_t>{3, 1}));
}

BOOST_AUTO_TEST_CASE(the_data_has_a_block_per_site_and_run_then_the_jobs) {
    const Scenario sc = two_site_scenario();
    const auto in = hearth::sim_plot(
        sc, {result(SimPolicy::heat_aware, 60.5, 300), result(SimPolicy::unaware, 61, 0)}, PlotFormat::svg);
    const auto b = blocks(in.data);
    BOOST_TEST_REQUIRE(b.size() == 3u);  // tank heat-aware, tank unaware, jobs
    BOOST_TEST_REQUIRE(b[0].size() == 3u);
    BOOST_TEST_REQUIRE(b[0][1].size() == 9u);
    // unix_s hours temp target band_low band_high power_kw override_kw starved_h
    BOOST_TEST(num(b[0][1][0]) == k_start + 3600.0);
    BOOST_TEST(num(b[0][1][1]) == 1.0);
    BOOST_TEST(num(b[0][1][2]) == 59.5);
    BOOST_TEST(num(b[0][1][3]) == 60.0);
    BOOST_TEST(num(b[0][1][4]) == 58.0);  // the tank's band is 2 K
    BOOST_TEST(num(b[0][1][5]) == 62.0);
    BOOST_TEST(num(b[0][1][6]) == 2.0);
    BOOST_TEST(num(b[0][1][7]) == 0.3);
    BOOST_TEST(num(b[0][1][8]) == 0.5);
    BOOST_TEST(num(b[0][2][2]) == 60.5);
    BOOST_TEST(num(b[1][2][2]) == 61.0);  // the unaware run's own block
    BOOST_TEST(num(b[0][0][0]) == static_cast<double>(k_start));
    // Jobs: arrival, urgent or deadline, deadline (-1: none).
    BOOST_TEST_REQUIRE(b[2].size() == 2u);
    BOOST_TEST(num(b[2][0][0]) == k_start + 600.0);
    BOOST_TEST(num(b[2][0][1]) == 0.0);
    BOOST_TEST(num(b[2][0][2]) == -1.0);
    BOOST_TEST(num(b[2][1][1]) == 1.0);
    BOOST_TEST(num(b[2][1][2]) == k_start + 5400.0);
    BOOST_TEST(has(in.data, "# site tank \"B\", policy unaware, band 2 K"));
}

BOOST_AUTO_TEST_CASE(the_script_draws_every_block_with_its_legend) {
    const Scenario sc = two_site_scenario();
    const auto in = hearth::sim_plot(
        sc, {result(SimPolicy::heat_aware, 60.5, 300), result(SimPolicy::unaware, 61, 0)}, PlotFormat::svg);
    const std::string& s = in.script;
    BOOST_TEST(has(s, "set terminal svg size 1240,"));
    BOOST_TEST(has(s, "set output \"plot.out\""));
    BOOST_TEST(has(s, "noenhanced"));  // names print as they are, _ and ^ too
    // The time axis spans the run, labelled in the scenario's clock.
    BOOST_TEST(has(s, "set xrange [1799020800:1799028000]"));
    BOOST_TEST(has(s, "UTC"));
    BOOST_TEST(has(s, "Mon 04 Jan 2027 00:00 to Mon 04 Jan 2027 02:00"));
    // The site's title, its quote escaped for gnuplot.
    BOOST_TEST(has(s, "set title \"tank \\\"B\\\" (room): target 60 °C ± 2\""));
    for (const char* needle :
         {"index 0 using 1:3 ", "index 1 using 1:3 ", "index 0 using 1:5:6 ", "index 0 using 1:7 ",
          "index 1 using 1:7 ", "index 0 using 1:8 ", "index 0 using 1:9 axes x1y2", "index 2 using 1:",
          "title \"heat-aware (°C; kW below)\"", "title \"unaware (°C; kW below)\"", "title \"target\"",
          "title \"target ± band\"", "title \"job arrives\"", "title \"urgent/deadline job arrives\"",
          "title \"its deadline\"", "title \"deadline override, kW\"", "title \"starved, h (right axis)\"",
          "ylabel \"temperature, °C\"", "ylabel \"power, kW\"", "y2label \"starved, h\""})
        BOOST_TEST(has(s, needle), needle);
    BOOST_TEST(!has(s, "index 3"));
    // One legend for the figure, none in the panels to hide their data.
    BOOST_TEST(has(s, "unset key"));
    BOOST_TEST(s.find("\nset key") > s.find("# the legend"));
    BOOST_TEST(has(s, "unset multiplot"));
}

BOOST_AUTO_TEST_CASE(one_run_draws_one_curve_and_no_override_it_did_not_make) {
    const Scenario sc = two_site_scenario();
    const auto in = hearth::sim_plot(sc, {result(SimPolicy::unaware, 61, 0)}, PlotFormat::png);
    BOOST_TEST(has(in.script, "set terminal pngcairo size 1240,"));
    BOOST_TEST(!has(in.script, "heat-aware"));
    BOOST_TEST(!has(in.script, "deadline override"));
    BOOST_TEST(!has(in.script, "(dashed)"));
    BOOST_TEST(blocks(in.data).size() == 2u);
    BOOST_TEST(has(in.script, "index 1 using"));  // the jobs
}

BOOST_AUTO_TEST_CASE(a_scenario_name_on_two_lines_stays_a_comment_and_a_title) {
    Scenario sc = two_site_scenario();
    sc.name = "week\n1 2 3";
    const auto in = hearth::sim_plot(sc, {result(SimPolicy::heat_aware, 60, 0)}, PlotFormat::svg);
    BOOST_TEST(has(in.data, "# hearth sim --plot data: scenario week 1 2 3, start 2027-01-04T00:00:00Z\n"));
    BOOST_TEST(blocks(in.data)[0].size() == 3u);
    BOOST_TEST(has(in.script, "title \"hearth sim week\\n1 2 3: heat-aware\\n"));
}

BOOST_AUTO_TEST_CASE(a_site_row_is_a_third_of_a_page_and_two_columns_past_three_sites) {
    // Below a header of 130 pixels (title and legend), 560 a row.
    Scenario sc = two_site_scenario();
    SimResult r = result(SimPolicy::heat_aware, 60, 0);
    BOOST_TEST(has(hearth::sim_plot(sc, {r}, PlotFormat::png).script, "size 1240,690 "));
    for (int i = 0; i < 4; ++i) sc.grid.sites.push_back(site("extra" + std::to_string(i), 20, 1));
    for (std::size_t i = 2; i <= 5; ++i) r.series.push_back({i, r.series[0].samples});
    BOOST_TEST(r.series.size() == 5u);
    // Five sites: two columns, three rows.
    BOOST_TEST(has(hearth::sim_plot(sc, {r}, PlotFormat::png).script, "size 1240,1810 "));
}

BOOST_AUTO_TEST_CASE(runs_that_traced_different_sites_are_a_bug) {
    const Scenario sc = two_site_scenario();
    SimResult a = result(SimPolicy::heat_aware, 60, 0), u = result(SimPolicy::unaware, 60, 0);
    u.series.clear();
    BOOST_CHECK_THROW(hearth::sim_plot(sc, {a, u}, PlotFormat::svg), hearth::Error);
    BOOST_CHECK_THROW(hearth::sim_plot(sc, {}, PlotFormat::svg), hearth::Error);
}

// simulate() with a trace: the samples add up to the result's totals, and
// tracing does not change the simulation.
BOOST_AUTO_TEST_CASE(a_traced_simulation_samples_what_its_totals_say) {
    TempDir tmp;
    std::ofstream(tmp.file("grid.toml"))
        << "[[site]]\nname = \"office\"\nkind = \"room\"\ntarget = 21\nmin = 5\nmax = 30\nband = 1\n"
           "schedule = \"weekdays 07:00-19:00 at 21; otherwise 16\"\n"
           "[site.thermal]\ncapacity_j_per_k = 2e6\nresistance_k_per_w = 0.02\noutside = 2\ninitial = 15\n"
           "[[site]]\nname = \"hall\"\nkind = \"room\"\ntarget = 20\nmin = 5\nmax = 30\nband = 1\n"
           "[site.thermal]\ncapacity_j_per_k = 4e6\nresistance_k_per_w = 0.02\noutside = 2\ninitial = 19\n"
           "[[node]]\nname = \"n1\"\nsite = \"office\"\nslots = 4\nidle_watts = 20\nmax_watts = 400\n"
           "[[node]]\nname = \"n2\"\nsite = \"hall\"\nslots = 4\nidle_watts = 20\nmax_watts = 400\n";
    const std::string text =
        "name = \"t\"\ngrid = \"grid.toml\"\nstart = \"2027-01-04\"\nduration = \"2d\"\nstep = \"60s\"\n"
        "[[job]]\nname = \"w\"\ntenant = \"a\"\narrival = \"1h\"\nevery = \"6h\"\ntasks = 40\ntask_time = \"30m\"\n";
    const Scenario sc = hearth::parse_scenario(text, "t.toml", tmp.path().string());
    const auto trace = hearth::plot_trace(sc, {1, 0});
    BOOST_TEST(trace.every_steps == 5u);  // 2 days / 1000 -> 5 min
    for (auto policy : {SimPolicy::heat_aware, SimPolicy::unaware}) {
        const SimResult plain = hearth::simulate(sc, policy);
        const SimResult traced = hearth::simulate(sc, policy, trace);
        BOOST_TEST(plain.series.empty());
        BOOST_TEST(hearth::format_sim_json(plain) == hearth::format_sim_json(traced));
        BOOST_TEST_REQUIRE(traced.series.size() == 2u);
        BOOST_TEST(traced.series[0].site == 1u);
        for (const auto& series : traced.series) {
            const auto& sr = traced.sites[series.site];
            const auto& p = series.samples;
            BOOST_TEST_REQUIRE(p.size() == 2 * 86400 / 300 + 1u);
            BOOST_TEST(p.front().t_s == 0.0);
            BOOST_TEST(p.back().t_s == traced.simulated_s);
            BOOST_TEST(p.back().temp_c == sr.final_c);
            BOOST_TEST(p.back().starved_h == sr.starved_h);
            double kwh = 0;
            for (std::size_t i = 1; i < p.size(); ++i) kwh += p[i].power_w * (p[i].t_s - p[i - 1].t_s) / 3.6e6;
            BOOST_TEST(std::fabs(kwh - sr.delivered_kwh) <= 1e-9 * std::max(1.0, sr.delivered_kwh));
        }
        // The office's schedule: 16 at midnight on Monday, 21 by Monday noon.
        BOOST_TEST(traced.series[1].samples.front().target_c == 16.0);
        BOOST_TEST(traced.series[1].samples[12 * 12].target_c == 21.0);
        BOOST_TEST(traced.series[0].samples.front().temp_c == 19.0);  // the hall's initial
    }
}

BOOST_AUTO_TEST_SUITE_END()
