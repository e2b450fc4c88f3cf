#pragma once
// An upload to the scheduler's content store, streamed to disk as it
// arrives: hashed on the way (SHA-256), capped in size, written under a
// temporary name, fsynced, and renamed to the blob's own path only when the
// hash matches the name it was uploaded under. A blob is therefore never
// seen half-written nor under a wrong name, and memory stays flat however
// large the file.
#include <cstdint>
#include <memory>
#include <string>

namespace hearth {

class BlobSink {
public:
    // final_path: where the blob lives once complete (Scheduler::blob_path);
    // its directory is created when missing. max_bytes: larger is refused.
    BlobSink(std::string final_path, std::string sha256, std::uint64_t max_bytes);
    ~BlobSink();  // removes the temporary file unless commit() ran
    BlobSink(const BlobSink&) = delete;
    BlobSink& operator=(const BlobSink&) = delete;

    // Appends; throws usage_error past max_bytes, Error on a write failure.
    void write(const char* data, std::size_t n);
    // Checks the hash (usage_error naming both hashes when they differ),
    // syncs the file and its directory, and renames it into place.
    void commit();
    std::uint64_t size() const { return m_size; }

private:
    struct Digest;
    std::string m_final, m_tmp, m_sha256;
    std::uint64_t m_max, m_size = 0;
    int m_fd = -1;
    bool m_done = false;
    std::unique_ptr<Digest> m_digest;
};

}  // namespace hearth
