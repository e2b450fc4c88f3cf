// examples/blender-batch with the real Blender (Debian's 3.4) and ffmpeg: the
// example scene built by make_scene.py inside Blender, rendered with Cycles
// through `hearth run` and through `hearth submit` to a loopback `hearth
// serve` + `hearth site` by run.sh, merged into a video, and every frame
// checked by check.sh against a serial render (pixels decoded by ffmpeg).
// Bad input is refused before anything is queued. Skipped, saying why,
// without blender or ffmpeg (make test installs both).
#include <boost/test/unit_test.hpp>

#include "loopback_grid.hpp"

using namespace hearth::test;

namespace {

std::string blender_missing() {
    for (const char* tool : {"blender", "ffmpeg", "ffprobe"})
        if (std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) != 0)
            return std::string(tool) + " is not installed (apt-get install blender ffmpeg)";
    return "";
}

boost::test_tools::assertion_result blender_possible(boost::unit_test::test_unit_id) {
    const std::string why = blender_missing();
    boost::test_tools::assertion_result r(why.empty());
    if (!why.empty()) r.message() << "no Blender example test: " << why;
    return r;
}

fs::path example() {
    return fs::path(repo_root()) / "examples" / "blender-batch";
}

// Runs one of the example's scripts in dir; stdout and stderr together.
std::string script(const fs::path& dir, const std::string& env, const std::string& name,
                   const std::vector<std::string>& args, int* code) {
    std::string cmd = "cd " + quote(dir.string()) +
                      " && env -u HEARTH_SERVER -u HEARTH_TENANT -u HEARTH_TOKEN -u "
                      "HEARTH_TOKEN_FILE -u HEARTH_CACERT " +
                      env + " " + quote((example() / name).string());
    for (const auto& a : args) cmd += " " + quote(a);
    return sh_out(cmd + " </dev/null 2>&1", code);
}

// The tiny test scene: 64x48, 4 samples, frames 1-6 (seconds to render).
fs::path make_scene(const TempDir& t) {
    int code = -1;
    const std::string out =
        sh_out("cd " + quote(t.path.string()) + " && blender -b --factory-startup --python " +
                   quote((example() / "make_scene.py").string()) +
                   " -- scene.blend --samples 4 --frames 6 2>&1",
               &code);
    BOOST_TEST_REQUIRE(code == 0, out);
    BOOST_TEST_REQUIRE(fs::exists(t / "scene.blend"), out);
    return t / "scene.blend";
}

int video_frames(const fs::path& video) {
    return std::atoi(sh_out("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                            "stream=nb_read_frames -of csv=p=0 " +
                            quote(video.string()))
                         .c_str());
}

void expect_identical_to_serial(const TempDir& t, const std::string& set, int n) {
    int code = -1;
    const std::string out = script(t.path, "", "check.sh",
                                   {"frames", "--blend", "scene.blend", "--frames", set}, &code);
    BOOST_TEST(code == 0, out);
    BOOST_TEST(out.find("check: " + std::to_string(n) + " frames identical to the serial render") !=
                   std::string::npos,
               out);
}

const std::string k_hearth_env() {
    return "PATH=" + quote(fs::path(hearth_bin()).parent_path().string()) + ":\"$PATH\"";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(blender_batch, *boost::unit_test::precondition(blender_possible))

BOOST_AUTO_TEST_CASE(frames_through_hearth_run_equal_a_serial_render_and_make_a_video) {
    TempDir t;
    make_scene(t);
    int code = -1;
    std::string out = script(t.path, k_hearth_env(), "run.sh",
                             {"--blend", "scene.blend", "--chunk", "2", "--slots", "2"}, &code);
    BOOST_TEST_REQUIRE(code == 0, out);
    for (int f = 1; f <= 6; ++f)
        BOOST_TEST(fs::exists(t / "frames" / ("frame_000" + std::to_string(f) + ".png")));
    BOOST_TEST(video_frames(t / "video.mp4") == 6);
    // Three tasks of two frames each rendered them.
    std::size_t done = 0;
    for (const auto& rec : journal(t / "frames.job"))
        if (rec["e"] == "done") ++done;
    BOOST_TEST(done == 3u);
    expect_identical_to_serial(t, "1-6", 6);

    // The check is not blind: a frame swapped for another is named.
    fs::copy_file(t / "frames" / "frame_0002.png", t / "frames" / "frame_0005.png",
                  fs::copy_options::overwrite_existing);
    out = script(t.path, "", "check.sh", {"frames", "--blend", "scene.blend"}, &code);
    BOOST_TEST(code == 1, out);
    BOOST_TEST(out.find("check: frame 5 differs") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(frames_through_hearth_submit_to_serve_and_site_equal_a_serial_render) {
    TempDir t;
    make_scene(t);
    LoopbackGrid grid("studio");
    int code = -1;
    // A frame set with a step and a single frame: tasks of {1,3}, {5}.
    const std::string out =
        script(t.path, k_hearth_env() + " " + grid.client_vars(), "run.sh",
               {"--blend", "scene.blend", "--frames", "1-6x2", "--chunk", "2"}, &code);
    BOOST_TEST_REQUIRE(code == 0, out);
    BOOST_TEST(out.find("queued at " + grid.url) != std::string::npos, out);
    BOOST_TEST(grid.jobs() == 1u);
    BOOST_TEST(fs::exists(t / "frames" / "frame_0001.png"));
    BOOST_TEST(fs::exists(t / "frames" / "frame_0005.png"));
    BOOST_TEST(!fs::exists(t / "frames" / "frame_0002.png"));
    BOOST_TEST(video_frames(t / "video.mp4") == 3);
    expect_identical_to_serial(t, "1-6x2", 3);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_before_anything_is_queued) {
    TempDir t;
    make_scene(t);
    LoopbackGrid grid("studio");
    std::ofstream(t / "notes.blend") << "not a scene\n";
    const std::string env = k_hearth_env() + " " + grid.client_vars();
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    for (const Case& c :
         {Case{{"--blend", "missing.blend"}, "'missing.blend' does not exist"},
          Case{{"--blend", "notes.blend"}, "'notes.blend' is not a Blender file"},
          Case{{"--blend", "scene.blend", "--frames", "4-9"},
               "--frames 4-9 is outside scene.blend's frames 1-6"},
          Case{{"--blend", "scene.blend", "--frames", "1-3x"}, "is not of the form"}}) {
        int code = -1;
        const std::string out = script(t.path, env, "run.sh", c.args, &code);
        BOOST_TEST_CONTEXT(c.args.back()) {
            BOOST_TEST(code == 2, out);
            BOOST_TEST(out.find(c.says) != std::string::npos, out);
            BOOST_TEST(std::count(out.begin(), out.end(), '\n') == 1, out);
        }
    }
    BOOST_TEST(grid.jobs() == 0u);
    BOOST_TEST(!fs::exists(t / "frames"));
}

BOOST_AUTO_TEST_SUITE_END()
