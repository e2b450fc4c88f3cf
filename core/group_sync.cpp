#include "core/group_sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"

namespace hearth {

GroupSync::GroupSync(std::string wal_path) : m_wal(std::move(wal_path)) {}

GroupSync::~GroupSync() {
    if (m_fd >= 0) ::close(m_fd);
}

std::uint64_t GroupSync::committed() {
    std::lock_guard lock(m_mu);
    return ++m_committed;
}

std::uint64_t GroupSync::last() const {
    std::lock_guard lock(m_mu);
    return m_committed;
}

std::uint64_t GroupSync::syncs() const {
    std::lock_guard lock(m_mu);
    return m_syncs;
}

// The WAL exists once anything was committed. Its directory entry is synced
// once too: SQLite with synchronous=NORMAL does not sync it when it makes the
// file, and a WAL lost with its name loses what it holds.
void GroupSync::open_wal() {
    m_fd = ::open(m_wal.c_str(), O_RDWR | O_CLOEXEC);
    if (m_fd < 0)
        throw Error("cannot open " + m_wal + " to sync it: " + std::strerror(errno) +
                    "; check the state directory's permissions and restart hearth serve");
    const std::string dir = std::filesystem::path(m_wal).parent_path().string();
    const int d = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        ::fsync(d);
        ::close(d);
    }
}

void GroupSync::wait_durable(std::uint64_t seq) {
    std::unique_lock lock(m_mu);
    while (m_durable < seq && m_failed.empty()) {
        if (m_syncing) {
            m_cv.wait(lock);
            continue;
        }
        // Leader: every commit numbered up to `upto` is in the WAL already
        // (committed() is called after SQLite's COMMIT returned).
        m_syncing = true;
        const std::uint64_t upto = m_committed;
        lock.unlock();
        std::string failure;
        try {
            if (m_fd < 0) open_wal();
            if (::fdatasync(m_fd) != 0)
                failure =
                    "cannot sync " + m_wal + ": " + std::strerror(errno) +
                    "; what was not synced may be lost: check the disk and restart hearth serve";
        } catch (const std::exception& e) {
            failure = e.what();
        }
        lock.lock();
        m_syncing = false;
        ++m_syncs;
        if (failure.empty())
            m_durable = std::max(m_durable, upto);
        else
            m_failed = failure;
        m_cv.notify_all();
    }
    if (m_durable < seq) throw Error(m_failed);
}

}  // namespace hearth
