// Job templates (hearth submit/run --template): the shipped ones, found
// beside the hearth executable (build/share/hearth/templates, as installed),
// run real programs: POV-Ray through `hearth run`, Blender through `hearth
// submit` to a loopback `hearth serve` + `hearth site`, frames identical to
// the same program's serial render. A user's own folder
// (~/.config/hearth/templates) comes first. Typos in a template, a missing
// argument, an unknown template, a file of the wrong kind: exit 2, one line,
// nothing queued.
#include <boost/test/unit_test.hpp>

#include "loopback_grid.hpp"

using namespace hearth::test;

namespace {

bool have(const char* tool) {
    return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// hearth in cwd with HOME=cwd/home (its ~/.config/hearth/templates) and no
// stray settings; extra: more VAR=value words.
Result hearth_in(const fs::path& cwd, const std::vector<std::string>& args,
                 const std::string& extra = "") {
    fs::create_directories(cwd / "home");
    return run_hearth(
        args, cwd,
        "env -u HEARTH_TEMPLATES -u XDG_CONFIG_HOME -u HEARTH_SERVER -u HEARTH_TOKEN -u "
        "HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT HOME=" +
            quote((cwd / "home").string()) + " " + extra);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_templates)

BOOST_AUTO_TEST_CASE(povray_template_through_hearth_run_equals_a_serial_render) {
    if (!have("povray")) {
        BOOST_TEST_MESSAGE("skipped: povray is not installed (make test installs it)");
        return;
    }
    TempDir t;
    fs::copy_file(fs::path(repo_root()) / "examples/render-batch/scene.pov", t / "scene.pov");
    Result r = hearth_in(t.path, {"run", "--tenant", "studio", "--template", "povray", "scene.pov",
                                  "4", "80", "45", "--frames", "1-4", "--job-dir", "job"});
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    // The template's chunk (4): one task; its name labels the job.
    BOOST_TEST(summary(t / "job")["tasks"] == 1);
    BOOST_TEST(summary(t / "job")["job"].get<std::string>().rfind("povray-", 0) == 0u);
    fs::create_directory(t / "serial");
    fs::copy_file(t / "scene.pov", t / "serial" / "scene.pov");
    BOOST_TEST_REQUIRE(
        std::system(("cd " + quote((t / "serial").string()) +
                     " && povray -D -V -GS -GR +WT1 +Iscene.pov +Oframe.png +W80 +H45 +A0.3 +KFI1 "
                     "+KFF4 >/dev/null 2>&1")
                        .c_str()) == 0);
    for (int f = 1; f <= 4; ++f) {
        const std::string name = "frame" + std::to_string(f) + ".png";
        BOOST_TEST_REQUIRE(fs::exists(t / "job/out" / name), name);
        BOOST_TEST((png_image_chunks(slurp(t / "job/out" / name)) ==
                    png_image_chunks(slurp(t / "serial" / name))),
                   name << " differs from the serial render");
    }
    // Options the user gives win over the template's: --chunk 1, 4 tasks.
    r = hearth_in(t.path, {"run", "--tenant", "studio", "--template", "povray", "scene.pov", "4",
                           "80", "45", "--frames", "1-4", "--chunk", "1", "--job-dir", "job1"});
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(summary(t / "job1")["tasks"] == 4);
}

BOOST_AUTO_TEST_CASE(blender_template_through_hearth_submit_to_serve_and_site) {
    if (!have("blender") || !have("ffmpeg")) {
        BOOST_TEST_MESSAGE(
            "skipped: blender or ffmpeg is not installed (apt-get install blender ffmpeg)");
        return;
    }
    TempDir t;
    int code = -1;
    std::string out =
        sh_out("cd " + quote(t.path.string()) + " && blender -b --factory-startup --python " +
                   quote(repo_root() + "/examples/blender-batch/make_scene.py") +
                   " -- scene.blend --samples 4 --frames 4 2>&1",
               &code);
    BOOST_TEST_REQUIRE(code == 0, out);
    LoopbackGrid grid("studio");
    // Frames outside the file's (read by Blender itself), a file with a
    // Blender header that Blender cannot read: refused, nothing queued.
    std::ofstream(t / "cut.blend") << "BLENDER-v304 and then nothing";
    for (const auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"scene.blend", "--frames", "1-240"},
              "--frames 1-240 is outside scene.blend's frames 1-4"},
             {{"scene.blend", "--frames", "0,2"},
              "--frames 0,2 is outside scene.blend's frames 1-4"},
             {{"cut.blend", "--frames", "1-4"},
              "blender could not read cut.blend's frame range (exit 1: Error: "}}) {
        std::vector<std::string> a = {"submit", "--template", "blender"};
        a.insert(a.end(), args.begin(), args.end());
        const Result bad = hearth_in(t.path, a, grid.client_vars());
        BOOST_TEST(bad.code == 2, bad.err);
        BOOST_TEST(bad.err.find(says) != std::string::npos, bad.err);
        BOOST_TEST(std::count(bad.err.begin(), bad.err.end(), '\n') == 1, bad.err);
    }
    BOOST_TEST(grid.jobs() == 0u);
    Result r = hearth_in(
        t.path,
        {"submit", "--template", "blender", "scene.blend", "--frames", "1-4", "--chunk", "2"},
        grid.client_vars());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const std::string job = r.out.substr(0, r.out.find('\n'));
    std::string state, name;
    for (int i = 0; i < 300 && state != "finished" && state != "failed"; ++i) {
        const Result s = hearth_in(t.path, {"status", job, "--json"}, grid.client_vars());
        const auto j = nlohmann::json::parse(s.out, nullptr, false);
        state = j.is_object() && j.contains("state") ? j["state"].get<std::string>() : "";
        if (j.is_object() && j.contains("name")) name = j["name"].get<std::string>();
        if (state != "finished") std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST_REQUIRE(state == "finished");
    BOOST_TEST(name == "blender");  // the template's job name
    r = hearth_in(t.path, {"fetch", job, "--out", "frames"}, grid.client_vars());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    out = sh_out("cd " + quote(t.path.string()) + " && " +
                     quote(repo_root() + "/examples/blender-batch/check.sh") +
                     " frames --blend scene.blend --frames 1-4 2>&1",
                 &code);
    BOOST_TEST(code == 0, out);
    BOOST_TEST(out.find("check: 4 frames identical to the serial render") != std::string::npos,
               out);
}

BOOST_AUTO_TEST_CASE(bad_templates_and_arguments_are_refused_before_anything_is_queued) {
    TempDir t;
    LoopbackGrid grid("studio");
    fs::create_directories(t / "home/.config/hearth/templates");
    std::ofstream(t / "home/.config/hearth/templates/typo.toml")
        << "command = [\"echo\", \"{{x}}\"]\nchnuk = 2\n"
        << "[[arg]]\nname = \"x\"\n";
    std::ofstream(t / "home/.config/hearth/templates/novar.toml")
        << "command = [\"echo\", \"{{y}}\"]\n";
    // A user's template of a shipped name comes first.
    std::ofstream(t / "home/.config/hearth/templates/povray.toml")
        << "split = \"count\"\ncount = \"3\"\ncommand = [\"echo\", \"mine\", \"{item}\"]\n";
    std::ofstream(t / "notes.blend") << "not a scene\n";
    std::ofstream(t / "scene.pov") << "// a scene\n";
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    for (const Case& c : {
             Case{{"--template", "blendr", "x.blend", "--frames", "1-4"},
                  "no template 'blendr' (looked in "},
             Case{{"--template", "typo", "a", "--count", "2"},
                  "typo.toml:2: unknown key 'chnuk' (a typo?)"},
             Case{{"--template", "novar", "--count", "2"},
                  "command uses {{y}}, which no [[arg]] defines"},
             Case{{"--template", "blender", "--frames", "1-4"},
                  "template blender needs scene (the .blend file)"},
             Case{{"--template", "blender", "notes.blend", "--frames", "1-4"},
                  "scene 'notes.blend' is not a Blender file"},
             Case{{"--template", "blender", "gone.blend", "--frames", "1-4"},
                  "scene 'gone.blend' does not exist"},
             Case{{"--template", "blender", "notes.blend"}, ""},  // checked for the file first
             Case{{"--template", "risk-mc", "scene.pov", "--seeds", "0-3"}, "is not a program"},
             Case{{"--template", "blender", "x.blend", "--frames", "1-4", "--", "echo"},
                  "fills the command; drop the words after '--'"},
         }) {
        BOOST_TEST_CONTEXT(c.args[1]) {
            const Result r = hearth_in(
                t.path,
                [&] {
                    std::vector<std::string> a = {"submit"};
                    a.insert(a.end(), c.args.begin(), c.args.end());
                    return a;
                }(),
                grid.client_vars());
            BOOST_TEST(r.code == 2, r.err);
            BOOST_TEST(r.err.find(c.says) != std::string::npos, r.err);
            BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
        }
    }
    BOOST_TEST(grid.jobs() == 0u);
    // The known names are listed for an unknown one.
    const Result r =
        hearth_in(t.path, {"submit", "--template", "nope", "--count", "1"}, grid.client_vars());
    for (const char* name : {"blender", "povray", "risk-mc", "typo"})
        BOOST_TEST(r.err.find(name) != std::string::npos, r.err);
    // The user's povray.toml, not the shipped one: echo, 3 items.
    const Result mine = hearth_in(
        t.path, {"run", "--tenant", "studio", "--template", "povray", "--job-dir", "job"});
    BOOST_TEST_REQUIRE(mine.code == 0, mine.err);
    BOOST_TEST(summary(t / "job")["tasks"] == 3);
}

BOOST_AUTO_TEST_SUITE_END()
