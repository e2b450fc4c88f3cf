#pragma once
// --items FILE: every non-empty line is an item (a trailing '\r' is dropped).
// The file is scanned once to count items and to keep a sparse index (one
// offset every 4096 items), so memory stays small for huge files and any item
// can be read again (retries, resume) without rereading the whole file.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "core/split.hpp"

namespace hearth {

class LineItems final : public ItemSource {
public:
    // Throws usage_error when the file cannot be read (naming it and errno).
    explicit LineItems(std::string path);
    std::uint64_t size() const override { return m_count; }
    std::string item(std::uint64_t i) override;

private:
    static constexpr std::uint64_t k_stride = 4096;
    std::string m_path;
    std::ifstream m_in;
    std::uint64_t m_count = 0;
    std::vector<std::uint64_t> m_index;  // byte offset of item k*k_stride
    std::uint64_t m_cursor_item = 0;     // item the stream is positioned at
    bool m_cursor_valid = false;
};

}  // namespace hearth
