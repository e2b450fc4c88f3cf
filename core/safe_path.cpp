#include "safe_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "error.hpp"

namespace hearth {
namespace {

std::vector<std::string> components(const std::string& rel) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= rel.size()) {
        std::size_t slash = rel.find('/', start);
        if (slash == std::string::npos) slash = rel.size();
        parts.push_back(rel.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

// Closes a descriptor at the end of a scope.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    void reset(int f) {
        if (fd >= 0) ::close(fd);
        fd = f;
    }
};

// Why rel could not be opened at its component name (under dirfd), for a
// message: "'a/b' is a symbolic link to 'X'" (the usual case), or "'a/b':
// 'a' is a symbolic link to 'X'" for a link on the way, else errno's text.
std::string why_not(int dirfd, const std::string& rel, const std::string& name, int err,
                    const std::string& link_note = "") {
    const std::string subject = name == rel ? "'" + rel + "'" : "'" + rel + "': '" + name + "'";
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(dirfd, name.c_str(), target, sizeof target - 1);
        std::string to = n > 0 ? " to '" + std::string(target, static_cast<std::size_t>(n)) + "'" : "";
        return subject + " is a symbolic link" + to + link_note;
    }
    return subject + ": " + std::strerror(err);
}

int open_root(const std::string& root) {
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat st {};
        if (::lstat(root.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
            throw Error(root + " is a symbolic link, which Hearth does not follow; make it a "
                               "directory");
        throw Error("cannot open directory " + root + ": " + std::strerror(e));
    }
    return fd;
}

}  // namespace

void check_relative_path(const std::string& text, const std::string& what) {
    const std::string fix =
        "; give a path relative to the task's scratch directory, without '..', e.g. 'frame*.png'";
    if (text.empty()) throw usage_error("empty " + what + fix);
    if (text.find('\0') != std::string::npos)
        throw usage_error("bad " + what + ": it holds a NUL byte" + fix);
    if (text[0] == '/')
        throw usage_error("bad " + what + " '" + text + "': an absolute path reaches outside the " +
                          "task's scratch directory" + fix);
    for (const auto& part : components(text))
        if (part == "..")
            throw usage_error("bad " + what + " '" + text + "': '..' reaches outside the task's " +
                              "scratch directory" + fix);
}

bool is_clean_relative_path(const std::string& text) {
    if (text.empty() || text[0] == '/' || text.find('\0') != std::string::npos) return false;
    for (const auto& part : components(text))
        if (part.empty() || part == "." || part == "..") return false;
    return true;
}

bool path_is_within(const std::string& root, const std::string& path) {
    namespace fs = std::filesystem;
    auto norm = [](const std::string& p) {
        std::string s = fs::path(p).lexically_normal().string();
        while (s.size() > 1 && s.back() == '/') s.pop_back();
        return s;
    };
    if (root.empty() || path.empty() || root[0] != '/' || path[0] != '/') return false;
    const std::string r = norm(root), p = norm(path);
    if (r == "/") return true;
    return p == r || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/');
}

std::string read_file_beneath(const std::string& root, const std::string& rel, unsigned* mode) {
    if (!is_clean_relative_path(rel))
        throw Error("'" + rel + "' is not a plain relative path under " + root);
    const auto parts = components(rel);
    Fd dir(open_root(root));
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        int next = ::openat(dir.fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) throw Error(why_not(dir.fd, rel, parts[i], errno));
        dir.reset(next);
    }
    const std::string& last = parts.back();
    // O_NONBLOCK: a FIFO swapped in for the file must not hang the reader.
    Fd file(::openat(dir.fd, last.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (file.fd < 0) throw Error(why_not(dir.fd, rel, last, errno));
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) throw Error("cannot stat '" + rel + "': " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw Error("'" + rel + "' is not a regular file");
    if (mode) *mode = st.st_mode & 0777;
    std::string data;
    data.reserve(static_cast<std::size_t>(st.st_size));
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(file.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error("cannot read '" + rel + "': " + std::strerror(errno));
        if (n == 0) break;
        data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
}

void write_file_beneath(const std::string& root, const std::string& rel, const std::string& data,
                        unsigned mode) {
    const std::string where = root + "/" + rel;
    if (!is_clean_relative_path(rel))
        throw Error("refusing to write '" + rel + "' under " + root +
                    ": not a plain relative path (no '..', no absolute path)");
    const auto parts = components(rel);
    Fd dir(open_root(root));
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        const char* name = parts[i].c_str();
        int next = ::openat(dir.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (::mkdirat(dir.fd, name, 0755) != 0 && errno != EEXIST)
                throw Error("cannot create directory for " + where + ": " + std::strerror(errno));
            next = ::openat(dir.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0)
            throw Error("cannot write under " + root + ": " +
                        why_not(dir.fd, rel, parts[i], errno,
                                ", which Hearth does not follow; remove the link"));
        dir.reset(next);
    }
    const std::string& last = parts.back();
    // Next to the target, so the rename is atomic; a stale one from a crash
    // (or anything planted under that name) is removed, never opened.
    std::string tmp = "." + last + ".hearth-tmp";
    if (tmp.size() > 255) tmp = ".hearth-tmp";
    if (::unlinkat(dir.fd, tmp.c_str(), 0) != 0 && errno != ENOENT)
        throw Error("cannot write " + where + ": cannot remove the stale " + tmp + ": " +
                    std::strerror(errno));
    int fd = ::openat(dir.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      mode & 0777);
    if (fd < 0) throw Error("cannot write " + where + ": " + std::strerror(errno));
    auto fail = [&](const std::string& doing, int e) {
        ::close(fd);
        ::unlinkat(dir.fd, tmp.c_str(), 0);
        throw Error("cannot " + doing + " " + where + ": " + std::strerror(e));
    };
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("write", errno);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("sync", errno);
    if (::close(fd) != 0) {
        int e = errno;
        ::unlinkat(dir.fd, tmp.c_str(), 0);
        throw Error("cannot write " + where + ": " + std::strerror(e));
    }
    // rename(2) replaces a symbolic link at the final name; it never writes through it.
    if (::renameat(dir.fd, tmp.c_str(), dir.fd, last.c_str()) != 0) {
        int e = errno;
        ::unlinkat(dir.fd, tmp.c_str(), 0);
        throw Error("cannot write " + where + ": " + std::strerror(e) +
                    (e == EISDIR || e == ENOTEMPTY ? " (a directory has that name; remove it)" : ""));
    }
}

}  // namespace hearth
