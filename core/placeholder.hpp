#pragma once
// The command template of a job: argv words holding placeholders such as
// {item}, {first:04}, {items}. Parsed once at submit time (so an unknown name
// is a usage error before anything starts) and expanded per task attempt.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

struct TaskValues {
    std::vector<std::string> items;  // the task's items, in order (>= 1)
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
    std::string tenant;
    std::string job;
    std::uint32_t cores = 1;  // cores each task holds (--cores-per-task)
};

class CommandTemplate {
public:
    // Placeholders: {item} {first} {last} {items} {task} {attempt} {tenant} {job} {cores};
    // optional width after a colon: {first:04} zero-pads to 4, {first:4} pads
    // with spaces; "{{" and "}}" are literal braces. Throws usage_error for an
    // unknown name (listing the valid ones), an unclosed brace, a bad width, or
    // {item} when chunk > 1 (use {first}/{last}/{items}).
    static CommandTemplate parse(const std::vector<std::string>& argv, std::uint64_t chunk);

    std::vector<std::string> expand(const TaskValues& values) const;
    const std::vector<std::string>& words() const { return m_words; }
    // True when the word at index i contains a placeholder.
    bool has_placeholder(std::size_t i) const;
    static const std::vector<std::string>& valid_names();

private:
    struct Piece {
        std::string literal;  // used when name is empty
        std::string name;
        unsigned width = 0;
        bool zero_pad = false;
    };
    std::vector<std::string> m_words;
    std::vector<std::vector<Piece>> m_parsed;
};

}  // namespace hearth
