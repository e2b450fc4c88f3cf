#pragma once
// A task attempt's scratch directory on its node: created fresh, filled with
// the staged inputs, searched for the outputs to collect, then removed.
#include <string>
#include <vector>

#include "core/protocol.hpp"

namespace hearth {

class ScratchArea {
public:
    // base: a node-local directory owned by this worker (created).
    explicit ScratchArea(std::string base);
    ~ScratchArea();  // removes base and everything under it
    ScratchArea(const ScratchArea&) = delete;
    ScratchArea& operator=(const ScratchArea&) = delete;

    void set_staged(const std::vector<FileBlob>& staged);  // written once under base/stage
    // Creates base/<name> with the staged files in it; returns its path.
    std::string create(const std::string& name);
    std::string log_path(const std::string& name) const { return m_base + "/" + name + ".log"; }
    // Regular files under dir matching the globs (relative, sorted, unique).
    // Throws Error when a glob matches nothing.
    std::vector<FileBlob> collect(const std::string& dir, const std::vector<std::string>& globs);
    void remove(const std::string& dir);
    const std::string& base() const { return m_base; }

private:
    std::string m_base;
    std::vector<std::string> m_staged;  // relative paths under base/stage
};

// Reads a file, keeping head and tail when it is larger than cap bytes.
std::string read_capped(const std::string& path, std::size_t cap);
// Writes data to path atomically (temp name in the same directory, fsync, rename).
void write_file_atomic(const std::string& path, const std::string& data, unsigned mode);

}  // namespace hearth
