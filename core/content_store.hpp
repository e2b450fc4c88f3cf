#pragma once
// The scheduler's content store: staged inputs, items files and collected
// outputs, each addressed by the SHA-256 of its bytes, under
// DIR/blobs/ab/abcdef... (the first two hex digits fan the files out over
// 256 directories, as git's object store does).
//
// A blob is written to a temporary name, fsynced, renamed into place and
// its directory fsynced: once put() returns, the blob survives a crash, and
// a reader never sees a partial file under a blob's name. The address is the
// content, so put() is idempotent and a blob never changes once written.
#include <string>
#include <string_view>

namespace hearth {

class ContentStore {
public:
    // dir: created when missing (0700), with dir/blobs.
    explicit ContentStore(std::string dir);

    // Stores data under sha256 (64 lowercase hex digits). Throws usage_error
    // when the address is malformed or the data does not hash to it (a
    // corrupt or truncated upload: nothing is left behind), Error when the
    // disk refuses.
    void put(const std::string& sha256, std::string_view data);
    // not_found_error when absent.
    std::string get(const std::string& sha256) const;
    bool has(const std::string& sha256) const;
    // Where the blob lies (for streaming and for files read in place, such as
    // items files); not_found_error when absent.
    std::string path(const std::string& sha256) const;

    // The address of some bytes: SHA-256 as 64 lowercase hex digits.
    static std::string address_of(std::string_view data);

private:
    std::string file_of(const std::string& sha256) const;  // checks the address
    std::string m_blobs;
};

}  // namespace hearth
