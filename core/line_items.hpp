#pragma once
// --items FILE: every non-empty line is an item (a trailing '\r' is dropped).
// The file is scanned once to count items and to keep a sparse index (one
// offset every 4096 items), so memory stays small for huge files and any item
// can be read again (retries, resume) without rereading the whole file.
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/jobspec.hpp"
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

// The items a job's split names: frames "1-240", seeds "0-999", a count
// "1000" (items 0..999) or the lines of an items file. The one rule for
// `hearth run` and the scheduler; usage_error naming the text and the fix.
std::unique_ptr<ItemSource> make_items(SplitKind kind, const std::string& split_text,
                                       const std::string& items_path);

}  // namespace hearth
