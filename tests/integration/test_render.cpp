// A 3D studio's job with the real renderer: POV-Ray frames through mpirun with
// 2 and 4 ranks, each frame identical to a serial render of the same scene.
#include <boost/test/unit_test.hpp>

#include "harness.hpp"

using namespace hearth::test;

namespace {

const char* k_frames = "6";

std::vector<std::string> povray_args(bool per_task) {
    std::vector<std::string> a = {"povray", "-D", "-V", "-GS", "-GR", "+WT1", "+Iscene.pov",
                                  "+Oframe.png", "+W160", "+H90", "+A0.3", "+KFI1",
                                  std::string("+KFF") + k_frames};
    if (per_task) {
        a.push_back("+SF{first}");
        a.push_back("+EF{last}");
    }
    return a;
}

bool have_povray() { return std::system("command -v povray >/dev/null 2>&1") == 0; }

// Renders every frame serially in dir (one POV-Ray call, like a workstation).
void serial_render(const fs::path& dir) {
    fs::copy_file(fs::path(repo_root()) / "examples/render-batch/scene.pov", dir / "scene.pov");
    std::string cmd = "cd " + quote(dir.string()) + " &&";
    for (const auto& a : povray_args(false)) cmd += " " + quote(a);
    cmd += " >/dev/null 2>&1";
    BOOST_REQUIRE_EQUAL(std::system(cmd.c_str()), 0);
}

void render_and_compare(const std::vector<std::string>& extra, int expect_nodes) {
    TempDir t;
    std::vector<std::string> args = {"run", "--tenant", "studio", "--frames",
                                     std::string("1-") + k_frames, "--stage",
                                     repo_root() + "/examples/render-batch/scene.pov",
                                     "--collect", "frame*.png", "--job-dir", "job"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--");
    for (const auto& a : povray_args(true)) args.push_back(a);
    Result r = run_hearth(args, t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);

    fs::create_directory(t / "serial");
    serial_render(t / "serial");
    int frames = 0;
    for (int f = 1; f <= 6; ++f) {
        std::string name = "frame" + std::to_string(f) + ".png";
        BOOST_TEST_CONTEXT(name) {
            BOOST_REQUIRE(fs::exists(t / "job/out" / name));
            std::string a = slurp(t / "job/out" / name), b = slurp(t / "serial" / name);
            BOOST_TEST(a.size() > 1000u);
            BOOST_TEST(png_image_chunks(a).find("IDAT") != std::string::npos);
            BOOST_TEST((png_image_chunks(a) == png_image_chunks(b)),
                       name << " differs from the serial render");
            ++frames;
        }
    }
    BOOST_TEST(frames == 6);
    std::set<std::string> nodes;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done") nodes.insert(rec["n"].get<std::string>());
    BOOST_TEST(static_cast<int>(nodes.size()) == expect_nodes);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(render)

BOOST_AUTO_TEST_CASE(two_ranks_render_frames_identical_to_a_serial_render) {
    if (!have_povray()) {
        BOOST_TEST_MESSAGE("skipped: povray is not installed (make test installs it)");
        return;
    }
    render_and_compare({"--chunk", "2"}, 1);
}

BOOST_AUTO_TEST_CASE(four_ranks_render_frames_identical_to_a_serial_render) {
    if (!have_povray()) {
        BOOST_TEST_MESSAGE("skipped: povray is not installed (make test installs it)");
        return;
    }
    // Rank 0 dispatches; three worker ranks of one slot each share the frames.
    render_and_compare({"--workers-per-host", "3", "--slots", "1"}, 3);
}

BOOST_AUTO_TEST_SUITE_END()
