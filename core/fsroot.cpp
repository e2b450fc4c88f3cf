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

ReadResult FsRoot::reread(const std::string& abs, int& fd, std::size_t limit) const {
    ReadResult r;
    if (fd < 0) fd = ::open(path(abs).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r.error = errno;
        return r;
    }
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(text.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r.error = errno;
            ::close(fd);
            fd = -1;
            return r;
        }
        text.append(buf, static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < sizeof buf || text.size() >= limit) break;
    }
    r.text = std::move(text);
    return r;
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
