#pragma once
// The one writer of job journals (the records and fields of core/journal.hpp's
// schema): the dispatcher, the supervisor (a host found down between
// launches) and a dispatcher's last words (an error end) all append through
// it, so a record's fields are spelled in one place. Appends are buffered by
// the file; sync() makes them durable (a task is done when its line is).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "append_file.hpp"

namespace hearth {

// What the node's agent charged an attempt: uj, and est when modelled.
struct JournalEnergy {
    std::uint64_t uj = 0;
    bool estimated = false;
};

// An attempt's outcome (done or fail).
struct JournalOutcome {
    std::uint64_t task = 0;
    std::uint32_t attempt = 0;
    std::string node;
    std::uint64_t wall_ms = 0;
    std::pair<std::uint64_t, std::uint64_t> log{0, 0};  // offset and length in the logs file
    std::optional<JournalEnergy> energy;                // none: no agent figure
    // done only
    std::vector<std::string> outputs;
    bool overridden = false;  // ran past the site's heat budget to meet a deadline
    // fail only
    std::string why;  // the AttemptStatus's name
    int exit_code = 0;
    std::string reason;
    bool final = false;  // failed for good: no attempt left
};

// The end record's counts.
struct JournalEnd {
    std::string state;  // finished | cancelled | stalled
    std::uint64_t committed = 0, failed = 0, total = 0;
    long rss_kb = 0;
};

class JournalWriter {
public:
    explicit JournalWriter(std::string path) : m_file(std::move(path)) {}

    void launch(std::uint64_t n, int ranks, std::uint64_t total);
    void node_up(const std::string& node, const std::string& host, std::uint32_t slots,
                 std::uint32_t cores);
    void node_blocked(const std::string& node, const std::string& reason);
    // Written by the supervisor: the attempts that were running there. Returns
    // the record's ts (unix ms), which the supervisor's report repeats.
    std::int64_t node_down(const std::string& host, const std::string& reason,
                           const std::vector<std::pair<std::uint64_t, std::uint32_t>>& lost);
    void start(std::uint64_t task, std::uint32_t attempt, const std::string& node);
    void done(const JournalOutcome& o);
    void fail(const JournalOutcome& o);
    void end(const JournalEnd& e);
    // A dispatcher that failed: the supervisor reports instead of relaunching.
    void end_error(const std::string& error);

    // Whether appends wait for sync().
    bool pending() const { return m_file.pending(); }
    void sync() { m_file.sync(); }

private:
    AppendFile m_file;
};

}  // namespace hearth
