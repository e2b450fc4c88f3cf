#include "core/content_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/jobs_api.hpp"

namespace hearth {

namespace {

Error disk_error(const std::string& doing, const std::string& path, int err) {
    return Error("content store: cannot " + doing + " " + path + ": " + std::strerror(err) +
                 "; check the state directory's disk space and permissions");
}

void make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw disk_error("create", path, errno);
}

// A rename is durable only once the directory holding the new name is synced.
void sync_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw disk_error("open", path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) throw disk_error("sync", path, err);
}

void write_all(int fd, std::string_view data, const std::string& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw disk_error("write", path, errno);
        done += static_cast<std::size_t>(n);
    }
}

// Unique per process and call, so that two uploads of one blob at once (the
// server may stream outside its lock) never share a temporary file.
std::string temp_name(const std::string& final_path) {
    static std::atomic<std::uint64_t> counter{0};
    return final_path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

}  // namespace

ContentStore::ContentStore(std::string dir) : m_blobs(dir + "/blobs") {
    make_dir(dir);
    make_dir(m_blobs);
}

std::string ContentStore::address_of(std::string_view data) { return to_hex(sha256(data)); }

std::string ContentStore::file_of(const std::string& sha256) const {
    if (!is_sha256_hex(sha256))
        throw usage_error("blob address '" + sha256.substr(0, 80) +
                          "' is not a SHA-256; give 64 lowercase hex digits");
    return m_blobs + "/" + sha256.substr(0, 2) + "/" + sha256;
}

bool ContentStore::has(const std::string& sha256) const {
    struct stat st {};
    return ::stat(file_of(sha256).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ContentStore::path(const std::string& sha256) const {
    if (!has(sha256))
        throw not_found_error("no blob " + sha256 + " in the content store; upload it first");
    return file_of(sha256);
}

std::string ContentStore::get(const std::string& sha256) const {
    const std::string p = path(sha256);
    std::ifstream in(p, std::ios::binary);
    if (!in) throw disk_error("read", p, errno);
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) throw disk_error("read", p, errno);
    return std::move(out).str();
}

void ContentStore::put(const std::string& sha256, std::string_view data) {
    const std::string final_path = file_of(sha256);
    // Hashed before anything is written: a refused upload leaves no file.
    const std::string actual = address_of(data);
    if (actual != sha256)
        throw usage_error("upload's sha256 " + actual + " does not match its address " + sha256 +
                          " (" + std::to_string(data.size()) +
                          " bytes arrived: corrupt or truncated); re-upload the file");
    if (has(sha256)) return;  // same address, same bytes
    const std::string dir = final_path.substr(0, final_path.rfind('/'));
    make_dir(dir);
    const std::string tmp = temp_name(final_path);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw disk_error("create", tmp, errno);
    try {
        write_all(fd, data, tmp);
        if (::fsync(fd) != 0) throw disk_error("sync", tmp, errno);
        if (::close(fd) != 0) {
            fd = -1;
            throw disk_error("close", tmp, errno);
        }
        fd = -1;
        if (::rename(tmp.c_str(), final_path.c_str()) != 0) throw disk_error("rename", tmp, errno);
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    sync_dir(dir);
}

}  // namespace hearth
