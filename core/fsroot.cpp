#include "fsroot.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace hearth {

ReadResult FsRoot::read(const std::string& abs) const {
    ReadResult r;
    int fd = ::open(path(abs).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r.error = errno;
        return r;
    }
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r.error = errno;
            ::close(fd);
            return r;
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        // A short read of a file is its end: spares a second read() per
        // /proc file, which the agent reads dozens of times a second.
        if (static_cast<std::size_t>(n) < sizeof buf) break;
    }
    ::close(fd);
    r.text = std::move(text);
    return r;
}

int FsRoot::reread_into(const std::string& abs, int& fd, std::string& text,
                        std::size_t limit) const {
    text.clear();
    if (fd < 0) fd = ::open(path(abs).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    // Read into the stack, then copied: the caller's buffer keeps its
    // capacity from one interval to the next, so nothing is allocated.
    char buf[4096];
    for (;;) {
        const std::size_t have = text.size();
        const std::size_t want = std::min(sizeof buf, limit > have ? limit - have : sizeof buf);
        ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(have));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            text.clear();
            ::close(fd);
            fd = -1;
            return err;
        }
        text.append(buf, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < want || text.size() >= limit) break;
    }
    return 0;
}

ReadResult FsRoot::reread(const std::string& abs, int& fd, std::size_t limit) const {
    ReadResult r;
    std::string text;
    r.error = reread_into(abs, fd, text, limit);
    if (r.error == 0) r.text = std::move(text);
    return r;
}

KeptFile& KeptFile::operator=(KeptFile&& o) noexcept {
    if (this != &o) {
        close();
        m_abs = std::move(o.m_abs);
        m_fd = o.m_fd;
        o.m_fd = -1;
    }
    return *this;
}

ReadResult KeptFile::read(const FsRoot& fs) {
    ReadResult r;
    std::string text;
    r.error = read(fs, text);
    if (r.error == 0) r.text = std::move(text);
    return r;
}

void KeptFile::close() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
}

std::vector<std::string> FsRoot::list(const std::string& abs) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(path(abs), ec))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

bool FsRoot::exists(const std::string& abs) const {
    struct stat st {};
    return ::stat(path(abs).c_str(), &st) == 0;
}

}  // namespace hearth
