#include <boost/test/unit_test.hpp>

#include <string>

#include "core/agent_bodies.hpp"
#include "core/error.hpp"
#include "tests/unit/support.hpp"

using hearth::test::usage_mentioning;

// The agent's HTTP bodies that hearth energy and hearth dashboard read
// (core/agent_bodies): what the agent writes reads back the same.
BOOST_AUTO_TEST_SUITE(agent_bodies)

BOOST_AUTO_TEST_CASE(an_energy_row_reads_back_as_written) {
    hearth::EnergyRow r;
    r.key = "bank";
    r.energy = hearth::Microjoules{9'000'000};
    r.static_part = hearth::Microjoules{1'000'000};
    r.seconds = 12.5;
    r.estimated = true;
    r.estimated_part = hearth::Microjoules{4'000'000};
    r.sources = {"model", "rapl"};
    const auto back = hearth::energy_row_from_json(hearth::energy_row_json(r));
    BOOST_TEST(back.key == r.key);
    BOOST_TEST(back.energy.value == r.energy.value);
    BOOST_TEST(back.static_part.value == r.static_part.value);
    BOOST_TEST(back.seconds == r.seconds);
    BOOST_TEST(back.estimated == r.estimated);
    BOOST_TEST(back.estimated_part.value == r.estimated_part.value);
    BOOST_TEST(back.sources == r.sources, boost::test_tools::per_element());
}

// An older agent does not split its rows: an estimated row is estimated
// throughout. A row that is not one is a usage error naming the field.
BOOST_AUTO_TEST_CASE(older_and_broken_rows) {
    const auto old = hearth::energy_row_from_json(nlohmann::json::parse(
        R"({"key":"k","energy_uj":50,"static_uj":0,"seconds":1.0,"estimated":true})"));
    BOOST_TEST(old.estimated_part.value == 50u);
    BOOST_CHECK_EXCEPTION(hearth::energy_row_from_json({{"key", "k"}, {"energy_uj", -1}}),
                          hearth::Error, usage_mentioning("energy_uj"));
    BOOST_CHECK_EXCEPTION(hearth::energy_row_from_json(nlohmann::json::array()), hearth::Error,
                          usage_mentioning("energy row"));
}

BOOST_AUTO_TEST_CASE(a_history_point_reads_back_as_written) {
    hearth::HistoryPoint p;
    p.t_ms = 1'799'020'800'000;
    p.res_s = 60;
    p.power_w = 412.5;
    p.temp_c = 27.25;
    p.slots_allowed = 6;
    p.slots = 4;  // no target: written null, read as none
    const auto back = hearth::history_point_from_json(hearth::history_point_json(p), 60);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST((*back == p));
    // A point without a whole t_ms is skipped, not a reason to drop the day.
    BOOST_TEST(!hearth::history_point_from_json({{"t_ms", "noon"}}, 60).has_value());
    BOOST_TEST(!hearth::history_point_from_json(nlohmann::json(3), 60).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
