#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace hearth {

namespace {

void write_atomic(const std::string& path, const std::string& data, unsigned mode,
                  Durability durability, const FileOwner* owner) {
    fs::path p(path);
    if (p.has_parent_path()) fs::create_directories(p.parent_path());
    std::string tmp = (p.parent_path() / ("." + p.filename().string() + ".hearth-tmp")).string();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0777);
    if (fd < 0) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
    if (owner && (::fchown(fd, owner->uid, owner->gid) != 0 || ::fchmod(fd, mode & 07777) != 0)) {
        int e = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error("cannot set the owner and mode of " + tmp + ": " + std::strerror(e));
    }
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error("cannot write " + tmp + ": " + std::strerror(e));
        }
        done += static_cast<std::size_t>(n);
    }
    if ((durability == Durability::synced && ::fsync(fd) != 0) || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        throw Error("cannot sync " + tmp + ": " + std::strerror(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw Error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
    }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& data, unsigned mode,
                       Durability durability) {
    write_atomic(path, data, mode, durability, nullptr);
}

void write_file_atomic(const std::string& path, const std::string& data, unsigned mode,
                       const FileOwner& owner) {
    write_atomic(path, data, mode, Durability::synced, &owner);
}

}  // namespace hearth
