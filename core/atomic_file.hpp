#pragma once
// Replacing a file so that a crash leaves the old content or the new, never
// half of either: a temp name in the same directory, fsync, rename.
#include <string>

namespace hearth {

// Writes data to path atomically; throws Error naming the file and errno.
void write_file_atomic(const std::string& path, const std::string& data, unsigned mode);

}  // namespace hearth
