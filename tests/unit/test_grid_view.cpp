// hearth dashboard's merging of its agents' answers (runner/grid_view).
#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/grid_view.hpp"

using namespace hearth;
using nlohmann::json;

namespace {

const char* k_grid = R"(
[[site]]
name = "tank"
kind = "tank"
target = 60
min = 55
max = 70
[[site]]
name = "pool"
kind = "room"
target = 28
min = 24
max = 32
[[node]]
name = "t1"
site = "tank"
agent = "http://127.0.0.1:1"
[[node]]
name = "t2"
site = "tank"
agent = "http://127.0.0.1:2"
[[node]]
name = "p1"
site = "pool"
agent = "http://127.0.0.1:3"
)";

// One agent's GET /v1/grid answer for its own node.
AgentAnswer grid_answer(const std::string& node, const std::string& site, double power,
                        double target, const std::string& alarm = "") {
    json heat{{"heat", true}, {"site", site}, {"node", node}, {"target", target},
              {"min", 55},    {"max", 70},    {"mode", "open"}};
    json entry{{"site", site},
               {"heat", heat},
               {"power_w", power},
               {"today_kwh", 2.0},
               {"today_useful_kwh", 1.5},
               {"alarms", alarm.empty() ? json::array() : json::array({alarm})},
               {"nodes", json::array({{{"node", node},
                                       {"agent", ""},
                                       {"state", "up"},
                                       {"power_w", power},
                                       {"slots", 4},
                                       {"slots_allowed", 2},
                                       {"tasks", 1}}})}};
    AgentAnswer a;
    a.node = node;
    a.agent = "http://" + node;
    a.status = 200;
    a.body = json{{"sites", json::array({entry})}};
    return a;
}

AgentAnswer silent(const std::string& node) {
    AgentAnswer a;
    a.node = node;
    a.agent = "http://" + node;
    a.failure = "Couldn't connect to server";
    return a;
}

AgentAnswer refused(const std::string& node, long status, const std::string& why) {
    AgentAnswer a;
    a.node = node;
    a.agent = "http://" + node;
    a.status = status;
    a.body = json{{"error", why}};
    return a;
}

AgentAnswer history_answer(const std::string& node, int res_s, const json& points) {
    AgentAnswer a;
    a.node = node;
    a.agent = "http://" + node;
    a.status = 200;
    a.body = json{{"node", node}, {"site", "tank"}, {"res_s", res_s}, {"points", points}};
    return a;
}

json point(std::int64_t t_ms, double power, json temp, json target = 60) {
    return {{"t_ms", t_ms}, {"power_w", power}, {"temp_c", temp}, {"target_c", target},
            {"slots_allowed", 2}, {"slots", 4}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grid_view)

BOOST_AUTO_TEST_CASE(a_site_sums_its_nodes_and_takes_the_first_answers_heat) {
    Grid g = parse_grid(k_grid, "grid.toml");
    json j = merge_grid(g, {grid_answer("t1", "tank", 100, 60), grid_answer("t2", "tank", 50, 60),
                            grid_answer("p1", "pool", 30, 28)});
    BOOST_REQUIRE_EQUAL(j["sites"].size(), 2u);
    const json& tank = j["sites"][0];
    BOOST_TEST(tank["site"] == "tank");
    BOOST_TEST(tank["power_w"].get<double>() == 150.0);
    BOOST_TEST(tank["today_kwh"].get<double>() == 4.0);
    BOOST_TEST(tank["today_useful_kwh"].get<double>() == 3.0);
    BOOST_TEST(tank["heat"]["node"] == "t1");
    BOOST_TEST(tank["alarms"].empty());
    BOOST_REQUIRE_EQUAL(tank["nodes"].size(), 2u);
    // The grid file's URL, not the agent's "" for itself.
    BOOST_TEST(tank["nodes"][1]["agent"] == "http://t2");
    BOOST_TEST(tank["nodes"][1]["state"] == "up");
    BOOST_TEST(tank["nodes"][1]["slots_allowed"] == 2);
    BOOST_TEST(tank["nodes"][1]["tasks"] == 1);
    BOOST_TEST(j["sites"][1]["site"] == "pool");
}

BOOST_AUTO_TEST_CASE(a_node_that_does_not_answer_is_down_with_an_alarm) {
    Grid g = parse_grid(k_grid, "grid.toml");
    json j = merge_grid(g, {grid_answer("t1", "tank", 100, 60, "feed stale"), silent("t2"),
                            grid_answer("p1", "pool", 30, 28)});
    const json& tank = j["sites"][0];
    BOOST_TEST(tank["power_w"].get<double>() == 100.0);
    BOOST_TEST(tank["nodes"][1]["state"] == "down");
    BOOST_TEST(tank["nodes"][1]["power_w"].get<double>() == 0.0);
    BOOST_REQUIRE_EQUAL(tank["alarms"].size(), 2u);
    BOOST_TEST(tank["alarms"][0] == "feed stale");
    BOOST_TEST(tank["alarms"][1].get<std::string>().find("node t2: no answer (Couldn't connect") == 0u);
}

BOOST_AUTO_TEST_CASE(a_site_with_no_node_answering_has_null_heat) {
    Grid g = parse_grid(k_grid, "grid.toml");
    json j = merge_grid(g, {silent("t1"), silent("t2"), silent("p1")});
    BOOST_REQUIRE_EQUAL(j["sites"].size(), 2u);
    BOOST_TEST(j["sites"][0]["heat"].is_null());
    BOOST_TEST(j["sites"][0]["alarms"].size() == 2u);
    // Nobody refused: the dashboard shows the dead grid, not an error.
    BOOST_TEST(common_refusal({silent("t1"), silent("p1")}) == nullptr);
}

BOOST_AUTO_TEST_CASE(agents_that_disagree_on_the_target_raise_an_alarm) {
    Grid g = parse_grid(k_grid, "grid.toml");
    json site = merge_grid_site(*g.find_site("tank"),
                                {grid_answer("t1", "tank", 1, 60), grid_answer("t2", "tank", 1, 62)});
    BOOST_REQUIRE_EQUAL(site["alarms"].size(), 1u);
    BOOST_TEST(site["alarms"][0].get<std::string>().find("disagree") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_agent_of_another_site_is_an_alarm_not_a_number) {
    Grid g = parse_grid(k_grid, "grid.toml");
    json site = merge_grid_site(*g.find_site("tank"), {grid_answer("t1", "pool", 999, 28)});
    BOOST_TEST(site["power_w"].get<double>() == 0.0);
    BOOST_TEST(site["nodes"][0]["state"] == "down");
    BOOST_TEST(site["alarms"][0].get<std::string>().find("reports no site 'tank'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_refusal_by_every_agent_is_passed_on_and_scoped_sites_are_left_out) {
    const std::vector<AgentAnswer> all{silent("t2"), refused("t1", 401, "no token"),
                                       refused("p1", 401, "no token")};
    const AgentAnswer* r = common_refusal(all);
    BOOST_REQUIRE(r != nullptr);
    BOOST_TEST(r->status == 401);
    BOOST_TEST(r->reason() == "HTTP 401: no token");
    // One agent answering is enough: the others' refusals become alarms.
    BOOST_TEST(common_refusal({grid_answer("p1", "pool", 1, 28), refused("t1", 403, "x")}) == nullptr);
    // A facility:pool token: the tank agents refuse it, so tank is not shown.
    Grid g = parse_grid(k_grid, "grid.toml");
    json j = merge_grid(g, {refused("t1", 403, "site tank only"), refused("t2", 403, "site tank only"),
                            grid_answer("p1", "pool", 30, 28)});
    BOOST_REQUIRE_EQUAL(j["sites"].size(), 1u);
    BOOST_TEST(j["sites"][0]["site"] == "pool");
}

BOOST_AUTO_TEST_CASE(history_sums_power_and_means_temperature_per_bucket) {
    std::vector<AgentAnswer> answers{history_answer("t1", 10, json::array({point(10000, 100, 58.0),
                                                                          point(20000, 110, 59.0)})),
                                     history_answer("t2", 10, json::array({point(20000, 50, 61.0),
                                                                          point(30000, 40, nullptr)}))};
    json h = merge_history("tank", std::nullopt, answers);
    BOOST_TEST(h["site"] == "tank");
    BOOST_TEST(h["res_s"] == 10);
    BOOST_TEST(h["nodes"] == json::array({"t1", "t2"}));
    BOOST_REQUIRE_EQUAL(h["points"].size(), 3u);
    BOOST_TEST(h["points"][0]["t_ms"] == 10000);
    BOOST_TEST(h["points"][0]["power_w"].get<double>() == 100.0);
    BOOST_TEST(h["points"][1]["power_w"].get<double>() == 160.0);
    BOOST_TEST(h["points"][1]["temp_c"].get<double>() == 60.0);
    BOOST_TEST(h["points"][1]["slots"] == 8);
    BOOST_TEST(h["points"][2]["temp_c"].is_null());
}

BOOST_AUTO_TEST_CASE(history_leaves_out_silent_nodes_and_other_resolutions) {
    std::vector<AgentAnswer> answers{
        history_answer("t1", 2, json::array({point(2000, 10, 50.0), point(4000, 12, 51.0)})),
        history_answer("t2", 60, json::array({point(0, 99, 40.0)})), silent("t3")};
    json h = merge_history("tank", std::nullopt, answers);
    BOOST_TEST(h["res_s"] == 2);
    BOOST_TEST(h["points"].size() == 2u);
    BOOST_REQUIRE_EQUAL(h["missing"].size(), 2u);
    BOOST_TEST(h["missing"][0]["node"] == "t2");
    BOOST_TEST(h["missing"][1]["node"] == "t3");
    // Asked for 60: the 60 s series is the one kept.
    json h60 = merge_history("tank", 60, answers);
    BOOST_TEST(h60["points"].size() == 1u);
    BOOST_TEST(h60["points"][0]["power_w"].get<double>() == 99.0);
}

BOOST_AUTO_TEST_CASE(history_points_skip_malformed_entries) {
    json answer{{"points", json::array({point(1000, 5, 20.0), {{"t_ms", "soon"}}, json(3),
                                        {{"t_ms", 2000}, {"power_w", "x"}}})}};
    auto pts = history_points(answer, 10);
    BOOST_REQUIRE_EQUAL(pts.size(), 2u);
    BOOST_TEST(pts[0].temp_c.value() == 20.0);
    BOOST_TEST(pts[1].power_w == 0.0);
    BOOST_TEST(!pts[1].temp_c.has_value());
    BOOST_TEST(history_json(pts)[1]["temp_c"].is_null());
}

BOOST_AUTO_TEST_CASE(energy_rows_are_summed_by_key_over_agents) {
    auto rows = [](const std::string& node, json r) {
        AgentAnswer a;
        a.node = node;
        a.agent = "http://" + node;
        a.status = 200;
        a.body = json{{"node", node}, {"by", "job"}, {"rows", r}};
        return a;
    };
    auto row = [](const std::string& key, std::uint64_t uj, bool est) {
        return json{{"key", key}, {"energy_uj", uj}, {"static_uj", uj / 2}, {"seconds", 1.5},
                    {"estimated", est}};
    };
    json j = merge_energy("job", {rows("t1", json::array({row("render", 1000, false), row("mc", 7, false)})),
                                  rows("p1", json::array({row("render", 500, true)})), silent("t2")});
    BOOST_TEST(j["by"] == "job");
    BOOST_TEST(j["answered"] == 2);
    BOOST_TEST(j["agents"] == 3);
    BOOST_REQUIRE_EQUAL(j["rows"].size(), 2u);
    BOOST_TEST(j["rows"][0]["key"] == "mc");
    BOOST_TEST(j["rows"][1]["key"] == "render");
    BOOST_TEST(j["rows"][1]["energy_uj"] == 1500u);
    BOOST_TEST(j["rows"][1]["static_uj"] == 750u);
    BOOST_TEST(j["rows"][1]["seconds"].get<double>() == 3.0);
    BOOST_TEST(j["rows"][1]["estimated"] == true);
    BOOST_TEST(j["rows"][0]["estimated"] == false);
    BOOST_REQUIRE_EQUAL(j["missing"].size(), 1u);
    BOOST_TEST(j["missing"][0]["node"] == "t2");
}

BOOST_AUTO_TEST_CASE(listen_is_loopback_only) {
    auto a = parse_loopback_listen("127.0.0.1:9760");
    BOOST_TEST(a.host == "127.0.0.1");
    BOOST_TEST(a.port == 9760);
    BOOST_TEST(parse_loopback_listen("127.1.2.3:0").port == 0);
    BOOST_TEST(parse_loopback_listen("[::1]:9760").host == "::1");
    BOOST_TEST(parse_loopback_listen("localhost:80").host == "localhost");
    for (const char* bad : {"0.0.0.0:9760", "10.0.0.5:9760", "[::]:9760", "127.example.com:1",
                            "host:9760", "127.0.0.1", "127.0.0.1:70000", "127.0.0.1:x", ":9760"}) {
        try {
            parse_loopback_listen(bad);
            BOOST_ERROR("accepted " << bad);
        } catch (const Error& e) {
            BOOST_TEST((e.code() == ExitCode::usage));
            BOOST_TEST(std::string(e.what()).find('\n') == std::string::npos);
        }
    }
    try {
        parse_loopback_listen("0.0.0.0:9760");
    } catch (const Error& e) {
        BOOST_TEST(std::string(e.what()).find("ssh -L") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
