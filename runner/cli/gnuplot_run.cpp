#include "runner/cli/gnuplot_run.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.hpp"

extern char** environ;

namespace hearth {

namespace fs = std::filesystem;

namespace {

// A private directory under $TMPDIR, removed with everything in it.
class TempDir {
public:
    TempDir() {
        const char* t = std::getenv("TMPDIR");
        std::string tmpl = std::string(t && *t ? t : "/tmp") + "/hearth-plot-XXXXXX";
        if (!::mkdtemp(tmpl.data()))
            throw Error("hearth sim --plot: cannot create a temporary directory in " +
                        fs::path(tmpl).parent_path().string() + ": " + std::strerror(errno) +
                        "; set TMPDIR to a writable directory");
        m_path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return m_path + "/" + name; }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    f.close();
    if (!f) throw Error("hearth sim --plot: cannot write " + path + "; check the space in $TMPDIR");
}

std::string read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// Writes data under a hidden temporary name beside path, syncs it and
// renames it into place, so that path is whole or untouched.
void install(const std::string& path, const std::string& data) {
    const fs::path p(path);
    const fs::path tmp = p.parent_path() / ("." + p.filename().string() + ".hearth-tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot write " + path + ": " + std::strerror(errno) + "; check the directory's permissions");
    std::size_t done = 0;
    int err = 0;
    while (done < data.size() && !err) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) err = errno;
        else done += static_cast<std::size_t>(n);
    }
    if (!err && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && !err) err = errno;
    if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
    if (err) {
        ::unlink(tmp.c_str());
        throw Error("cannot write " + path + ": " + std::strerror(err) + "; check the space and permissions there");
    }
}

std::string first_line(const std::string& text) {
    std::istringstream s(text);
    std::string line, last;
    // gnuplot echoes the offending command, then a line "file", line N: why.
    while (std::getline(s, line))
        if (line.find("line ") != std::string::npos && line.find(':') != std::string::npos) return line;
    std::istringstream again(text);
    while (std::getline(again, line))
        if (!line.empty()) return line;
    return "no message";
}

}  // namespace

std::string find_gnuplot() {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const std::string candidate = (dir.empty() ? "." : dir) + "/gnuplot";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    // Exit 1, as when a run's tasks fail: the input was fine, the machine lacks a tool.
    throw Error("--plot needs gnuplot, which is not installed: apt-get install gnuplot-nox (or make deps)",
                ExitCode::tasks_failed);
}

void check_plot_path(const std::string& path, const std::string& option) {
    const fs::path dir = fs::path(path).parent_path();
    std::error_code ec;
    if (fs::path(path).filename().empty() || fs::is_directory(path, ec))
        throw usage_error(option + " '" + path + "' names a directory; give a file name");
    if (!dir.empty() && !fs::is_directory(dir, ec))
        throw usage_error(option + " '" + path + "': no directory " + dir.string() + "; create it first");
}

void gnuplot_draw(const std::string& gnuplot, const PlotInput& in, const std::string& out_path,
                  const std::string& data_path) {
    TempDir tmp;
    write_text(tmp.file(k_plot_data_name), in.data);
    write_text(tmp.file("plot.gp"), in.script);

    // In the temporary directory, so that the script names its files
    // without quoting any path a user gave.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, tmp.path().c_str());
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> argv = {const_cast<char*>("gnuplot"), const_cast<char*>("plot.gp"), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, gnuplot.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        throw Error("cannot start " + gnuplot + ": " + std::strerror(rc) + "; reinstall it (apt-get install gnuplot-nox)",
                    ExitCode::tasks_failed);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string out = read_text(tmp.file(k_plot_output_name));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty())
        throw Error("gnuplot could not draw " + out_path + ": " + first_line(read_text(tmp.file("gnuplot.log"))) +
                    "; this is a bug of hearth sim --plot, please report it with the scenario");
    install(out_path, out);
    if (!data_path.empty()) install(data_path, in.data);
}

}  // namespace hearth
