#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "tests/unit/support.hpp"

using hearth::Celsius;
using hearth::Grid;
using hearth::SafeMode;
using hearth::Site;
using hearth::SiteKind;
using hearth::test::usage_mentioning;

namespace {

// tests/fixtures/grid/NAME, from HEARTH_ROOT (tests/run.sh) or the working directory.
std::string fixture(const std::string& name) {
    const char* root = std::getenv("HEARTH_ROOT");
    return (std::filesystem::path(root && *root ? root : ".") / "tests/fixtures/grid" / name)
        .string();
}

const std::string k_site =
    "[[site]]\nname = \"tank-a\"\nkind = \"tank\"\ntarget = 60\nmin = 55\nmax = 70\n";
const std::string k_node = "[[node]]\nname = \"n1\"\nsite = \"tank-a\"\n";

// A valid one-site grid with `site_extra` in the site and `node_extra` in the node.
std::string grid_with(const std::string& site_extra, const std::string& node_extra = "") {
    return k_site + site_extra + "\n" + k_node + node_extra + "\n";
}

Grid parse(const std::string& text) {
    return hearth::parse_grid(text, "grid.toml");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grid)

BOOST_AUTO_TEST_CASE(three_site_fixture_reads_every_field) {
    const Grid g = hearth::load_grid(fixture("three-sites.toml"));
    BOOST_TEST(g.gas_kgco2_per_kwh == 0.21);
    BOOST_TEST_REQUIRE(g.sites.size() == 3u);
    BOOST_TEST_REQUIRE(g.nodes.size() == 4u);

    const Site& tank = g.sites[0];
    BOOST_TEST(tank.name == "tank-a");
    BOOST_TEST((tank.kind == SiteKind::tank));
    BOOST_TEST(tank.target.value == 62);
    BOOST_TEST(tank.min.value == 60);
    BOOST_TEST(tank.max.value == 70);
    BOOST_TEST(tank.band == 1.0);
    BOOST_TEST(tank.schedule == "weekdays 06:00-22:00 at 65; otherwise 60");
    BOOST_TEST(tank.source.type == "sim-tank");
    BOOST_TEST((tank.source.safe_mode == SafeMode::min_power));
    BOOST_TEST(!tank.source.measured.has_value());
    BOOST_TEST(tank.thermal.volume_litres == 300);
    BOOST_TEST(tank.thermal.loss_w_per_k == 2.5);
    BOOST_TEST(tank.thermal.ambient.value == 18);
    BOOST_TEST(tank.thermal.initial.value == 45);
    BOOST_TEST_REQUIRE(tank.thermal.draw.size() == 2u);
    BOOST_TEST(tank.thermal.draw[0].start_s == 6 * 3600);
    BOOST_TEST(tank.thermal.draw[0].end_s == 8 * 3600);
    BOOST_TEST(tank.thermal.draw[0].power.value == 3000);
    BOOST_TEST(tank.thermal.draw[1].start_s == 18 * 3600);
    BOOST_TEST(tank.thermal.draw[1].end_s == 21 * 3600);
    BOOST_TEST(tank.thermal.draw[1].power.value == 2000);

    const Site& pool = g.sites[1];
    BOOST_TEST(pool.name == "pool-hall");
    BOOST_TEST((pool.kind == SiteKind::room));
    BOOST_TEST(pool.target.value == 28);
    BOOST_TEST(pool.min.value == 24);
    BOOST_TEST(pool.max.value == 32);
    BOOST_TEST(pool.band == 0.5);
    BOOST_TEST(pool.schedule == "daily 07:00-21:00 at 28.5; otherwise 26");
    BOOST_TEST(pool.source.type == "http");
    BOOST_TEST(pool.source.url == "http://bms.local/pool");
    BOOST_TEST(pool.source.timeout_s == 2);
    BOOST_TEST(pool.source.poll_s == 10);
    BOOST_TEST(pool.source.stale_after_s == 60);
    BOOST_TEST(pool.source.measured_field == "hall.air");
    BOOST_TEST(pool.source.target_field == "setpoint");
    BOOST_TEST((pool.source.safe_mode == SafeMode::hold));

    const Site& loop = g.sites[2];
    BOOST_TEST(loop.name == "loop-1");
    BOOST_TEST((loop.kind == SiteKind::loop));
    BOOST_TEST(loop.target.value == 45);
    BOOST_TEST(loop.band == 1.0);
    BOOST_TEST(loop.schedule.empty());
    BOOST_TEST(loop.source.type == "static");
    BOOST_TEST_REQUIRE(loop.source.measured.has_value());
    BOOST_TEST(loop.source.measured->value == 41.5);
    BOOST_TEST(loop.thermal.capacity_j_per_k == 2e6);
    BOOST_TEST(loop.thermal.resistance_k_per_w == 0.02);
    BOOST_TEST(loop.thermal.outside.value == -3);

    BOOST_TEST(g.nodes[0].name == "n1");
    BOOST_TEST(g.nodes[0].site == "tank-a");
    BOOST_TEST(g.nodes[0].host == "198.18.0.2");
    BOOST_TEST(g.nodes[0].slots == 4u);
    BOOST_TEST(g.nodes[0].agent == "http://198.18.0.2:9750");
    BOOST_TEST(g.nodes[0].idle.value == 20);
    BOOST_TEST(g.nodes[0].max.value == 120);
    BOOST_TEST(g.nodes[1].agent == "http://198.18.0.3:9750");
    BOOST_TEST(g.nodes[1].idle.value == 25);
    BOOST_TEST(g.nodes[1].max.value == 150);
    BOOST_TEST(g.nodes[2].site == "pool-hall");
    BOOST_TEST(g.nodes[2].slots == 16u);
    BOOST_TEST(g.nodes[2].agent == "http://[2001:db8::5]:9750");  // IPv6 needs brackets
    BOOST_TEST(g.nodes[3].host == "loop-a");
    BOOST_TEST(g.nodes[3].agent == "http://loop-a:9750");
}

BOOST_AUTO_TEST_CASE(defaults) {
    const Grid g = parse(
        "[[site]]\nname = \"s\"\nkind = \"room\"\ntarget = 21\n"
        "[[node]]\nname = \"n\"\nsite = \"s\"\n");
    BOOST_TEST(g.gas_kgco2_per_kwh == 0.2);
    BOOST_TEST_REQUIRE(g.sites.size() == 1u);
    const Site& s = g.sites[0];
    BOOST_TEST(s.min.value == hearth::k_hard_min.value);
    BOOST_TEST(s.max.value == hearth::k_hard_max.value);
    BOOST_TEST(s.band == 1.0);
    BOOST_TEST(s.schedule.empty());
    BOOST_TEST(s.source.type == "static");
    BOOST_TEST(!s.source.measured.has_value());
    BOOST_TEST((s.source.safe_mode == SafeMode::min_power));
    BOOST_TEST(s.thermal.volume_litres == 200);
    BOOST_TEST(s.thermal.draw.empty());
    BOOST_TEST_REQUIRE(g.nodes.size() == 1u);
    BOOST_TEST(g.nodes[0].host == "n");
    BOOST_TEST(g.nodes[0].slots == 1u);
    BOOST_TEST(g.nodes[0].agent == "http://n:9750");
    BOOST_TEST(g.nodes[0].idle.value == 20);
    BOOST_TEST(g.nodes[0].max.value == 120);
}

BOOST_AUTO_TEST_CASE(bounds_and_band_limits_are_inclusive) {
    const Grid g = parse(
        "[[site]]\nname = \"s\"\nkind = \"tank\"\ntarget = 85\nmin = 5\nmax = 85\nband = 10\n"
        "schedule = \"daily 00:00-12:00 at 5; otherwise 85\"\n" +
        k_node.substr(0, k_node.find("site")) + "site = \"s\"\n");
    BOOST_TEST(g.sites[0].target.value == 85);
    BOOST_TEST(g.sites[0].band == 10);
}

BOOST_AUTO_TEST_CASE(recovery_defaults_to_all_and_takes_its_bounds) {
    BOOST_TEST(parse(grid_with("")).sites[0].recovery == 1.0);
    for (double r : {0.5, 0.95, 1.0}) {
        const Grid g = parse(grid_with("recovery = " + std::to_string(r)));
        BOOST_TEST(g.sites[0].recovery == r);
        BOOST_TEST(hearth::heat_delivered(g.sites[0], 1000.0) == 1000.0 * r);
        BOOST_TEST(hearth::heat_delivered(g.sites[0], hearth::Watts{200}).value == 200.0 * r);
    }
}

BOOST_AUTO_TEST_CASE(a_nodes_gpus_are_said_or_left_to_its_agent) {
    BOOST_TEST(!parse(grid_with("")).nodes[0].gpus.has_value());  // the agent says
    BOOST_TEST(parse(grid_with("", "gpus = 2")).nodes[0].gpus.value() == 2u);
    BOOST_TEST(parse(grid_with("", "gpus = 0")).nodes[0].gpus.value() ==
               0u);  // none, whatever NVML finds
    BOOST_TEST(parse(grid_with("", "gpus = 1024")).nodes[0].gpus.value() == 1024u);
}

BOOST_AUTO_TEST_CASE(a_site_without_nodes_is_allowed) {
    const Grid g =
        parse(k_site + "[[site]]\nname = \"later\"\nkind = \"loop\"\ntarget = 40\n" + k_node);
    BOOST_TEST(g.sites.size() == 2u);
    BOOST_TEST(g.find_site("later") != nullptr);
}

BOOST_AUTO_TEST_CASE(find_site_and_node) {
    const Grid g = hearth::load_grid(fixture("three-sites.toml"));
    BOOST_TEST_REQUIRE(g.find_site("pool-hall") != nullptr);
    BOOST_TEST(g.find_site("pool-hall") == &g.sites[1]);
    BOOST_TEST(g.find_site("pool") == nullptr);
    BOOST_TEST(g.find_site("") == nullptr);
    BOOST_TEST(g.find_node("pool-1") == &g.nodes[2]);
    BOOST_TEST(g.find_node("n3") == nullptr);
    BOOST_TEST(Grid{}.find_site("tank-a") == nullptr);
}

BOOST_AUTO_TEST_CASE(names_of_kinds_and_modes) {
    BOOST_TEST(std::string(hearth::to_string(SiteKind::tank)) == "tank");
    BOOST_TEST(std::string(hearth::to_string(SiteKind::room)) == "room");
    BOOST_TEST(std::string(hearth::to_string(SiteKind::loop)) == "loop");
    BOOST_TEST(std::string(hearth::to_string(SafeMode::min_power)) == "min");
    BOOST_TEST(std::string(hearth::to_string(SafeMode::hold)) == "hold");
}

BOOST_AUTO_TEST_CASE(safe_names) {
    for (const std::string& ok :
         std::vector<std::string>{"tank-a", "a", "A.b_c-1", "0", "n.", std::string(64, 'x')})
        BOOST_TEST(hearth::is_safe_name(ok), "'" << ok << "'");
    for (const std::string& bad :
         std::vector<std::string>{"", std::string(65, 'x'), ".hidden", "-x", "a b", "a/b", "..",
                                  "caf\xc3\xa9", "a;b", "a'b", std::string("a\0b", 3), "t\n"})
        BOOST_TEST(!hearth::is_safe_name(bad), "'" << bad << "'");
}

BOOST_AUTO_TEST_CASE(check_target_refuses_what_is_outside_the_bounds) {
    Site s;
    s.name = "tank-a";
    s.min = Celsius{55};
    s.max = Celsius{70};
    BOOST_CHECK_NO_THROW(hearth::check_target(s, 55));
    BOOST_CHECK_NO_THROW(hearth::check_target(s, 62.5));
    BOOST_CHECK_NO_THROW(hearth::check_target(s, 70));
    BOOST_CHECK_EXCEPTION(hearth::check_target(s, 200), hearth::Error,
                          usage_mentioning("site 'tank-a': target 200 C is outside its safety "
                                           "bounds 55-70 C; choose a target within them"));
    BOOST_CHECK_EXCEPTION(hearth::check_target(s, 54.99), hearth::Error,
                          usage_mentioning("target 54.99 C is outside"));
    BOOST_CHECK_EXCEPTION(hearth::check_target(s, 70.01), hearth::Error,
                          usage_mentioning("target 70.01 C is outside"));
    BOOST_CHECK_EXCEPTION(hearth::check_target(s, std::nan("")), hearth::Error,
                          usage_mentioning("site 'tank-a': target nan is not a temperature"));
    BOOST_CHECK_EXCEPTION(hearth::check_target(s, std::numeric_limits<double>::infinity()),
                          hearth::Error, usage_mentioning("target inf is not a temperature"));
    BOOST_CHECK_EXCEPTION(hearth::check_target(s, -std::numeric_limits<double>::infinity()),
                          hearth::Error, usage_mentioning("target -inf is not a temperature"));
}

BOOST_AUTO_TEST_CASE(errors_name_the_entry_the_key_and_the_fix) {
    struct Case {
        std::string text;
        std::vector<std::string> needles;
    };
    const std::string node2 = "[[node]]\nname = \"n2\"\nsite = \"tank-a\"\n";
    const std::vector<Case> cases = {
        // syntax and structure
        {k_site + "band =\n" + k_node, {"grid.toml:7: TOML syntax error", "fix the syntax"}},
        {"gsa = 1\n" + grid_with(""),
         {"unknown key 'gsa'; valid keys: gas_kgco2_per_kwh site node"}},
        {grid_with("tagret = 61"),
         {"site 'tank-a': unknown key 'tagret'; valid keys: name kind target min max band "
          "recovery schedule source thermal"}},
        {grid_with("[site.source]\nurll = \"http://x\""),
         {"site 'tank-a' source: unknown key 'urll'; valid keys: type measured url"}},
        {grid_with("[site.thermal]\nvolume = 300"),
         {"site 'tank-a' thermal: unknown key 'volume'; valid keys: volume_litres"}},
        {grid_with("[site.thermal]\ndraw = [{ start = \"06:00\", end = \"07:00\", W = 1 }]"),
         {"site 'tank-a' thermal draw #1: unknown key 'W'; valid keys: start end watts"}},
        {grid_with("", "gpus = -1"), {"node 'n1': 'gpus' must be a whole number from 0 to 1024"}},
        {grid_with("", "gpus = 2.5"), {"'gpus' must be a whole number", "e.g. gpus = 2"}},
        {grid_with("", "gpus = \"2\""), {"'gpus' must be a whole number"}},
        {grid_with("", "gpus = 1025"), {"from 0 to 1024"}},
        {grid_with("", "memory = \"lots\""),
         {"'memory' 'lots'", "give the node's memory for tasks, e.g. \"64G\""}},
        {grid_with("", "cores = 4"),
         {"node 'n1': unknown key 'cores'; valid keys: name site host slots memory gpus agent "
          "idle_watts "
          "max_watts"}},
        {"site = \"tank-a\"\n" + k_node, {"'site' must be [[site]] entries, not a string"}},
        {"[site]\nname = \"tank-a\"\nkind = \"tank\"\ntarget = 60\n" + k_node,
         {"'site' must be [[site]] entries, not a table", "write each as a [[site]] section"}},
        {k_node, {"grid.toml: no sites; describe at least one [[site]]"}},
        {"", {"no sites"}},
        {"site = []\n" + k_node, {"no sites"}},
        {"node = []\n" + k_site, {"no nodes"}},
        {"site = [1]\n" + k_node, {"'site' must be [[site]] entries, not an array"}},
        {k_site, {"grid.toml: no nodes; describe at least one [[node]]"}},
        // types
        {"[[site]]\nname = 5\nkind = \"tank\"\ntarget = 60\n" + k_node,
         {"site #1: 'name' must be a string, not an integer"}},
        {"[[site]]\nkind = \"tank\"\ntarget = 60\n" + k_node,
         {"site #1: missing 'name'; add name = "}},
        {"[[site]]\nname = \"tank-a\"\nkind = \"tank\"\ntarget = \"60\"\n" + k_node,
         {"site 'tank-a': 'target' must be a number, not a string"}},
        {grid_with("band = true"), {"'band' must be a number, not a boolean"}},
        {grid_with("source = \"http\""),
         {"'source' must be a table, not a string", "[site.source] section"}},
        {grid_with("[site.thermal]\ndraw = 5"), {"'draw' must be an array, not an integer"}},
        {grid_with("[site.thermal]\ndraw = [5]"),
         {"site 'tank-a' thermal draw #1: must be a table, not an integer"}},
        {grid_with("", "slots = 2.5"), {"node 'n1': 'slots' must be a whole number, not a number"}},
        // target, bounds, band
        {"[[site]]\nname = \"tank-a\"\nkind = \"tank\"\nmin = 55\nmax = 70\ntarget = 200\n" +
             k_node,
         {"grid.toml:6: site 'tank-a': target 200 C is outside its safety bounds 55-70 C; "
          "choose a target within them"}},
        {"[[site]]\nname = \"tank-a\"\nkind = \"tank\"\ntarget = nan\n" + k_node,
         {"site 'tank-a': target nan is not a temperature"}},
        {"[[site]]\nname = \"tank-a\"\nkind = \"tank\"\ntarget = -inf\n" + k_node,
         {"target -inf is not a temperature"}},
        {"[[site]]\nname = \"tank-a\"\nkind = \"tank\"\n" + k_node,
         {"site 'tank-a': missing 'target'; add target = "}},
        {"[[site]]\nname = \"a\"\nkind = \"tank\"\ntarget = 60\nmin = 2\n" + k_node,
         {"site 'a': 'min' 2 C is outside the hard limits 5-85 C; set min within them"}},
        {"[[site]]\nname = \"a\"\nkind = \"tank\"\ntarget = 60\nmax = 90\n" + k_node,
         {"'max' 90 C is outside the hard limits 5-85 C; set max within them"}},
        {"[[site]]\nname = \"a\"\nkind = \"tank\"\ntarget = 60\nmin = 70\nmax = 60\n" + k_node,
         {"'min' 70 C is not below 'max' 60 C; set min below max"}},
        {"[[site]]\nname = \"a\"\nkind = \"tank\"\ntarget = 60\nmin = 60\nmax = 60\n" + k_node,
         {"'min' 60 C is not below 'max' 60 C"}},
        {"[[site]]\nname = \"a\"\nkind = \"tank\"\ntarget = 60\nmin = nan\n" + k_node,
         {"'min' is nan; give a finite number"}},
        {grid_with("band = 0"), {"'band' 0 K is out of range", "above 0 and up to 10 K"}},
        {grid_with("band = 10.5"), {"'band' 10.5 K is out of range"}},
        {grid_with("band = -1"), {"'band' -1 K is out of range"}},
        {grid_with("band = inf"), {"'band' is inf; give a finite number"}},
        {grid_with("recovery = 0.4"),
         {"grid.toml:7: site 'tank-a': 'recovery' 0.4 is out of range",
          "from 0.5 to 1.0 (e.g. recovery = 0.95)"}},
        {grid_with("recovery = 1.05"), {"'recovery' 1.05 is out of range"}},
        {grid_with("recovery = nan"), {"'recovery' is nan; give a finite number"}},
        {grid_with("recovery = \"95%\""), {"'recovery' must be a number, not a string"}},
        // names
        {k_site + "[[site]]\nname = \"tank-a\"\nkind = \"room\"\ntarget = 20\n" + k_node,
         {"grid.toml:8: site 'tank-a' is defined twice; give each [[site]] its own name"}},
        {grid_with("", node2 + "[[node]]\nname = \"n1\"\nsite = \"tank-a\"\n"),
         {"node 'n1' is defined twice; give each [[node]] its own name"}},
        {k_site + "[[site]]\nname = \"pool\"\nkind = \"room\"\ntarget = 28\n" +
             "[[node]]\nname = \"n1\"\nsite = \"tank-b\"\n",
         {"node 'n1': site 'tank-b' is not defined; defined sites: tank-a, pool"}},
        {"[[site]]\nname = \"tank a\"\nkind = \"tank\"\ntarget = 60\n" + k_node,
         {"site #1: site name 'tank a' is not allowed; use 1-64 letters, digits"}},
        {grid_with("", "[[node]]\nname = \"../n2\"\nsite = \"tank-a\"\n"),
         {"node #2: node name '../n2' is not allowed"}},
        {grid_with("", "[[node]]\nname = \"n2\"\n"), {"node 'n2': missing 'site'; add site = "}},
        // kinds, types and modes
        {"[[site]]\nname = \"a\"\nkind = \"pool\"\ntarget = 28\n" + k_node,
         {"site 'a': unknown kind 'pool'; use tank, room or loop"}},
        {"[[site]]\nname = \"a\"\ntarget = 28\n" + k_node,
         {"site 'a': missing 'kind'; add kind = \"tank\", \"room\" or \"loop\""}},
        {grid_with("[site.source]\ntype = \"bms\""),
         {"site 'tank-a' source: unknown source type 'bms'; use static, http, sim-tank or "
          "sim-room"}},
        {grid_with("[site.source]\nsafe_mode = \"off\""),
         {"unknown safe_mode 'off'; use min or hold"}},
        {grid_with("[site.source]\ntype = \"sim-room\""),
         {"source type 'sim-room' simulates a room but the site is a tank; use sim-tank"}},
        {"[[site]]\nname = \"a\"\nkind = \"room\"\ntarget = 21\n[site.source]\ntype = "
         "\"sim-tank\"\n" +
             k_node,
         {"source type 'sim-tank' simulates a tank but the site is a room; use sim-room"}},
        // schedules
        {grid_with("schedule = \"weekdays 06:00-25:00 at 60; otherwise 55\""),
         {"grid.toml:7: site 'tank-a': schedule: '25:00' is not a time; write HH:MM"}},
        {grid_with("schedule = \"weekdays 06:00-22:00 at 60\""),
         {"site 'tank-a': schedule: no 'otherwise' rule"}},
        {grid_with("schedule = \"weekdays 06:00-22:00 at 75; otherwise 55\""),
         {"site 'tank-a': schedule target 75 C is outside the site's bounds 55-70 C; change the "
          "schedule or the bounds"}},
        {grid_with("schedule = \"weekdays 06:00-22:00 at 60; otherwise 50\""),
         {"schedule target 50 C is outside"}},
        {grid_with("schedule = 60"), {"'schedule' must be a string, not an integer"}},
        // http sources
        {grid_with("[site.source]\ntype = \"http\""),
         {"site 'tank-a' source: an http source needs 'url'; add url = "}},
        {grid_with("[site.source]\ntype = \"http\"\nurl = \"ftp://bms/tank\""),
         {"'url' ftp://bms/tank is not an HTTP URL"}},
        {grid_with("[site.source]\nurl = \"http://bms/tank\""),
         {"'url' applies to http sources only; set type = \"http\" or remove it"}},
        {grid_with("[site.source]\ntype = \"sim-tank\"\npoll_s = 5"),
         {"'poll_s' applies to http sources only"}},
        {grid_with("[site.source]\ntype = \"http\"\nurl = \"http://b/t\"\nmeasured = 50"),
         {"'measured' applies to static sources only"}},
        {grid_with("[site.source]\ntype = \"http\"\nurl = \"http://b/t\"\ntimeout_s = 0"),
         {"'timeout_s' 0 is zero; give a timeout in seconds (above 0)"}},
        {grid_with("[site.source]\ntype = \"http\"\nurl = \"http://b/t\"\npoll_s = -10"),
         {"'poll_s' -10 is negative"}},
        {grid_with("[site.source]\ntype = \"http\"\nurl = \"http://b/t\"\npoll_s = 30\n"
                   "stale_after_s = 20"),
         {"'stale_after_s' 20 is below 'poll_s' 30", "set stale_after_s to poll_s or more"}},
        {grid_with("[site.source]\ntype = \"http\"\nurl = \"http://b/t\"\nmeasured_field = \"\""),
         {"'measured_field' is empty"}},
        {grid_with("[site.source]\nmeasured = 1000"),
         {"'measured' 1000 C is not a plausible temperature"}},
        // thermal parameters and draws
        {grid_with("[site.thermal]\nvolume_litres = -5"),
         {"site 'tank-a' thermal: 'volume_litres' -5 is negative; give the tank's volume in "
          "litres (above 0)"}},
        {grid_with("[site.thermal]\nloss_w_per_k = -1"), {"'loss_w_per_k' -1 is negative"}},
        {grid_with("[site.thermal]\ncapacity_j_per_k = -1e6"),
         {"'capacity_j_per_k' -1e+06 is negative"}},
        {grid_with("[site.thermal]\nresistance_k_per_w = 0"), {"'resistance_k_per_w' 0 is zero"}},
        {grid_with("[site.thermal]\nambient = 500"), {"'ambient' 500 C is not a plausible"}},
        {grid_with("[site.thermal]\ninitial = nan"), {"'initial' is nan"}},
        {grid_with("[site.thermal]\ndraw = [{ start = \"25:00\", end = \"26:00\", watts = 1 }]"),
         {"thermal draw #1: 'start' '25:00' is not a time; write HH:MM"}},
        {grid_with("[site.thermal]\ndraw = [{ start = \"06:00\", end = \"07:00\", watts = 1 },"
                   " { start = \"22:00\", end = \"06:00\", watts = 1 }]"),
         {"thermal draw #2: 'end' is not after 'start'", "write two"}},
        {grid_with("[site.thermal]\ndraw = [{ start = \"06:00\", end = \"07:00\", watts = -1 }]"),
         {"'watts' -1 is negative"}},
        {grid_with("[site.thermal]\ndraw = [{ start = \"06:00\", end = \"07:00\" }]"),
         {"draw #1: missing 'watts'"}},
        {grid_with("[site.thermal]\ndraw = [{ end = \"07:00\", watts = 5 }]"),
         {"draw #1: missing 'start'"}},
        // nodes
        {grid_with("", "slots = 0"), {"node 'n1': 'slots' 0 is out of range", "1 to 4096"}},
        {grid_with("", "slots = 5000"), {"'slots' 5000 is out of range"}},
        {grid_with("", "idle_watts = -5"), {"'idle_watts' -5 is negative"}},
        {grid_with("", "idle_watts = 100\nmax_watts = 100"),
         {"node 'n1': 'max_watts' 100 W is not above 'idle_watts' 100 W"}},
        {grid_with("", "idle_watts = 200"), {"'max_watts' 120 W is not above 'idle_watts' 200 W"}},
        {grid_with("", "agent = \"198.18.0.2:9750\""),
         {"'agent' 198.18.0.2:9750 is not an HTTP URL; write e.g. http://n1:9750"}},
        {grid_with("", "host = \"a b\""), {"'host' 'a b' is not a host name or address"}},
        {grid_with("", "host = \"\""), {"'host' '' is not a host name"}},
        {"gas_kgco2_per_kwh = -0.2\n" + grid_with(""), {"'gas_kgco2_per_kwh' -0.2 is negative"}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("grid:\n" << c.text) {
            for (const auto& needle : c.needles)
                BOOST_CHECK_EXCEPTION(parse(c.text), hearth::Error, usage_mentioning(needle));
            // One line, starting with the origin.
            try {
                parse(c.text);
            } catch (const hearth::Error& e) {
                const std::string what = e.what();
                BOOST_TEST(what.rfind("grid.toml", 0) == 0u, what);
                BOOST_TEST(what.find('\n') == std::string::npos, what);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(broken_fixtures_name_their_file) {
    BOOST_CHECK_EXCEPTION(
        hearth::load_grid(fixture("bad-node-site.toml")), hearth::Error,
        usage_mentioning("bad-node-site.toml:15: node 'n2': site 'tank-b' is not defined; "
                         "defined sites: tank-a"));
    BOOST_CHECK_EXCEPTION(hearth::load_grid(fixture("bad-schedule.toml")), hearth::Error,
                          usage_mentioning("bad-schedule.toml:8: site 'tank-a': schedule target "
                                           "75 C is outside"));
    BOOST_CHECK_EXCEPTION(hearth::load_grid(fixture("bad-syntax.toml")), hearth::Error,
                          usage_mentioning("bad-syntax.toml:6: TOML syntax error"));
}

// Found by tests/fuzz (corpus/grid/table-header-nul): toml++ 3.3.0 asserted,
// aborting the program, on a table header whose key starts with a character
// no key can start with (core/toml.hpp).
BOOST_AUTO_TEST_CASE(malformed_table_headers_are_syntax_errors_not_aborts) {
    for (const std::string& text : {std::string("[\0", 2), std::string("[[[1]]]\n"),
                                   std::string("[[=\n"), std::string("[[[]]\n")}) {
        BOOST_TEST_CONTEXT("text: " << text) {
            BOOST_CHECK_EXCEPTION(hearth::parse_grid(text, "grid.toml"), hearth::Error,
                                  usage_mentioning("grid.toml:"));
        }
    }
}

// Found by tests/fuzz (corpus/grid/unicode-fcff): toml++ 3.3.0 reached
// __builtin_unreachable() on U+FC7E-U+FEFE where whitespace may stand
// (core/toml.hpp); make test-asan's UBSan stops on it.
BOOST_AUTO_TEST_CASE(presentation_forms_where_whitespace_may_stand_are_syntax_errors) {
    for (const std::string& text : {std::string("\xef\xb3\xbf"), std::string("a = 1\xef\xb9\xb0\n")}) {
        BOOST_TEST_CONTEXT("text: " << text) {
            BOOST_CHECK_EXCEPTION(hearth::parse_grid(text, "grid.toml"), hearth::Error,
                                  usage_mentioning("grid.toml:1: TOML syntax error"));
        }
    }
}

BOOST_AUTO_TEST_CASE(unreadable_files_are_usage_errors) {
    hearth::test::TempDir dir;
    BOOST_CHECK_EXCEPTION(hearth::load_grid(dir.file("missing.toml")), hearth::Error,
                          usage_mentioning("missing.toml: No such file or directory"));
    BOOST_CHECK_EXCEPTION(hearth::load_grid(dir.path().string()), hearth::Error,
                          usage_mentioning("Is a directory"));
    const std::string path = dir.file("grid.toml");
    std::ofstream(path) << grid_with("band = 2");
    const Grid g = hearth::load_grid(path);
    BOOST_TEST(g.sites.at(0).band == 2);
}

BOOST_AUTO_TEST_CASE(tenant_table_reads_shares_limits_and_users) {
    const Grid g = parse(grid_with("") +
                         "[[tenant]]\nname = \"bank\"\nshare = 2.5\nmax_running = 12\n"
                         "user = \"hearth-bank\"\n"
                         "[[tenant]]\nname = \"studio_2\"\n");
    BOOST_TEST_REQUIRE(g.tenants.size() == 2u);
    BOOST_TEST(g.tenants[0].name == "bank");
    BOOST_TEST(g.tenants[0].share == 2.5);
    BOOST_TEST(g.tenants[0].max_running == 12u);
    BOOST_TEST(g.tenants[0].user == "hearth-bank");
    BOOST_TEST(g.tenants[1].name == "studio_2");
    BOOST_TEST(g.tenants[1].share == 1.0);  // defaults: an equal share, no limit, no user
    BOOST_TEST(g.tenants[1].max_running == 0u);
    BOOST_TEST(g.tenants[1].user.empty());
    BOOST_TEST(g.find_tenant("bank") == &g.tenants[0]);
    BOOST_TEST(g.find_tenant("nobody") == nullptr);
    // No table: no tenants (the scheduler gives every tenant an equal share).
    BOOST_TEST(parse(grid_with("")).tenants.empty());
    // An integer share and the bounds themselves are accepted.
    const Grid b = parse(grid_with("") + "[[tenant]]\nname = \"a\"\nshare = 1000000\n" +
                         "[[tenant]]\nname = \"b\"\nshare = 1e-6\nmax_running = 0\n");
    BOOST_TEST(b.tenants.at(0).share == 1e6);
    BOOST_TEST(b.tenants.at(1).share == 1e-6);
}

BOOST_AUTO_TEST_CASE(a_malformed_tenant_table_is_refused_with_its_line_and_fix) {
    const std::string base = grid_with("");
    const auto first = static_cast<int>(std::count(base.begin(), base.end(), '\n')) + 1;
    auto line = [&](int k) { return "grid.toml:" + std::to_string(first + k) + ": "; };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"[[tenant]]\nshare = 2\n", line(0) + "tenant #1: missing 'name'; add name = \"bank\""},
        {"[[tenant]]\nname = \"\"\n", line(1) + "tenant #1: tenant name '' is not allowed"},
        {"[[tenant]]\nname = \"Bank\"\n", "tenant name 'Bank' is not allowed; use 1-64 lower-case"},
        {"[[tenant]]\nname = \"a.b\"\n", "tenant name 'a.b' is not allowed"},
        {"[[tenant]]\nname = \"bank\"\nshare = 0\n",
         line(2) + "tenant 'bank': 'share' 0 is out of range; give the tenant's relative weight"},
        {"[[tenant]]\nname = \"bank\"\nshare = -1\n", "'share' -1 is out of range"},
        {"[[tenant]]\nname = \"bank\"\nshare = 2e6\n", "'share' 2e+06 is out of range"},
        {"[[tenant]]\nname = \"bank\"\nshare = nan\n", "'share' is nan; give a finite number"},
        {"[[tenant]]\nname = \"bank\"\nshare = \"2\"\n", "'share' must be a number, not a string"},
        {"[[tenant]]\nname = \"bank\"\nmax_running = -1\n",
         line(2) + "tenant 'bank': 'max_running' -1 is out of range; give the most slots"},
        {"[[tenant]]\nname = \"bank\"\nmax_running = 2.5\n", "'max_running' must be a whole number"},
        {"[[tenant]]\nname = \"bank\"\nuser = \"root\"\n", "'user' 'root' is not a Unix user"},
        {"[[tenant]]\nname = \"bank\"\nuser = \"Bad User\"\n", "'user' 'Bad User' is not a Unix user"},
        {"[[tenant]]\nname = \"bank\"\nshares = 2\n",
         line(2) + "tenant 'bank': unknown key 'shares'; valid keys: name share max_running user"},
        {"[[tenant]]\nname = \"bank\"\n[[tenant]]\nname = \"bank\"\n",
         line(3) + "tenant 'bank' is defined twice; give each [[tenant]] its own name"},
        {"[tenant]\nname = \"bank\"\n", "'tenant' must be [[tenant]] entries, not a table"},
    };
    for (const auto& [text, needle] : cases) {
        BOOST_TEST_CONTEXT(text) {
            BOOST_CHECK_EXCEPTION(parse(base + text), hearth::Error, usage_mentioning(needle));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_tenant_table_alone_is_read_from_any_document) {
    const auto t = hearth::parse_tenant_table(
        "name = \"scenario\"\n[[tenant]]\nname = \"bank\"\nshare = 3\n", "s.toml");
    BOOST_TEST_REQUIRE(t.size() == 1u);
    BOOST_TEST(t[0].share == 3.0);
    BOOST_TEST(hearth::parse_tenant_table("name = \"x\"\n", "s.toml").empty());
    BOOST_CHECK_EXCEPTION(hearth::parse_tenant_table("[[tenant]]\nname = \"b\"\nshare = 0\n", "s.toml"),
                          hearth::Error, usage_mentioning("s.toml:3: tenant 'b': 'share' 0"));
}

BOOST_AUTO_TEST_SUITE_END()
