#pragma once
// The results of finished attempts that the scheduler has not acknowledged
// yet, kept by a site's dispatcher in an append-only file under its state
// directory: a dropped link, a dead mpirun or a crash of the site's
// processes loses none of them, and they are sent again until a reply
// acknowledges them (a power cut may lose the newest, not synced: their
// attempts lapse and run again, committed once). Bounded:
// past max_bytes the site takes no new work (full()) but still keeps every
// result its running attempts produce; nothing committed is ever dropped.
//
// Format: JSON Lines, {"r": RESULT} when a result is kept and {"ack": [KEY...]}
// when the scheduler recorded some; a torn last line (crash mid-write) is
// ignored. The file is rewritten (atomically) with only the live results
// when most of it is dead.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/site_api.hpp"

namespace hearth {

class ResultBuffer {
public:
    // Reads what a previous run left in path (created when missing).
    explicit ResultBuffer(std::string path, std::uint64_t max_bytes = 256ull << 20);
    ResultBuffer(const ResultBuffer&) = delete;
    ResultBuffer& operator=(const ResultBuffer&) = delete;

    // Durable (written and fsynced) before it returns; a second result of the
    // same attempt replaces nothing and is ignored.
    void add(const AttemptResult& r);
    // The oldest results, in order, up to max_bytes of JSON (at least one).
    std::vector<AttemptResult> oldest(std::uint64_t max_bytes) const;
    // The scheduler recorded these: forget them (durably).
    void ack(const std::vector<AttemptKey>& keys);

    bool holds(const AttemptKey& k) const;
    const std::set<AttemptKey>& keys() const { return m_keys; }
    std::size_t size() const { return m_live.size(); }
    std::uint64_t live_bytes() const { return m_live_bytes; }
    std::uint64_t file_bytes() const { return m_file_bytes; }
    bool full() const { return m_live_bytes >= m_max_bytes; }
    // Every blob (sha256) a live result names as an output.
    std::vector<std::string> blobs() const;

private:
    struct Entry {
        AttemptResult result;
        std::uint64_t bytes = 0;
    };
    void load();
    void append_line(const std::string& line);
    void compact();

    std::string m_path;
    std::uint64_t m_max_bytes;
    std::vector<Entry> m_live;  // oldest first
    std::set<AttemptKey> m_keys;  // of m_live: holds() in log time, however long the link is down
    std::uint64_t m_live_bytes = 0;
    std::uint64_t m_file_bytes = 0;
};

// A result line as the buffer and the request both write it: bytes that are
// not UTF-8 (a task's binary output in its log) become U+FFFD, not an error.
std::string dump_json(const nlohmann::json& j);

}  // namespace hearth
