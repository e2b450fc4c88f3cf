// The man pages list every plugin by the name the registry gives it, and no
// other: grid-agent(8)'s --energy and --throttle lists and hearth-grid(5)'s
// heat source types are read from the pages and compared with the
// registries, so a plugin added, renamed or removed fails here until its
// page says so.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "plugins/energy/select.hpp"
#include "plugins/heat/source.hpp"
#include "plugins/throttle/select.hpp"

namespace {

using Names = std::set<std::string>;

std::string man_page(const std::string& name) {
    // HEARTH_ROOT (tests/run.sh) or the working directory, as the fixtures.
    const char* root = std::getenv("HEARTH_ROOT");
    std::ifstream in(std::filesystem::path(root && *root ? root : ".") / "man" / name);
    std::stringstream s;
    s << in.rdbuf();
    BOOST_REQUIRE_MESSAGE(!s.str().empty(), "man/" << name
                                                   << " not found; run from the source tree or "
                                                      "set HEARTH_ROOT");
    return s.str();
}

// The text from `start` to the first `end` after it.
std::string section(const std::string& page, const std::string& start, const std::string& end) {
    const auto from = page.find(start);
    BOOST_REQUIRE_MESSAGE(from != std::string::npos, "no '" << start << "' in the page");
    const auto to = page.find(end, from + start.size());
    return page.substr(from + start.size(),
                       to == std::string::npos ? std::string::npos : to - from - start.size());
}

// The one-word bold names of a section: ".B name", ".BR name ,", ".BR name ."
// or ".BR name \" (default),\"" ("\-" unescaped).
// Plain string scanning, not std::regex: g++ 12's -O1 ASan build (make
// test-asan) warns maybe-uninitialized inside <regex>, and warnings are errors.
Names bold_words(const std::string& text) {
    Names out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::size_t at = 0;
        if (line.rfind(".B ", 0) == 0)
            at = 3;
        else if (line.rfind(".BR ", 0) == 0)
            at = 4;
        else
            continue;
        if (at >= line.size() || line[at] < 'a' || line[at] > 'z') continue;
        std::string name;
        std::size_t i = at;
        for (; i < line.size(); ++i) {
            const char c = line[i];
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
                name += c;
            else if (c == '\\' && i + 1 < line.size() && line[i + 1] == '-')
                name += '-', ++i;
            else
                break;
        }
        if (i < line.size() && line[i] != ' ') continue;  // not one word
        out.insert(name);
    }
    return out;
}

Names as_set(const std::vector<std::string>& v) {
    return Names(v.begin(), v.end());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_docs)

BOOST_AUTO_TEST_CASE(grid_agent_8_lists_the_energy_sources_of_the_registry) {
    const std::string list =
        section(man_page("grid-agent.8"), ".BI \\-\\-energy \" source\"\n", "\n.TP");
    BOOST_TEST(bold_words(list) == as_set(hearth::energy_source_names()),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(grid_agent_8_lists_the_throttle_actuators_of_the_registry) {
    // The list ends where the page turns to what happens to an unusable one.
    const std::string list = section(man_page("grid-agent.8"), ".BI \\-\\-throttle \" how\"\n",
                                     "An actuator that cannot run");
    BOOST_TEST(bold_words(list) == as_set(hearth::throttle_names()),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hearth_grid_5_lists_the_heat_sources_of_the_registry) {
    // The types: the ".TP" items between type's ".RS" and ".RE".
    const std::string list = section(
        section(man_page("hearth-grid.5"), ".B type\nString (default", ".RE"), ".RS", ".RE");
    Names items;
    std::istringstream in(list);
    std::string prev;
    for (std::string line; std::getline(in, line); prev = line)
        if (prev == ".TP") {
            const Names w = bold_words(line);
            items.insert(w.begin(), w.end());
        }
    BOOST_TEST(items == as_set(hearth::heat_sources().names()), boost::test_tools::per_element());
    // What the grid file accepts (core/grid, read before plugins) is the registry.
    BOOST_TEST(as_set(hearth::heat_source_types()) == as_set(hearth::heat_sources().names()),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
