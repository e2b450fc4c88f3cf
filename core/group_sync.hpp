#pragma once
// Group commit for a SQLite database in WAL mode (hearth serve's queue.db).
//
// With synchronous=FULL every COMMIT fsyncs the WAL while the scheduler's
// lock is held, so concurrent requests queue behind each other's fsync. With
// group commit the database runs with synchronous=NORMAL: a COMMIT appends
// its frames to the WAL (in the page cache: a SIGKILL of the process loses
// nothing) and returns; the caller releases its lock and waits in
// wait_durable() for an fdatasync of the WAL that began after its commit.
// One caller at a time syncs (the leader); those that commit meanwhile wait
// for the next sync, which covers all of them at once. A reply is sent only
// after wait_durable returns, so "answered" still implies "on disk" across a
// power cut. SQLite syncs the WAL itself before every checkpoint and the
// database after it (NORMAL), so frames a checkpoint moves stay durable.
//
// A failed fdatasync is sticky: what the kernel dropped cannot be synced
// again, so every later wait throws (the server must be restarted, and
// recovers from what is on disk).
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace hearth {

class GroupSync {
public:
    // wal_path: the database's "-wal" file (kept by SQLITE_FCNTL_PERSIST_WAL,
    // so its inode stays the same while the database is open).
    explicit GroupSync(std::string wal_path);
    ~GroupSync();
    GroupSync(const GroupSync&) = delete;
    GroupSync& operator=(const GroupSync&) = delete;

    // Under the caller's lock, right after a COMMIT: its sequence number.
    std::uint64_t committed();
    // The latest commit's number (0: none since start).
    std::uint64_t last() const;
    // Thread-safe, without the caller's lock: returns once commit `seq` is
    // synced; throws Error when the WAL cannot be synced.
    void wait_durable(std::uint64_t seq);
    // Syncs so far (each one covers every commit made before it began).
    std::uint64_t syncs() const;

private:
    void open_wal();

    std::string m_wal;
    int m_fd = -1;
    mutable std::mutex m_mu;
    std::condition_variable m_cv;
    std::uint64_t m_committed = 0;  // under m_mu
    std::uint64_t m_durable = 0;
    std::uint64_t m_syncs = 0;
    bool m_syncing = false;
    std::string m_failed;  // the sticky failure, empty while all is well
};

}  // namespace hearth
