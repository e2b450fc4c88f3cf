#pragma once
// Shared helpers of the integration tests: they run the real `hearth` binary
// (and through it mpirun, POV-Ray, ...) the way a user's shell would.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

extern char** environ;

namespace hearth::test {

namespace fs = std::filesystem;

// Sets a fake sysfs attribute (an energy counter, a meter's watts) the way
// the kernel's value changes: in the same file, which the agent keeps open
// and rereads, never replaced by a rename (an open descriptor would keep the
// old file). One pwrite of a fixed width (zero-padded, never truncated), so
// a concurrent read never finds the file empty or half its digits short.
inline void set_attribute(const fs::path& p, std::uint64_t value) {
    char buf[32];
    const int n =
        std::snprintf(buf, sizeof buf, "%020llu\n", static_cast<unsigned long long>(value));
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + p.string() + " to set it");
    const ssize_t w = ::pwrite(fd, buf, static_cast<std::size_t>(n), 0);
    ::close(fd);
    if (w != n) throw std::runtime_error("cannot write " + p.string());
}

inline std::string hearth_bin() {
    const char* b = std::getenv("HEARTH_BIN");
    return fs::absolute(b && *b ? b : "build/bin/hearth").string();
}

inline std::string agent_bin() {
    const char* b = std::getenv("GRID_AGENT_BIN");
    if (b && *b) return fs::absolute(b).string();
    return (fs::path(hearth_bin()).parent_path() / "grid-agent").string();
}

// Runs a shell command; its stdout, and its exit status in *code if given.
inline std::string sh_out(const std::string& cmd, int* code = nullptr) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = ::pclose(p);
    if (code) *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    return out;
}

inline std::string repo_root() {
    const char* r = std::getenv("HEARTH_ROOT");
    return fs::absolute(r && *r ? r : ".").string();
}

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// A fresh directory per test, removed at the end unless HEARTH_KEEP_TEST_DIRS is set.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "hearth-test-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        if (!std::getenv("HEARTH_KEEP_TEST_DIRS")) {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    }
    fs::path operator/(const std::string& s) const { return path / s; }
};

struct Result {
    int code = -1;
    std::string out, err;
};

// Runs hearth with args in cwd; stdout and stderr captured (not a terminal,
// so hearth prints JSON Lines on stdout).
inline Result run_hearth(const std::vector<std::string>& args, const fs::path& cwd,
                         const std::string& env = "") {
    std::string cmd = "cd " + quote(cwd.string()) + " && " + env + " " + quote(hearth_bin());
    for (const auto& a : args) cmd += " " + quote(a);
    fs::path out = cwd / ".out", err = cwd / ".err";
    cmd += " >" + quote(out.string()) + " 2>" + quote(err.string()) + " </dev/null";
    int st = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

// Starts hearth in the background; returns its pid.
inline pid_t start_hearth(const std::vector<std::string>& args, const fs::path& cwd) {
    std::string cmd = "cd " + quote(cwd.string()) + " && exec " + quote(hearth_bin());
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " >" + quote((cwd / ".bg.out").string()) + " 2>" + quote((cwd / ".bg.err").string()) +
           " </dev/null";
    pid_t pid = -1;
    std::vector<char*> argv = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                               cmd.data(), nullptr};
    ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
    return pid;
}

// The port a server started by start_hearth with --listen ADDR:0 says it
// took ("listening on port N" on its stderr, cwd/.bg.err); "" when it said
// nothing within `seconds` (show that file in the failure).
inline std::string listening_port(const fs::path& cwd, int seconds = 30) {
    for (int i = 0; i <= seconds * 5; ++i) {
        const std::string err = slurp(cwd / ".bg.err");
        const auto at = err.find("listening on port ");
        const auto end = at == std::string::npos ? at : err.find('\n', at);
        if (end != std::string::npos) return err.substr(at + 18, end - at - 18);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "";
}

inline int wait_exit(pid_t pid) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// A test's teardown: SIGTERM, then SIGKILL after `grace`, so that a program
// that hangs on its way out fails its test instead of hanging the suite.
inline int stop_process(pid_t pid, std::chrono::seconds grace = std::chrono::seconds(60)) {
    ::kill(pid, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + grace;
    int st = 0;
    while (::waitpid(pid, &st, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
            BOOST_ERROR("pid " + std::to_string(pid) + " did not stop within " +
                        std::to_string(grace.count()) + " s of SIGTERM; killed");
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

inline std::vector<nlohmann::json> json_lines(const std::string& text) {
    std::vector<nlohmann::json> v;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line))
        if (!line.empty() && line[0] == '{') v.push_back(nlohmann::json::parse(line));
    return v;
}

inline std::vector<nlohmann::json> journal(const fs::path& job_dir) {
    return json_lines(slurp(job_dir / "journal"));
}

inline nlohmann::json summary(const fs::path& job_dir) {
    return nlohmann::json::parse(slurp(job_dir / "summary.json"));
}

// Waits until pred() holds or the time is up; returns pred().
template <class Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

// A PNG's image: every chunk but the render-time metadata (tIME, tEXt) that
// POV-Ray stamps into each file. Two renders of the same frame must agree on
// all of it, byte for byte.
inline std::string png_image_chunks(const std::string& png) {
    std::string out;
    if (png.size() < 8 || png.compare(1, 3, "PNG") != 0) return "not a PNG";
    std::size_t i = 8;
    while (i + 12 <= png.size()) {
        auto b = [&](std::size_t k) { return static_cast<unsigned char>(png[i + k]); };
        std::size_t len = (std::size_t{b(0)} << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
        std::string type = png.substr(i + 4, 4);
        if (i + 12 + len > png.size()) return "truncated PNG";
        if (type != "tIME" && type != "tEXt" && type != "zTXt" && type != "iTXt")
            out += png.substr(i, 12 + len);
        i += 12 + len;
    }
    return out;
}

inline std::size_t count_lines(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace hearth::test
