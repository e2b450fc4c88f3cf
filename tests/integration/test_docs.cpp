// The man pages lint clean and document exactly the options --help prints.
#include <boost/test/unit_test.hpp>
#include <regex>

#include "harness.hpp"

using namespace hearth::test;

namespace {

std::set<std::string> long_options(const std::string& text) {
    std::set<std::string> found;
    std::regex re("--([a-z][a-z-]*[a-z])");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
         ++it)
        found.insert((*it)[1]);
    return found;
}

std::string man_text(const std::string& page) {
    std::string src = slurp(fs::path(repo_root()) / "man" / page);
    // Roff escapes a hyphen as \-; read it as the option a user types.
    std::string plain;
    for (std::size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\\' && i + 1 < src.size() && src[i + 1] == '-') {
            plain += '-';
            ++i;
        } else {
            plain += src[i];
        }
    }
    return plain;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(docs)

BOOST_AUTO_TEST_CASE(man_pages_lint_clean) {
    int pages = 0;
    for (const auto& e : fs::directory_iterator(fs::path(repo_root()) / "man")) {
        std::string p = e.path().string();
        if (!std::regex_search(p, std::regex("\\.[1-8]$"))) continue;
        ++pages;
        TempDir t;
        std::string cmd = "mandoc -Tlint -W warning " + quote(p) + " > " + quote((t / "lint").string()) + " 2>&1";
        int st = std::system(cmd.c_str());
        BOOST_TEST(WEXITSTATUS(st) == 0, p << ": " << slurp(t / "lint"));
    }
    BOOST_TEST(pages >= 6);
    // Everything a user types or configures has its page.
    for (const char* page : {"hearth.1", "grid-agent.8", "hearth-grid.5", "hearth-scenario.5",
                             "hearth-api.7", "hearth-ledger.5", "hearth-tokens.5"})
        BOOST_TEST(fs::exists(fs::path(repo_root()) / "man" / page), page);
}

BOOST_AUTO_TEST_CASE(every_hearth_option_is_documented_and_every_documented_one_exists) {
    TempDir t;
    std::string page = man_text("hearth.1");
    std::set<std::string> help_opts;
    // Every subcommand --help lists, and theirs (hearth heat show ...): each
    // is named in hearth(1) and has its options documented there.
    std::vector<std::vector<std::string>> todo = {{}};
    int commands = 0;
    while (!todo.empty()) {
        std::vector<std::string> cmd = todo.back();
        todo.pop_back();
        std::vector<std::string> args = cmd;
        args.push_back("--help");
        Result r = run_hearth(args, t.path);
        std::string name = "hearth";
        for (const auto& w : cmd) name += " " + w;
        BOOST_REQUIRE_MESSAGE(r.code == 0, name << " --help: " << r.err);
        if (!cmd.empty()) {
            ++commands;
            BOOST_TEST(page.find(name) != std::string::npos, "hearth(1) does not mention " << name);
        }
        auto at = r.out.find("\nSubcommands:\n");
        if (at != std::string::npos) {
            std::stringstream lines(r.out.substr(at + 14));
            std::string line;
            std::smatch m;
            while (std::getline(lines, line) &&
                   std::regex_search(line, m, std::regex("^  ([a-z-]+) "))) {
                auto sub = cmd;
                sub.push_back(m[1]);
                todo.push_back(sub);
            }
        }
        for (const auto& o : long_options(r.out)) {
            if (o == "help" || o == "version") continue;
            help_opts.insert(o);
            BOOST_TEST(page.find("--" + o) != std::string::npos,
                       "--" << o << " of " << name << " is not in hearth(1)");
        }
    }
    BOOST_TEST(commands >= 12);  // run ... energy, sim, heat and its four
    BOOST_TEST(help_opts.size() >= 15u);
    // Examples (.EX ... .EE) show the tasks' own options too: leave them out.
    std::string prose = std::regex_replace(page, std::regex("\\.EX\n[\\s\\S]*?\\.EE\n"), "");
    for (const auto& o : long_options(prose))
        BOOST_TEST(help_opts.count(o) == 1u, "hearth(1) documents --" << o << ", which hearth lacks");
}

BOOST_AUTO_TEST_CASE(every_grid_agent_option_is_documented_and_every_documented_one_exists) {
    const char* b = std::getenv("GRID_AGENT_BIN");
    std::string bin = fs::absolute(b && *b ? b : "build/bin/grid-agent").string();
    TempDir t;
    int st = std::system((quote(bin) + " --help > " + quote((t / "help").string())).c_str());
    BOOST_REQUIRE_EQUAL(WEXITSTATUS(st), 0);
    std::string page = man_text("grid-agent.8");
    std::set<std::string> help_opts;
    for (const auto& o : long_options(slurp(t / "help"))) {
        if (o == "help") continue;
        help_opts.insert(o);
        BOOST_TEST(page.find("--" + o) != std::string::npos, "--" << o << " is not in grid-agent(8)");
    }
    BOOST_TEST(help_opts.size() >= 10u);
    for (const auto& o : long_options(page))
        BOOST_TEST(help_opts.count(o) == 1u, "grid-agent(8) documents --" << o << ", which grid-agent lacks");
}

BOOST_AUTO_TEST_SUITE_END()
