#pragma once
// A task attempt's scratch directory on its node: created fresh, filled with
// the staged inputs, searched for the outputs to collect, then removed.
#include <cstdint>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"  // write_file_atomic, used with the scratch area's outputs
#include "core/protocol.hpp"
#include "core/task_identity.hpp"

namespace hearth {

class ScratchArea {
public:
    // base: a node-local directory owned by this worker (created).
    explicit ScratchArea(std::string base);
    ~ScratchArea();  // removes base and everything under it
    ScratchArea(const ScratchArea&) = delete;
    ScratchArea& operator=(const ScratchArea&) = delete;

    void set_staged(const std::vector<FileBlob>& staged);  // written once under base/stage
    // The user the job's tasks run as: each attempt's directory is made
    // theirs, mode 0700 (base itself stays the worker's, 0711, with the
    // logs and the staged inputs, which the tasks cannot write).
    void set_owner(const TaskIdentity& id) { m_owner = id; }
    // An empty directory holding only the staged inputs, for one attempt.
    std::string acquire();
    // Done with it: an attempt that left it empty hands it to the next one
    // (sparing a mkdir and an rmdir per task); anything else is removed.
    void release(const std::string& dir);
    // Output of a task running in a slot: two files a slot, used in turn, so
    // the next task of the slot (started before the last one's output is
    // read, to keep the core busy) never truncates an unread log.
    std::string log_path(unsigned slot, unsigned turn) const {
        return m_base + "/slot" + std::to_string(slot) + (turn % 2 ? "b" : "a") + ".log";
    }
    // Regular files under dir matching the globs (relative, sorted, unique).
    // Throws Error when a glob matches nothing.
    std::vector<FileBlob> collect(const std::string& dir, const std::vector<std::string>& globs);
    const std::string& base() const { return m_base; }

private:
    std::string m_base;
    std::vector<std::string> m_staged;  // relative paths under base/stage
    std::vector<std::string> m_empty;   // empty directories ready for reuse
    std::uint64_t m_next = 0;
    TaskIdentity m_owner;  // not separate: the worker's own
};

// Reads a file, keeping head and tail when it is larger than cap bytes.
std::string read_capped(const std::string& path, std::size_t cap);

}  // namespace hearth
