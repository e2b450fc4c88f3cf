#include "runner/serve/thumbnail_maker.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.hpp"
#include "core/thumbnail.hpp"

extern char** environ;

namespace hearth {
namespace {

namespace fs = std::filesystem;

std::string find_ffmpeg() {
    const char* path = std::getenv("PATH");
    std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t at = 0;
    while (at <= dirs.size()) {
        const auto colon = dirs.find(':', at);
        const std::string d =
            dirs.substr(at, colon == std::string::npos ? std::string::npos : colon - at);
        const std::string f = (d.empty() ? "." : d) + "/ffmpeg";
        if (::access(f.c_str(), X_OK) == 0) return f;
        if (colon == std::string::npos) break;
        at = colon + 1;
    }
    return "";
}

// Runs argv with no input and its output into log; its exit status.
int run(const std::vector<std::string>& args, const std::string& log) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return 127;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line.substr(0, 300);
}

}  // namespace

std::string blob_thumbnail(const std::string& state_dir, const std::string& sha,
                           const std::string& blob_path) {
    const fs::path dir = fs::path(state_dir) / "thumbs" / sha.substr(0, 2);
    const fs::path thumb = dir / (sha + ".png");
    std::error_code ec;
    if (fs::is_regular_file(thumb, ec)) return thumb.string();
    std::string head(16, '\0');
    {
        std::ifstream in(blob_path, std::ios::binary);
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        head.resize(static_cast<std::size_t>(in.gcount()));
    }
    const std::string kind = image_kind(head);
    if (kind.empty())
        throw Error("blob " + sha +
                        " is not an image (PNG, JPEG, EXR or TIFF); there is no thumbnail of it",
                    ExitCode::usage, 415);
    const std::string ffmpeg = find_ffmpeg();
    if (ffmpeg.empty())
        throw Error(
            "no thumbnails: ffmpeg is not installed on the scheduler's host (apt-get install "
            "ffmpeg)",
            ExitCode::internal, 503);
    fs::create_directories(dir, ec);
    static std::atomic<unsigned> seq{0};
    const std::string tmp =
        (dir / (sha + "." + std::to_string(::getpid()) + "." + std::to_string(seq++))).string();
    const std::string log = tmp + ".log";
    const int rc = run(thumbnail_argv(ffmpeg, blob_path, tmp + ".png"), log);
    const std::string why = first_line(log);
    fs::remove(log, ec);
    if (rc != 0 || !fs::is_regular_file(tmp + ".png", ec)) {
        fs::remove(tmp + ".png", ec);
        throw Error("ffmpeg could not make a thumbnail of the " + kind + " blob " + sha +
                        " (exit " + std::to_string(rc) + (why.empty() ? "" : ": " + why) + ")",
                    ExitCode::internal, 500);
    }
    fs::rename(tmp + ".png", thumb, ec);
    if (ec) throw Error("cannot store thumbnail " + thumb.string() + ": " + ec.message());
    return thumb.string();
}

}  // namespace hearth
