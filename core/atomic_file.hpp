#pragma once
// Replacing a file so that a crash leaves the old content or the new, never
// half of either: a temp name in the same directory, fsync, rename.
#include <string>

namespace hearth {

enum class Durability {
    synced,        // fsync before the rename: survives a power cut
    process_crash  // no fsync: survives the process's death, not the machine's
};

// Writes data to path atomically; throws Error naming the file and errno.
void write_file_atomic(const std::string& path, const std::string& data, unsigned mode,
                       Durability durability = Durability::synced);

// The same, for a file others read by its group (a tokens file of mode 0640
// and group 'hearth'): the new file gets exactly `mode` whatever the umask,
// and the owner and group given, before it replaces the old one.
struct FileOwner {
    unsigned uid = 0, gid = 0;
};
void write_file_atomic(const std::string& path, const std::string& data, unsigned mode,
                       const FileOwner& owner);

}  // namespace hearth
