// The Blender add-on (examples/blender-batch/hearth_blender) in the real
// Blender, headless: tests/blender/drive_addon.py registers it and drives
// "Render on Hearth" against a loopback `hearth serve` + `hearth site` with
// a tenant's token from HEARTH_TOKEN, as the CLI reads it; the frames it
// downloads are checked against a serial render (examples/blender-batch/
// check.sh, pixels decoded by ffmpeg). Skipped, saying why, without blender.
#include <boost/test/unit_test.hpp>

#include "loopback_grid.hpp"

using namespace hearth::test;

BOOST_AUTO_TEST_SUITE(blender_addon)

BOOST_AUTO_TEST_CASE(
    render_on_hearth_submits_follows_and_downloads_frames_equal_to_a_serial_render) {
    if (std::system("command -v blender >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1") !=
        0) {
        BOOST_TEST_MESSAGE(
            "skipped: blender or ffmpeg is not installed (apt-get install blender ffmpeg)");
        return;
    }
    TempDir t;
    const std::string root = repo_root();
    int code = -1;
    std::string out =
        sh_out("cd " + quote(t.path.string()) + " && blender -b --factory-startup --python " +
                   quote(root + "/examples/blender-batch/make_scene.py") +
                   " -- scene.blend --samples 4 --frames 6 2>&1",
               &code);
    BOOST_TEST_REQUIRE(code == 0, out);
    LoopbackGrid grid("studio");
    fs::create_directories(t / "home");
    out = sh_out(
        "cd " + quote(t.path.string()) +
            " && env -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT -u PYTHONPATH HOME=" +
            quote((t / "home").string()) + " " + grid.client_vars() +
            " blender -b --factory-startup \"$PWD/scene.blend\" --python-exit-code 1 --python " +
            quote(root + "/tests/blender/drive_addon.py") + " -- " + quote((t / "got").string()) +
            " 2>&1",
        &code);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST_REQUIRE(code == 0, out);
    BOOST_TEST(out.find("drive_addon: OK") != std::string::npos, out);
    BOOST_TEST(out.find("refused: Error: Hearth: frames 4-9 are outside the scene's frames 1-6") !=
                   std::string::npos,
               out);
    BOOST_TEST(grid.jobs() == 2u);  // the two renders; the refusals queued nothing
    for (const char* d : {"got/wait", "got/follow"}) {
        out = sh_out("cd " + quote(t.path.string()) + " && " +
                         quote(root + "/examples/blender-batch/check.sh") + " " + d +
                         " --blend scene.blend --frames 2-5 2>&1",
                     &code);
        BOOST_TEST(code == 0, out);
        BOOST_TEST(out.find("check: 4 frames identical to the serial render") != std::string::npos,
                   out);
    }
}

BOOST_AUTO_TEST_SUITE_END()
