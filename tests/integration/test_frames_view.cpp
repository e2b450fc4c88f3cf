// Previews of collected images (issue 21): `hearth serve` makes a thumbnail
// of an image blob with ffmpeg on the first GET /v1/blobs/SHA/thumb and keeps
// it; the Jobs view's frame grid and contact sheet show them
// (grid-agent/dashboard/frames.js). The scene: a job of frames 1-8 in chunks
// of 2 through a loopback `hearth serve` + `hearth site`, each frame a 96x54
// PNG drawn by ffmpeg's test source, frames 5-6's task failing. The browser
// part (tests/browser/frames.mjs, Debian's chromium) skips, saying why,
// without chromium, node or playwright-core; all of it without ffmpeg.
#include <boost/test/unit_test.hpp>

#include "loopback_grid.hpp"

using namespace hearth::test;

namespace {

bool have_ffmpeg() {
    return std::system("command -v ffmpeg >/dev/null 2>&1") == 0;
}

std::string browser_missing() {
    if (!fs::exists("/usr/bin/chromium"))
        return "/usr/bin/chromium is not installed (tools/install-deps.sh installs it)";
    if (!fs::exists(fs::path(repo_root()) /
                    "tests/browser/node_modules/playwright-core/package.json"))
        return "tests/browser/node_modules/playwright-core is missing (make test runs npm ci for "
               "it)";
    if (sh_out("command -v node").empty()) return "node is not installed";
    return "";
}

// Submits the scene's job and waits for its end; its id.
std::string render_job(const TempDir& t, const LoopbackGrid& grid) {
    const std::string task =
        "for f in $(echo {items} | tr , ' '); do "
        "if [ $f = 5 ]; then echo no frame 5 here >&2; exit 3; fi; "
        "ffmpeg -v error -nostdin -f lavfi -i testsrc=size=96x54:rate=1:duration=10 -ss $f "
        "-frames:v 1 "
        "frame_$f.png && echo rendered $f || exit 1; done";
    const Result r = run_hearth(
        {"submit", "--frames", "1-8", "--chunk", "2", "--retries", "0", "--collect", "frame_*.png",
         "--", "sh", "-c", task},
        t.path, "env -u HEARTH_TOKEN_FILE -u HEARTH_CACERT -u HEARTH_TENANT " + grid.client_vars());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const std::string job = r.out.substr(0, r.out.find('\n'));
    std::string state;
    for (int i = 0; i < 600 && state != "failed" && state != "finished"; ++i) {
        const auto j = http(t, "GET", grid.url + "/v1/jobs/" + job, grid.tenant_token).json();
        state = j.is_object() ? j.value("state", "") : "";
        if (state != "failed") std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    BOOST_TEST_REQUIRE(state == "failed", "the job ended " << state);
    return job;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(frames_view)

BOOST_AUTO_TEST_CASE(thumbnails_of_collected_frames_and_the_frame_grid_in_chromium) {
    if (!have_ffmpeg()) {
        BOOST_TEST_MESSAGE("skipped: ffmpeg is not installed (apt-get install ffmpeg)");
        return;
    }
    TempDir t;
    LoopbackGrid grid("studio");
    const std::string job = render_job(t, grid);
    const auto outs =
        http(t, "GET", grid.url + "/v1/jobs/" + job + "/outputs", grid.tenant_token).json();
    BOOST_TEST_REQUIRE(outs["outputs"].size() == 6u, outs.dump());

    // The thumbnail: a PNG ffmpeg made, the frame's size (never enlarged),
    // kept under the state directory and served again from there.
    const std::string sha = outs["outputs"][0]["sha256"];
    Reply r = http(t, "GET", grid.url + "/v1/blobs/" + sha + "/thumb", grid.tenant_token);
    BOOST_TEST_REQUIRE(r.code == 200, r.body);
    BOOST_TEST(r.body.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0);
    std::ofstream(t / "thumb.png", std::ios::binary) << r.body;
    BOOST_TEST(sh_out("ffprobe -v error -show_entries stream=width,height -of csv=p=0 " +
                      quote((t / "thumb.png").string())) == "96,54\n");
    const fs::path kept = grid.t / "queue" / "thumbs" / sha.substr(0, 2) / (sha + ".png");
    BOOST_TEST(fs::exists(kept));
    BOOST_TEST(http(t, "GET", grid.url + "/v1/blobs/" + sha + "/thumb", grid.tenant_token).body ==
               r.body);
    // Not an image: 415 naming it; no token: 401; no such blob: 404.
    std::ofstream(t / "notes.txt") << "not an image\n";
    const std::string text_sha =
        sh_out("sha256sum " + quote((t / "notes.txt").string()) + " | cut -c1-64");
    BOOST_TEST_REQUIRE(http(t, "PUT", grid.url + "/v1/blobs/" + text_sha.substr(0, 64),
                            grid.tenant_token, std::nullopt, t / "notes.txt")
                           .code == 201);
    r = http(t, "GET", grid.url + "/v1/blobs/" + text_sha.substr(0, 64) + "/thumb",
             grid.tenant_token);
    BOOST_TEST(r.code == 415, r.body);
    BOOST_TEST(r.json().value("error", "").find("is not an image") != std::string::npos, r.body);
    BOOST_TEST(http(t, "GET", grid.url + "/v1/blobs/" + sha + "/thumb", "").code == 401);
    BOOST_TEST(
        http(t, "GET", grid.url + "/v1/blobs/" + std::string(64, 'a') + "/thumb", grid.tenant_token)
            .code == 404);

    const std::string why = browser_missing();
    if (!why.empty()) {
        BOOST_TEST_MESSAGE("no browser test: " << why);
        return;
    }
    const fs::path artifacts =
        fs::path(hearth_bin()).parent_path().parent_path() / "test-artifacts";
    int code = -1;
    const std::string out = sh_out(
        "cd " + quote(repo_root()) + " && HEARTH_JOBS_URL=" + quote(grid.url) +
            " HEARTH_JOBS_JOB=" + quote(job) + " HEARTH_TOKEN_TENANT=" + quote(grid.tenant_token) +
            " HEARTH_ARTIFACTS=" + quote(artifacts.string()) +
            " timeout -k 5 180 node tests/browser/frames.mjs 2>&1",
        &code);
    BOOST_TEST_MESSAGE(out);
    BOOST_TEST(code == 0, out);
    for (const char* shot : {"frames-grid.png", "frames-detail.png", "frames-contact-sheet.png"})
        BOOST_TEST((fs::exists(artifacts / shot) && fs::file_size(artifacts / shot) > 1000u), shot);
}

BOOST_AUTO_TEST_SUITE_END()
