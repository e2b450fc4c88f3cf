#pragma once
// Every /sys and /proc read goes through an FsRoot, so tests (and captured
// trees) replace the machine's files with a directory of their own, as
// hwloc's HWLOC_FSROOT does.
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

namespace hearth {

struct ReadResult {
    std::optional<std::string> text;  // set on success
    int error = 0;                    // errno on failure (ENOENT, EACCES, EIO, ...)
};

// Virtual so a test's fake can also make a read fail as hardware does (EIO)
// or as a kernel does for non-root (EACCES), which a real temp file cannot
// do for root.
class FsRoot {
public:
    explicit FsRoot(std::string root = "") : m_root(std::move(root)) {}
    virtual ~FsRoot() = default;
    // "/sys/class/powercap" -> "<root>/sys/class/powercap"
    std::string path(const std::string& abs) const { return m_root + abs; }
    virtual ReadResult read(const std::string& abs) const;  // whole file, newline kept
    virtual std::vector<std::string> list(const std::string& abs) const;  // names, sorted
    virtual bool exists(const std::string& abs) const;
    // Like read(), but keeps the file open in fd (start with -1) and rereads
    // it from offset 0 next time: /proc files regenerate on every read, and
    // the agent rereads the same ones ten times a second. On failure fd is
    // closed and reset to -1.
    // limit: stop after this many bytes (the start of a long file is enough).
    virtual ReadResult reread(const std::string& abs, int& fd,
                              std::size_t limit = static_cast<std::size_t>(-1)) const;
    const std::string& root() const { return m_root; }

private:
    std::string m_root;
};

}  // namespace hearth
