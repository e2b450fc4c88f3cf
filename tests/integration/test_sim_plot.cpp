// `hearth sim --plot`: real gnuplot draws valid SVG and PNG files of sane
// size, from data that agree with the simulation's own JSON; bad options and
// a missing or failing gnuplot leave no file behind.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "harness.hpp"

using namespace hearth::test;

namespace {

std::string scenario_path(const std::string& name) {
    return repo_root() + "/examples/heat-targets/" + name + ".toml";
}

// The data file's blocks (two blank lines apart), rows of numbers, comments
// left out.
std::vector<std::vector<std::vector<double>>> blocks(const std::string& data) {
    std::vector<std::vector<std::vector<double>>> out(1);
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
        std::vector<double> row;
        std::istringstream f(line);
        std::string field;
        while (std::getline(f, field, '\t')) row.push_back(std::stod(field));
        out.back().push_back(row);
    }
    return out;
}

std::uint32_t be32(const std::string& s, std::size_t at) {
    auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + k])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

bool near(double a, double b, double abs_tol, double rel_tol = 0) {
    return std::fabs(a - b) <= abs_tol + rel_tol * std::max(std::fabs(a), std::fabs(b));
}

struct Plotted {
    std::vector<nlohmann::json> runs;  // the JSON lines, one per policy
    std::string data;                  // --plot-data
};

Plotted plot(const TempDir& t, const std::string& scenario, const std::string& out,
             const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"sim", scenario, "--policy", "both", "--json", "--plot", out,
                                     "--plot-data", "plot.tsv"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = run_hearth(args, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, "hearth sim --plot " << out << ": " << r.err);
    Plotted p{json_lines(r.out), slurp(t / "plot.tsv")};
    BOOST_TEST_REQUIRE(p.runs.size() == 2u, r.out);
    return p;
}

// Every (site, policy) block of the data against the JSON's numbers for
// that site: its final temperature, starved hours and heat delivered.
void check_data_against_json(const Plotted& p, const std::vector<std::string>& sites) {
    const auto b = blocks(p.data);
    BOOST_TEST_REQUIRE(b.size() == sites.size() * 2 + 1);  // + the jobs
    const double simulated_s = p.runs[0]["simulated_s"].get<double>();
    for (std::size_t k = 0; k < sites.size(); ++k) {
        for (std::size_t run = 0; run < 2; ++run) {
            const auto& json = p.runs[run];
            const nlohmann::json* site = nullptr;
            for (const auto& s : json["sites"])
                if (s["name"] == sites[k]) site = &s;
            BOOST_TEST_REQUIRE(site != nullptr);
            const auto& rows = b[k * 2 + run];
            BOOST_TEST_CONTEXT(sites[k] << " " << json["policy"]) {
                BOOST_TEST_REQUIRE(rows.size() > 100u);
                BOOST_TEST(rows.back()[1] * 3600 == simulated_s);
                BOOST_TEST(near(rows.back()[2], (*site)["final_c"].get<double>(), 1e-4));
                BOOST_TEST(near(rows.back()[8], (*site)["starved_h"].get<double>(), 1e-6));
                double kwh = 0;
                for (std::size_t i = 1; i < rows.size(); ++i) kwh += rows[i][6] * (rows[i][1] - rows[i - 1][1]);
                BOOST_TEST(near(kwh, (*site)["delivered_kwh"].get<double>(), 1e-3, 1e-5));
            }
        }
    }
    BOOST_TEST(b.back().size() == p.runs[0]["jobs"].size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sim_plot)

BOOST_AUTO_TEST_CASE(an_svg_plot_is_valid_xml_and_draws_the_simulated_data) {
    TempDir t;
    const Plotted p = plot(t, scenario_path("urgent"), "week.svg");
    check_data_against_json(p, {"home-tank", "pool-hall", "office"});
    // A week at 15-minute samples, plus the start.
    BOOST_TEST(blocks(p.data)[0].size() == 7 * 96 + 1u);
    // The urgent job's deadline override, drawn where the JSON says it was.
    double override_kwh = 0;
    for (const auto& block : {0, 2, 4}) {
        const auto rows = blocks(p.data)[static_cast<std::size_t>(block)];
        for (std::size_t i = 1; i < rows.size(); ++i) override_kwh += rows[i][7] * (rows[i][1] - rows[i - 1][1]);
    }
    BOOST_TEST(near(override_kwh, p.runs[0]["override_kwh"].get<double>(), 1e-4, 1e-4));
    BOOST_TEST(override_kwh > 0);

    const std::string svg = slurp(t / "week.svg");
    int code = -1;
    const std::string root = sh_out(
        "python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
        "print(r.tag, r.get(\"width\"), r.get(\"height\"))' " + quote((t / "week.svg").string()), &code);
    BOOST_TEST(code == 0, root);
    BOOST_TEST(root == "{http://www.w3.org/2000/svg}svg 1240 1810\n");
    for (const char* needle : {"home-tank (tank)", "pool-hall (room)", "office (room)", "heat-aware", "unaware",
                               "target ± band", "deadline override, kW", "starved, h", "power, kW",
                               "temperature, °C", "UTC", "Mon 05 Apr"})
        BOOST_TEST(svg.find(needle) != std::string::npos, needle);
    BOOST_TEST(!fs::exists(t / ".week.svg.hearth-tmp"));
}

BOOST_AUTO_TEST_CASE(a_png_plot_has_the_signature_and_a_page_sized_image) {
    TempDir t;
    const Plotted p = plot(t, scenario_path("winter-week"), "week.png", {"--plot-site", "office"});
    check_data_against_json(p, {"office"});
    const std::string png = slurp(t / "week.png");
    BOOST_TEST_REQUIRE(png.size() > 20000u);  // a drawn page, not an empty one
    BOOST_TEST(png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0);
    BOOST_TEST(png.compare(12, 4, "IHDR") == 0);
    BOOST_TEST(be32(png, 16) == 1240u);  // A4's width at 150 dpi
    BOOST_TEST(be32(png, 20) == 690u);   // one site: a third of a page, the title and legend
    BOOST_TEST(png_image_chunks(png).find("IEND") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_table_says_where_the_plot_went) {
    TempDir t;
    const Result r = run_hearth({"sim", scenario_path("mild-week"), "--plot", "mild.svg"}, t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("plot: mild.svg (3 of 3 sites)") != std::string::npos, r.out);
    BOOST_TEST(fs::file_size(t / "mild.svg") > 10000u);
    BOOST_TEST(!fs::exists(t / "plot.tsv"));  // only with --plot-data
}

BOOST_AUTO_TEST_CASE(plot_site_takes_one_site_each_before_or_after_the_scenario) {
    TempDir t;
    const Result r = run_hearth({"sim", "--plot-site", "office", "--plot-site", "pool-hall", scenario_path("urgent"),
                                 "--plot", "two.svg"},
                                t.path);
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(r.out.find("plot: two.svg (2 of 3 sites)") != std::string::npos, r.out);
    const std::string svg = slurp(t / "two.svg");
    // In the order given.
    BOOST_TEST(svg.find("office (room)") < svg.find("pool-hall (room)"));
    BOOST_TEST(svg.find("home-tank") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_plot_options_are_refused_before_the_simulation) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--plot", "week.pdf"}, "must end in .svg or .png"},
        {{"--plot", "week"}, "must end in .svg or .png"},
        {{"--plot", "no-such-dir/week.svg"}, "no directory no-such-dir; create it first"},
        {{"--plot", "week.svg", "--plot-site", "attic"}, "--plot-site 'attic' is not a site"},
        {{"--plot-site", "office"}, "--plot-site draws nothing without --plot"},
        {{"--plot-data", "d.tsv"}, "--plot-data draws nothing without --plot"},
    };
    for (const auto& [extra, needle] : cases) {
        TempDir t;
        std::vector<std::string> args = {"sim", scenario_path("urgent")};
        args.insert(args.end(), extra.begin(), extra.end());
        const Result r = run_hearth(args, t.path);
        BOOST_TEST_CONTEXT(extra[0] << " " << extra[1] << ": " << r.err) {
            BOOST_TEST(r.code == 2);
            BOOST_TEST(count_lines(r.err) == 1u);
            BOOST_TEST(r.err.find(needle) != std::string::npos);
            BOOST_TEST(r.out.empty());
            BOOST_TEST(!fs::exists(t / "week.pdf"));
            BOOST_TEST(!fs::exists(t / "week.svg"));
        }
    }
}

BOOST_AUTO_TEST_CASE(without_gnuplot_the_error_says_what_to_install) {
    TempDir t;
    const Result r =
        run_hearth({"sim", scenario_path("urgent"), "--plot", "week.svg"}, t.path, "PATH=/nonexistent");
    BOOST_TEST(r.code == 1, r.err);
    BOOST_TEST(count_lines(r.err) == 1u);
    BOOST_TEST(r.err.find("apt-get install gnuplot-nox") != std::string::npos, r.err);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(!fs::exists(t / "week.svg"));
}

BOOST_AUTO_TEST_CASE(a_failing_gnuplot_leaves_the_old_file_untouched) {
    TempDir t;
    // A gnuplot that writes half a figure and fails, as one killed midway would.
    fs::create_directory(t / "bin");
    std::ofstream(t / "bin" / "gnuplot") << "#!/bin/sh\nprintf '<svg' > plot.out\n"
                                            "echo '\"plot.gp\" line 9: out of memory' >&2\nexit 1\n";
    fs::permissions(t / "bin" / "gnuplot", fs::perms::owner_all);
    std::ofstream(t / "week.svg") << "the old plot";
    const Result r = run_hearth({"sim", scenario_path("urgent"), "--plot", "week.svg", "--plot-data", "d.tsv"},
                                t.path, "PATH=" + quote((t / "bin").string()) + ":/usr/bin:/bin");
    BOOST_TEST(r.code == 4, r.err);
    BOOST_TEST(count_lines(r.err) == 1u);
    BOOST_TEST(r.err.find("gnuplot could not draw week.svg: \"plot.gp\" line 9: out of memory") !=
                   std::string::npos,
               r.err);
    BOOST_TEST(slurp(t / "week.svg") == "the old plot");
    BOOST_TEST(!fs::exists(t / "d.tsv"));
    BOOST_TEST(!fs::exists(t / ".week.svg.hearth-tmp"));
}

BOOST_AUTO_TEST_SUITE_END()
