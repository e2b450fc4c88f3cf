#include "append_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace hearth {

AppendFile::AppendFile(std::string path) : m_path(std::move(path)) {
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (m_fd < 0) throw Error("cannot open " + m_path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(m_fd, &st) == 0) m_size = static_cast<std::uint64_t>(st.st_size);
}

AppendFile::~AppendFile() {
    if (m_fd >= 0) ::close(m_fd);
}

std::uint64_t AppendFile::append(std::string_view data) {
    std::uint64_t at = m_size;
    m_buffer.append(data);
    m_size += data.size();
    return at;
}

void AppendFile::sync() {
    const std::uint64_t durable = m_size - m_buffer.size();
    std::size_t done = 0;
    while (done < m_buffer.size()) {
        ssize_t n = ::write(m_fd, m_buffer.data() + done, m_buffer.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            // Cut what reached the file partially (a full disk takes the head of
            // a batch): no torn line is left for a later append to land behind,
            // and the whole batch stays buffered for a retry. Shrinking a file
            // works on a full disk; if it fails anyway, drop the written head
            // so that a retry does not duplicate it (readers ignore a torn end).
            if (done > 0 && ::ftruncate(m_fd, static_cast<off_t>(durable)) != 0)
                m_buffer.erase(0, done);
            throw Error("cannot write " + m_path + ": " + std::strerror(e) +
                        (e == ENOSPC ? "; free space on that filesystem, then run 'hearth resume'"
                                     : ""));
        }
        done += static_cast<std::size_t>(n);
    }
    m_buffer.clear();
    if (::fdatasync(m_fd) != 0)
        throw Error("cannot sync " + m_path + ": " + std::strerror(errno));
}

}  // namespace hearth
