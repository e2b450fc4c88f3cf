#pragma once
// An append-only file with explicit durability points: writes are buffered
// and sync() makes them durable (write + fdatasync). The journal and the log
// store of a job use it, so one fsync covers a whole batch of events.
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth {

class AppendFile {
public:
    explicit AppendFile(std::string path);  // creates the file if missing
    ~AppendFile();
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;

    // Returns the offset at which data will sit in the file.
    std::uint64_t append(std::string_view data);
    bool pending() const { return !m_buffer.empty(); }
    void sync();  // throws Error naming the file and errno (e.g. disk full)
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    int m_fd = -1;
    std::uint64_t m_size = 0;  // bytes durable or buffered
    std::string m_buffer;
};

}  // namespace hearth
