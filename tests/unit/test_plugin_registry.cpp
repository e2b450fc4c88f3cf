#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/grid.hpp"
#include "core/plugin_registry.hpp"
#include "plugins/energy/select.hpp"
#include "plugins/heat/source.hpp"
#include "plugins/throttle/select.hpp"
#include "tests/unit/support.hpp"

namespace {

struct Widget {
    int size = 0;
};
using WidgetRegistry = hearth::PluginRegistry<Widget, int>;

WidgetRegistry widgets() {
    auto make = [](const int& n) { return std::make_unique<Widget>(Widget{n}); };
    return WidgetRegistry("widget", {{"small", 1, nullptr, make},
                                     {"named-only", 0, nullptr, make},
                                     {"large", 5, nullptr, make},
                                     {"medium", 1, nullptr, make}});
}

using Names = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_registry)

BOOST_AUTO_TEST_CASE(highest_priority_first_and_ties_as_registered) {
    const auto r = widgets();
    BOOST_TEST(r.kind() == "widget");
    BOOST_TEST(r.names() == (Names{"large", "small", "medium", "named-only"}),
               boost::test_tools::per_element());
    BOOST_TEST(r.names({"auto"}).front() == "auto");
    std::vector<std::string> tried;
    for (const auto* p : r.auto_order()) tried.push_back(p->name);
    BOOST_TEST(tried == (Names{"large", "small", "medium"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(find_by_name_and_build) {
    const auto r = widgets();
    BOOST_TEST(!r.find("huge"));
    BOOST_TEST(!r.find(""));
    const auto* p = r.find("named-only");
    BOOST_REQUIRE(p);
    BOOST_TEST(p->make(7)->size == 7);
}

BOOST_AUTO_TEST_CASE(names_join_for_messages) {
    BOOST_TEST(hearth::joined_names({}) == "");
    BOOST_TEST(hearth::joined_names({"a"}) == "a");
    BOOST_TEST(hearth::joined_names({"a", "b"}) == "a or b");
    BOOST_TEST(hearth::joined_names({"a", "b", "c"}) == "a, b or c");
    BOOST_TEST(hearth::joined_names({"a", "b", "c"}, ", ") == "a, b, c");
}

// The names people type in flags, config files and grid files.
BOOST_AUTO_TEST_CASE(the_registries_of_the_plugin_kinds) {
    BOOST_TEST(hearth::energy_source_names() ==
                   (Names{"auto", "redfish", "hwmon", "ipmi", "powercap", "papi", "model", "nvml"}),
               boost::test_tools::per_element());
    BOOST_TEST(
        hearth::throttle_names() == (Names{"auto", "slots", "powercap", "cgroup", "sigstop"}),
        boost::test_tools::per_element());
    BOOST_TEST(hearth::heat_sources().names() == (Names{"static", "http", "sim-tank", "sim-room"}),
               boost::test_tools::per_element());
    BOOST_TEST(hearth::heat_sources().auto_order().empty());
}

// grid-agent --probe: every actuator, in priority order, with its reason.
BOOST_AUTO_TEST_CASE(the_throttle_probe_names_every_actuator) {
    hearth::test::TempDir root;  // no powercap zones, no cgroup tree
    hearth::GridNode node;
    node.name = "n1";
    const auto probes = hearth::probe_actuators(
        {root.path().string(), node, 2, std::make_shared<hearth::ManualClock>()});
    BOOST_REQUIRE(probes.size() == 3u);
    BOOST_TEST(probes[0].source == "powercap");
    BOOST_TEST(!probes[0].available);
    BOOST_TEST(probes[0].detail.find("no writable RAPL power limit") != std::string::npos,
               probes[0].detail);
    BOOST_TEST(probes[1].source == "cgroup");
    BOOST_TEST(probes[2].source == "sigstop");
    BOOST_TEST(probes[2].available);
}

BOOST_AUTO_TEST_SUITE_END()
