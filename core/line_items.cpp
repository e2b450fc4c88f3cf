#include "core/line_items.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/error.hpp"
#include "core/frameset.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

void strip_cr(std::string& line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
}

Error cannot_read(const std::string& path, int err) {
    return usage_error("cannot read items file '" + path + "': " + std::strerror(err) +
                       "; check the path");
}

}  // namespace

LineItems::LineItems(std::string path) : m_path(std::move(path)) {
    // An ifstream opens a directory without complaint and then reads nothing, which would be
    // reported as "no items"; say what is really wrong instead.
    std::error_code ec;
    if (std::filesystem::is_directory(m_path, ec)) throw cannot_read(m_path, EISDIR);

    errno = 0;
    m_in.open(m_path, std::ios::in | std::ios::binary);
    if (!m_in.is_open()) throw cannot_read(m_path, errno != 0 ? errno : EIO);

    // Offsets are counted by hand: tellg() per line is a syscall-heavy path in libstdc++.
    std::string line;
    std::uint64_t offset = 0;
    while (std::getline(m_in, line)) {
        const std::uint64_t start = offset;
        offset += line.size() + (m_in.eof() ? 0 : 1);
        strip_cr(line);
        if (line.empty()) continue;
        if (m_count % k_stride == 0) m_index.push_back(start);
        ++m_count;
    }
    if (m_in.bad()) throw cannot_read(m_path, errno != 0 ? errno : EIO);
    if (m_count == 0) {
        throw usage_error("items file '" + m_path + "' has no items; put one item a line");
    }
    m_in.clear();
    m_cursor_valid = false;
}

std::string LineItems::item(std::uint64_t i) {
    if (i >= m_count) {
        throw std::out_of_range("LineItems::item: index " + std::to_string(i) + " >= size " +
                                std::to_string(m_count));
    }
    const std::uint64_t block = i / k_stride;
    // Reading on from the cursor is cheaper than a seek whenever it is in the same block and
    // not past i, which covers the usual in-order walk over a task's items.
    const bool from_cursor =
        m_cursor_valid && m_cursor_item <= i && m_cursor_item >= block * k_stride;
    if (!from_cursor) {
        m_in.clear();
        m_in.seekg(static_cast<std::streamoff>(m_index[block]));
        m_cursor_item = block * k_stride;
        m_cursor_valid = true;
    }
    std::string line;
    while (true) {
        if (!std::getline(m_in, line)) {
            m_cursor_valid = false;
            throw Error("items file '" + m_path + "' no longer holds " + std::to_string(m_count) +
                        " items; do not change it while the job runs");
        }
        strip_cr(line);
        if (line.empty()) continue;
        if (m_cursor_item++ == i) return line;
    }
}

std::unique_ptr<ItemSource> make_items(SplitKind kind, const std::string& split_text,
                                       const std::string& items_path) {
    switch (kind) {
        case SplitKind::frames: return std::make_unique<NumberItems>(FrameSet::parse(split_text));
        case SplitKind::seeds: return std::make_unique<NumberItems>(parse_seed_range(split_text));
        case SplitKind::count: {
            const auto n = parse_u64(split_text);
            if (!n)
                throw usage_error("bad count '" + split_text.substr(0, 64) +
                                  "' (--count): give a whole number of items, e.g. --count 1000");
            if (*n == 0 || *n > (std::uint64_t{1} << 62))
                throw usage_error("bad count '" + split_text + "' (--count): it must be between 1 and 2^62");
            return std::make_unique<NumberItems>(FrameSet::range(0, static_cast<std::int64_t>(*n - 1)));
        }
        case SplitKind::items: return std::make_unique<LineItems>(items_path);
    }
    throw Error("unknown split kind (a Hearth bug: please report it)");
}

}  // namespace hearth
