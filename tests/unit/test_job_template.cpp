// Job templates (core/job_template): parsing a template file, refusing typos
// with the line and the fix, and filling it with the user's arguments. The
// shipped templates (runner/templates) are parsed too.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/job_template.hpp"
#include "tests/unit/support.hpp"

using hearth::expand_job_template;
using hearth::parse_job_template;
using hearth::test::usage_mentioning;
using Words = std::vector<std::string>;

namespace {

const char* k_render = R"(description = "render"
split = "frames"
chunk = 4
retries = 3
timeout = "2h"
name = "render"
command = ["sh", "-c", "exec tool \"$PWD/{{scene:name}}\" -f {items} -q {{quality}}"]
stage = ["{{scene}}"]
collect = ["frame_*.png"]

[[arg]]
name = "scene"
help = "the scene file"
file = true
header = ["424c454e444552", "28b52ffd"]
what = "a scene"

[[arg]]
name = "quality"
help = "a quality"
default = "high"
)";

const char* k_render_probe = R"(split = "frames"
command = ["x"]
frames_probe = ["probe", "{{scene}}"]
[[arg]]
name = "scene"
)";

hearth::JobTemplate render() {
    return parse_job_template(k_render, "render", "render.toml");
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_template)

BOOST_AUTO_TEST_CASE(parses_every_field) {
    const auto t = render();
    BOOST_TEST(t.name == "render");
    BOOST_TEST(t.split == "frames");
    BOOST_TEST(!t.split_default.has_value());
    BOOST_TEST(t.chunk.value() == 4u);
    BOOST_TEST(t.retries.value() == 3u);
    BOOST_TEST(t.timeout.value() == "2h");
    BOOST_TEST(t.job_name.value() == "render");
    BOOST_TEST_REQUIRE(t.args.size() == 2u);
    BOOST_TEST(t.args[0].file);
    BOOST_TEST(t.args[0].header_hex.size() == 2u);
    BOOST_TEST(t.args[1].default_value.value() == "high");
    BOOST_TEST(hearth::template_usage(t) ==
               "hearth submit --template render SCENE [QUALITY] --frames SET");
}

BOOST_AUTO_TEST_CASE(fills_arguments_file_names_and_defaults_and_keeps_hearths_placeholders) {
    const auto j = expand_job_template(render(), {"shots/a b.blend"});
    BOOST_TEST(j.command == (Words{"sh", "-c", "exec tool \"$PWD/a b.blend\" -f {items} -q high"}),
               boost::test_tools::per_element());
    BOOST_TEST(j.stage == (Words{"shots/a b.blend"}), boost::test_tools::per_element());
    BOOST_TEST(j.collect == (Words{"frame_*.png"}), boost::test_tools::per_element());
    BOOST_TEST(j.files == (Words{"shots/a b.blend"}), boost::test_tools::per_element());
    const auto k = expand_job_template(render(), {"s.blend", "draft"});
    BOOST_TEST(k.command[2] == "exec tool \"$PWD/s.blend\" -f {items} -q draft");
}

BOOST_AUTO_TEST_CASE(missing_and_extra_arguments_name_the_usage) {
    BOOST_CHECK_EXCEPTION(
        expand_job_template(render(), {}), hearth::Error,
        usage_mentioning("template render needs scene (the scene file); usage: hearth submit "
                         "--template render SCENE [QUALITY]"));
    BOOST_CHECK_EXCEPTION(expand_job_template(render(), {"a", "b", "c"}), hearth::Error,
                          usage_mentioning("takes 2 arguments, got 3 ('c' is one too many)"));
    BOOST_CHECK_EXCEPTION(expand_job_template(render(), {""}), hearth::Error,
                          usage_mentioning("is empty"));
}

BOOST_AUTO_TEST_CASE(typos_are_refused_with_the_line_and_the_fix) {
    struct Case {
        std::string text, says;
    };
    for (const Case& c : {
             Case{"comand = [\"x\"]\n", "render.toml:1: unknown key 'comand' (a typo?)"},
             Case{"command = [\"x\"]\n[[arg]]\nname = \"a\"\nfiel = true\n",
                  "render.toml:4: [[arg]]: unknown key 'fiel'"},
             Case{"command = [\"x\", \"{{scne}}\"]\n[[arg]]\nname = \"scene\"\n",
                  "command uses {{scne}}, which no [[arg]] defines"},
             Case{"command = [\"x\", \"{{scene:base}}\"]\n[[arg]]\nname = \"scene\"\n",
                  "the only modifier is :name"},
             Case{"command = [\"x\", \"{{scene\"]\n[[arg]]\nname = \"scene\"\n",
                  "without closing }}"},
             Case{"command = [\"x\"]\nsplit = \"frame\"\n", "split 'frame' is not one"},
             Case{"command = [\"x\"]\nseeds = \"0-9\"\n",
                  "a default 'seeds' needs split = \"seeds\""},
             Case{"command = [\"x\"]\nchunk = 0\n", "'chunk' 0 is out of range"},
             Case{"command = \"x\"\n", "'command' must be an array of strings"},
             Case{"description = \"d\"\n", "no command"},
             Case{"command = [\"x\"]\n[[arg]]\nname = \"a\"\nheader = [\"BLENDER\"]\nfile = true\n",
                  "header 'BLENDER' is not hex bytes"},
             Case{"command = [\"x\"]\n[[arg]]\nname = \"a\"\ndefault = \"1\"\n[[arg]]\nname = "
                  "\"b\"\n",
                  "put the arguments with defaults last"},
             Case{"command = [\"x\"\n", "render.toml:1: "},
         }) {
        BOOST_TEST_CONTEXT(c.text) {
            BOOST_CHECK_EXCEPTION(parse_job_template(c.text, "render", "render.toml"),
                                  hearth::Error, usage_mentioning(c.says));
        }
    }
}

BOOST_AUTO_TEST_CASE(frames_probe_output_and_the_frames_it_allows) {
    using hearth::parse_frame_probe;
    const auto r =
        parse_frame_probe("Blender 3.4.1\nRead blend: /x/scene.blend\n1 250\n\nBlender quit\n");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->first == 1);
    BOOST_TEST(r->second == 250);
    BOOST_TEST(!parse_frame_probe("Error: Failed to read blend file\nBlender quit\n").has_value());
    BOOST_TEST(!parse_frame_probe("10 5\n").has_value());       // backwards: not a range
    BOOST_TEST(!parse_frame_probe("Fra:1 2 3\n").has_value());  // not two numbers alone
    BOOST_TEST(parse_frame_probe("0 0\n3 9\n")->first == 3);    // the last one
    BOOST_CHECK_NO_THROW(hearth::check_frames_within("1-250", 1, 250, "a.blend"));
    BOOST_CHECK_NO_THROW(hearth::check_frames_within("2-10x4,250", 1, 250, "a.blend"));
    BOOST_CHECK_EXCEPTION(
        hearth::check_frames_within("1-240", 1, 6, "scene.blend"), hearth::Error,
        usage_mentioning("--frames 1-240 is outside scene.blend's frames 1-6; pick frames in "
                         "that range"));
    BOOST_CHECK_EXCEPTION(hearth::check_frames_within("0,3", 1, 6, "s"), hearth::Error,
                          usage_mentioning("outside"));
    // A probe needs a frames split; its {{variables}} are checked as the command's.
    BOOST_CHECK_EXCEPTION(
        parse_job_template("command = [\"x\"]\nframes_probe = [\"p\"]\n", "t", "t.toml"),
        hearth::Error, usage_mentioning("frames_probe needs split = \"frames\""));
    BOOST_CHECK_EXCEPTION(
        parse_job_template(
            "split = \"frames\"\ncommand = [\"x\"]\nframes_probe = [\"p\", \"{{f}}\"]\n", "t",
            "t.toml"),
        hearth::Error, usage_mentioning("frames_probe uses {{f}}, which no [[arg]] defines"));
    const auto b =
        expand_job_template(parse_job_template(k_render_probe, "r", "r.toml"), {"a/s.blend"});
    BOOST_TEST(b.frames_probe == (Words{"probe", "a/s.blend"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(file_headers) {
    const auto t = render();
    BOOST_TEST(hearth::template_header_matches(t.args[0], "BLENDER-v304REND"));
    BOOST_TEST(hearth::template_header_matches(t.args[0], std::string("\x28\xb5\x2f\xfd\x00", 5)));
    BOOST_TEST(!hearth::template_header_matches(t.args[0], "BLEND"));
    BOOST_TEST(!hearth::template_header_matches(t.args[0], "#include \"colors.inc\""));
    BOOST_TEST(hearth::template_header_matches(t.args[1], "anything"));
}

BOOST_AUTO_TEST_CASE(the_shipped_templates_parse) {
    for (const char* name : {"blender", "povray", "risk-mc"}) {
        BOOST_TEST_CONTEXT(name) {
            const std::string path = std::string("runner/templates/") + name + ".toml";
            const std::string text = slurp(path);
            BOOST_TEST_REQUIRE(!text.empty(),
                               path << " is missing (run the unit tests from the repository root)");
            const auto t = parse_job_template(text, name, path);
            BOOST_TEST(!t.split.empty());
            BOOST_TEST(t.chunk.has_value());
            BOOST_TEST(t.args.front().file);
        }
    }
    const auto b = expand_job_template(
        parse_job_template(slurp("runner/templates/blender.toml"), "blender", "b"),
        {"/home/ann/shot 1.blend"});
    BOOST_TEST(b.command[2] ==
               "exec blender -b \"$PWD/shot 1.blend\" -o \"$PWD/frame_####\" -F PNG -f {items}");
}

BOOST_AUTO_TEST_SUITE_END()
