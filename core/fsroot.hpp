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
    // it from offset 0 next time: sysfs and /proc files regenerate on every
    // read, and the agent rereads the same ones ten times a second. The
    // content goes to text (its buffer reused: no allocation once it is big
    // enough). Returns 0, or the errno of the failed open or read; then fd is
    // closed and reset to -1, so the next call opens the file again. A file
    // whose process has exited reads ESRCH, a removed sysfs attribute ENODEV.
    // limit: stop after this many bytes (the start of a long file is enough).
    virtual int reread_into(const std::string& abs, int& fd, std::string& text,
                            std::size_t limit = static_cast<std::size_t>(-1)) const;
    ReadResult reread(const std::string& abs, int& fd,
                      std::size_t limit = static_cast<std::size_t>(-1)) const;
    const std::string& root() const { return m_root; }

private:
    std::string m_root;
};

// One file kept open between reads through an FsRoot (see reread_into): the
// energy counters and the tasks' /proc files, read every interval, without
// an open() and close() each time. Closed on destruction.
class KeptFile {
public:
    KeptFile() = default;
    explicit KeptFile(std::string abs) : m_abs(std::move(abs)) {}
    ~KeptFile() { close(); }
    KeptFile(KeptFile&& o) noexcept : m_abs(std::move(o.m_abs)), m_fd(o.m_fd) { o.m_fd = -1; }
    KeptFile& operator=(KeptFile&& o) noexcept;
    KeptFile(const KeptFile&) = delete;
    KeptFile& operator=(const KeptFile&) = delete;

    // The file's content now, into text; 0 or an errno (see reread_into).
    int read(const FsRoot& fs, std::string& text,
             std::size_t limit = static_cast<std::size_t>(-1)) {
        return fs.reread_into(m_abs, m_fd, text, limit);
    }
    // The same as a ReadResult (a new string), for callers that keep it.
    ReadResult read(const FsRoot& fs);
    void close();
    const std::string& abs() const { return m_abs; }
    bool is_open() const { return m_fd >= 0; }

private:
    std::string m_abs;
    int m_fd = -1;
};

}  // namespace hearth
