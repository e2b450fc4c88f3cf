#include "runner/cli/job_template_cli.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/job_template.hpp"

extern char** environ;

namespace hearth {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

bool given(const CLI::App& sub, const char* opt) {
    const CLI::Option* o = sub.get_option_no_throw(opt);
    return o && o->count() > 0;
}

// NAME's file, or a one-line refusal listing the templates there are.
fs::path find_template(const std::string& name) {
    std::error_code ec;
    if (name.find('/') != std::string::npos ||
        (name.size() > 5 && name.substr(name.size() - 5) == ".toml")) {
        if (!fs::is_regular_file(name, ec))
            throw usage_error("--template " + name +
                              ": no such file; give a template's name or the path of its .toml");
        return name;
    }
    std::set<std::string> known;
    std::string searched;
    for (const auto& dir : template_dirs()) {
        const fs::path p = dir / (name + ".toml");
        if (fs::is_regular_file(p, ec)) return p;
        searched += (searched.empty() ? "" : ", ") + dir.string();
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().extension() == ".toml") known.insert(it->path().stem().string());
    }
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw usage_error("no template '" + name + "' (looked in " +
                      (searched.empty() ? "no folder" : searched) + "); " +
                      (list.empty()
                           ? "install the templates (make install) or give a path to a .toml"
                           : "templates there: " + list + "; check the name"));
}

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw usage_error("cannot read template " + p.string() + "; check its permissions");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void check_file_arg(const TemplateArg& arg, const std::string& path, const std::string& tmpl) {
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw usage_error("template " + tmpl + ": " + arg.name + " '" + path +
                          "' does not exist; give the path of " + arg.help);
    std::ifstream in(path, std::ios::binary);
    if (!fs::is_regular_file(path, ec) || !in)
        throw usage_error("template " + tmpl + ": " + arg.name + " '" + path +
                          "' is not a readable file; give " + arg.help);
    std::string head(64, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (!template_header_matches(arg, head))
        throw usage_error("template " + tmpl + ": " + arg.name + " '" + path + "' is not " +
                          arg.what);
}

// Runs the template's frames probe; its output (stdout and stderr), or
// nullopt when its program cannot be started. $PWD is set to the real
// working directory: Blender, for one, trusts it over getcwd().
std::optional<std::string> run_probe(const std::vector<std::string>& args, int* code) {
    char tmpl[] = "/tmp/hearth-probe-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) return std::nullopt;
    std::vector<std::string> env_text;
    for (char** e = environ; *e; ++e)
        if (std::string(*e).rfind("PWD=", 0) != 0) env_text.emplace_back(*e);
    std::error_code ec;
    env_text.push_back("PWD=" + fs::current_path(ec).string());
    std::vector<char*> envp, argv;
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(fd);
    std::optional<std::string> out;
    if (rc == 0) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        out = read_all(tmpl);
    }
    ::unlink(tmpl);
    return out;
}

// The line of a program's output that says what went wrong: its first
// "Error" line, else its last line.
std::string telling_line(const std::string& text) {
    std::istringstream in(text);
    std::string line, last;
    while (std::getline(in, line)) {
        if (line.find("rror") != std::string::npos) return line.substr(0, 200);
        if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
    }
    return last.substr(0, 200);
}

void check_frames_against_probe(const JobTemplate& t, const TemplateJob& job,
                                const std::string& frames) {
    int code = 0;
    const auto out = run_probe(job.frames_probe, &code);
    const std::string input =
        job.files.empty() ? t.name + "'s input" : fs::path(job.files.front()).filename().string();
    if (!out) {
        std::cerr << "hearth: cannot check " << input << "'s frame range ("
                  << job.frames_probe.front()
                  << " is not installed here); sending the job unchecked\n";
        return;
    }
    const auto range = parse_frame_probe(*out);
    if (code != 0 || !range)
        throw usage_error("template " + t.name + ": " + job.frames_probe.front() +
                          " could not read " + input + "'s frame range (" +
                          (code ? "exit " + std::to_string(code) + ": " : "") + telling_line(*out) +
                          "); check that the file opens in " + job.frames_probe.front());
    check_frames_within(frames, range->first, range->second, input);
}

}  // namespace

std::vector<fs::path> template_dirs() {
    std::vector<fs::path> dirs;
    std::stringstream list(env("HEARTH_TEMPLATES"));
    for (std::string d; std::getline(list, d, ':');)
        if (!d.empty()) dirs.emplace_back(d);
    const std::string xdg = env("XDG_CONFIG_HOME"), home = env("HOME");
    if (!xdg.empty())
        dirs.push_back(fs::path(xdg) / "hearth" / "templates");
    else if (!home.empty())
        dirs.push_back(fs::path(home) / ".config" / "hearth" / "templates");
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "hearth" / "templates");
    return dirs;
}

void apply_job_template(RunArgs& a, const CLI::App& sub, bool has_dashes) {
    if (!a.template_name) return;
    const fs::path file = find_template(*a.template_name);
    const JobTemplate t = parse_job_template(read_all(file), file.stem().string(), file.string());
    if (has_dashes)
        throw usage_error(
            "--template " + t.name +
            " fills the command; drop the words after '--' (usage: " + template_usage(t) + ")");
    const TemplateJob job = expand_job_template(t, a.command);
    for (std::size_t i = 0, f = 0; i < t.args.size(); ++i)
        if (t.args[i].file) check_file_arg(t.args[i], job.files.at(f++), t.name);

    if (!t.split.empty()) {
        const std::pair<const char*, std::optional<std::string>*> ways[] = {
            {"frames", &a.frames}, {"seeds", &a.seeds}, {"count", &a.count}, {"items", &a.items}};
        for (const auto& [kind, v] : ways)
            if (v->has_value() && t.split != kind)
                throw usage_error("template " + t.name + " splits by --" + t.split + "; drop --" +
                                  kind + " (usage: " + template_usage(t) + ")");
        std::optional<std::string>& mine = t.split == "frames"  ? a.frames
                                           : t.split == "seeds" ? a.seeds
                                                                : a.count;
        if (!mine) {
            if (!t.split_default)
                throw usage_error("template " + t.name + " needs --" + t.split + " (e.g. --" +
                                  t.split + " " + (t.split == "frames" ? "1-240" : "0-99") +
                                  "); usage: " + template_usage(t));
            mine = t.split_default;
        }
    }
    if (!job.frames_probe.empty() && a.frames) check_frames_against_probe(t, job, *a.frames);
    a.command = job.command;
    a.stage.insert(a.stage.begin(), job.stage.begin(), job.stage.end());
    a.collect.insert(a.collect.begin(), job.collect.begin(), job.collect.end());
    if (t.chunk && !given(sub, "--chunk")) a.chunk = *t.chunk;
    if (t.retries && !given(sub, "--retries")) a.retries = *t.retries;
    if (t.timeout && !given(sub, "--timeout")) a.timeout = t.timeout;
    if (t.job_name && !given(sub, "--name")) a.name = *t.job_name;
}

}  // namespace hearth
