#pragma once
// A server's view of its tokens file (hearth-tokens(5)) that follows the
// file: each lookup stats it (one syscall) and re-reads it when its inode,
// size, mtime or ctime changed, so `hearth token revoke` and `hearth token
// new` take effect at the next request without a restart. A file that
// becomes unreadable or malformed keeps the last good table and says so once
// on stderr.
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth.hpp"

namespace hearth {

class TokenFile {
public:
    // Reads the file now; throws usage_error as read_secret_file and
    // TokenTable::parse do, so a bad file stops the server's start.
    explicit TokenFile(std::string path);
    std::optional<Role> find(std::string_view token);
    const std::string& path() const { return m_path; }

private:
    struct Stamp {
        unsigned long long ino = 0, size = 0;
        long long mtime_ns = 0, ctime_ns = 0;
        bool operator==(const Stamp&) const = default;
    };
    std::optional<Stamp> stamp() const;

    std::string m_path;
    std::mutex m_mu;
    TokenTable m_table;
    Stamp m_stamp;
    bool m_warned = false;
};

}  // namespace hearth
