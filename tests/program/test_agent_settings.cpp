// grid-agent's settings table: one row per setting drives its flag, its TOML
// key, the merge of the two and the man page's list, so these checks hold for
// a setting added later without editing them.
#include <boost/test/unit_test.hpp>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "grid-agent/config.hpp"
#include "tests/unit/support.hpp"

using namespace hearth;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;

namespace {

std::string man_page() {
    // HEARTH_ROOT (tests/run.sh) or the working directory, as the fixtures.
    const char* root = std::getenv("HEARTH_ROOT");
    std::ifstream in(std::filesystem::path(root && *root ? root : ".") / "man/grid-agent.8");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void parse(CLI::App& app, std::vector<std::string> args) {
    std::vector<char*> argv{const_cast<char*>("grid-agent")};
    for (auto& a : args) argv.push_back(a.data());
    app.parse(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_config)

BOOST_AUTO_TEST_CASE(every_setting_has_one_key_one_flag_and_help) {
    std::set<std::string> keys, flags;
    for (const auto& s : hearth::agent_settings()) {
        BOOST_TEST(keys.insert(s.key).second, "key " << s.key << " twice");
        BOOST_TEST(flags.insert(s.flag).second, "flag " << s.flag << " twice");
        BOOST_TEST(s.flag.rfind("--", 0) == 0u);
        BOOST_TEST(!s.help.empty(), s.flag << " has no help");
    }
    BOOST_TEST(keys.size() >= 20u);
}

BOOST_AUTO_TEST_CASE(every_key_and_flag_is_in_the_man_page) {
    const std::string page = man_page();
    BOOST_REQUIRE_MESSAGE(
        !page.empty(), "man/grid-agent.8 not found; run from the source tree or set HEARTH_ROOT");
    for (const auto& s : hearth::agent_settings()) {
        // In --config's list: ".BR key ," or, before the "and", ".B key".
        const bool listed = page.find(".BR " + s.key + " ,") != std::string::npos ||
                            page.find(".B " + s.key + "\n") != std::string::npos;
        BOOST_TEST(listed, "TOML key " << s.key << " is not in grid-agent(8)");
        std::string roff_flag;  // man pages escape the hyphens
        for (char c : s.flag) roff_flag += c == '-' ? std::string("\\-") : std::string(1, c);
        BOOST_TEST(page.find(roff_flag) != std::string::npos, s.flag << " is not in grid-agent(8)");
    }
}

BOOST_AUTO_TEST_CASE(flags_win_over_the_file_and_the_file_over_the_defaults) {
    TempDir t;
    {
        std::ofstream f(t.file("agent.toml"));
        f << "site = \"tank-b\"\nrate_hz = 5\nno_auth = true\nhistory_step_s = 30\nworker_user = "
             "\"w\"\n";
    }
    AgentConfig file;
    load_agent_config(t.file("agent.toml"), file);
    BOOST_TEST(file.site == "tank-b");
    BOOST_TEST(file.rate_hz == 5);
    BOOST_TEST(file.no_auth);
    BOOST_TEST(file.history_step_s == 30);
    BOOST_TEST(file.worker_user == "w");
    BOOST_TEST(file.listen == "127.0.0.1:9750");  // not in the file: the default

    CLI::App app;
    AgentConfig cfg;
    add_agent_flags(app, cfg);
    parse(app, {"--rate", "20", "--public-metrics", "--site", "tank-c"});
    merge_agent_config(app, file, cfg);
    BOOST_TEST(cfg.rate_hz == 20);
    BOOST_TEST(cfg.site == "tank-c");
    BOOST_TEST(cfg.public_metrics);
    BOOST_TEST(cfg.no_auth);               // from the file
    BOOST_TEST(cfg.history_step_s == 30);  // from the file
    BOOST_TEST(cfg.listen == "127.0.0.1:9750");
}

BOOST_AUTO_TEST_CASE(unknown_keys_and_wrong_types_name_the_fix) {
    TempDir t;
    auto load = [&](const std::string& text) {
        std::ofstream(t.file("a.toml")) << text;
        AgentConfig cfg;
        load_agent_config(t.file("a.toml"), cfg);
    };
    BOOST_CHECK_EXCEPTION(load("rate = 5\n"), Error,
                          usage_mentioning("unknown key 'rate'; valid keys: node site"));
    BOOST_CHECK_EXCEPTION(load("x = 1\n"), Error, usage_mentioning("dashboard history_step_s"));
    BOOST_CHECK_EXCEPTION(load("rate_hz = \"fast\"\n"), Error,
                          usage_mentioning("'rate_hz' must be a number"));
    BOOST_CHECK_EXCEPTION(load("node = 3\n"), Error, usage_mentioning("'node' must be a string"));
    BOOST_CHECK_EXCEPTION(load("no_auth = \"yes\"\n"), Error,
                          usage_mentioning("'no_auth' must be true or false"));
}

BOOST_AUTO_TEST_CASE(redfish_limits_out_of_range_are_usage_errors) {
    auto finish = [](double timeout_s, double max_kib) {
        AgentConfig cfg;
        cfg.redfish_timeout_s = timeout_s;
        cfg.redfish_max_kib = max_kib;
        finish_agent_config(cfg, false);
    };
    BOOST_CHECK_NO_THROW(finish(2, 1024));
    BOOST_CHECK_EXCEPTION(finish(0, 1024), Error, usage_mentioning("use 0.1 to 30 (default 2)"));
    BOOST_CHECK_EXCEPTION(finish(std::nan(""), 1024), Error,
                          usage_mentioning("'redfish_timeout_s' nan is out of range"));
    BOOST_CHECK_EXCEPTION(finish(2, 0.5), Error, usage_mentioning("use 1 to 65536 (default 1024)"));
}

// Every number carries its range in the table, so a new numeric setting
// cannot skip the check.
BOOST_AUTO_TEST_CASE(every_number_has_a_range_that_holds_its_default) {
    const AgentConfig defaults;
    for (const auto& s : agent_settings()) {
        const auto* member = std::get_if<double AgentConfig::*>(&s.field);
        if (!member) {
            BOOST_TEST(!s.range.has_value(), s.key << ": a range on a setting that is no number");
            continue;
        }
        BOOST_TEST_REQUIRE(s.range.has_value(), s.key << " has no range");
        const double dflt = defaults.**member;
        BOOST_TEST(s.range->lo <= dflt, s.key);
        BOOST_TEST(dflt <= s.range->hi, s.key);
    }
}

// One check for the file and the flags: one line naming the key, the range
// and where the value came from (the file's line, or the flag).
BOOST_AUTO_TEST_CASE(out_of_range_names_the_key_the_range_and_the_place) {
    TempDir t;
    auto load = [&](const std::string& text) {
        std::ofstream(t.file("a.toml")) << text;
        AgentConfig cfg;
        load_agent_config(t.file("a.toml"), cfg);
    };
    BOOST_CHECK_EXCEPTION(
        load("site = \"pool\"\nrate_hz = 500\n"), Error,
        usage_mentioning("a.toml:2: 'rate_hz' 500 is out of range; use 0.1 to 100 (default 10)"));
    BOOST_CHECK_EXCEPTION(load("history_step_s = 0\n"), Error,
                          usage_mentioning(":1: 'history_step_s' 0 is out of range; use 1 to 60"));
    BOOST_CHECK_EXCEPTION(load("commit_s = nan\n"), Error,
                          usage_mentioning("'commit_s' nan is out of range; use 0 to 1"));
    BOOST_CHECK_NO_THROW(load("rate_hz = 100\ncommit_s = 0\nidle_watts = 0\n"));

    // The same check for a flag, after the file and the flags are merged.
    CLI::App app;
    AgentConfig cfg;
    add_agent_flags(app, cfg);
    parse(app, {"--control", "7200"});
    BOOST_CHECK_EXCEPTION(
        finish_agent_config(cfg, false), Error,
        usage_mentioning(
            "--control: 'control_s' 7200 is out of range; use 0.1 to 3600 (default 10)"));
    for (const auto& s : agent_settings()) {
        if (!s.range) continue;
        const std::string msg = [&] {
            try {
                check_setting_range(s, s.range->hi * 2 + 1, "here");
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string();
        }();
        BOOST_TEST(msg.find("here: '" + s.key + "'") == 0u, msg);
        BOOST_TEST(msg.find('\n') == std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
