#pragma once
// The job journal: JOBDIR/journal, one JSON object a line, appended by the
// dispatcher (the supervisor between launches) and fsync'd in batches. It is the job's truth: a
// task is done when its "done" line is durable. Readers ignore a torn last line (a crash mid-write)
// and reject corruption anywhere else with a message saying how to recover.
//
// Records ("e" field), all written by core/journal_writer (JournalWriter);
// every record carries ts (unix ms when written):
//   launch {n, ranks, total}           a dispatcher started (n-th launch, total tasks)
//   node   {n, state: up, host, slots, cores}    a worker rank said hello
//   node   {n, state: blocked, reason}           3 tasks failed on it: no more there
//   node   {n: host, state: down, reason, lost:[[t,a]...]}
//                                      the supervisor found the host dead
//                                      between launches; lost: attempts running there
//   start  {t, a, n}                   attempt a of task t started on node n
//   done   {t, a, n, ms, exit: 0, out:[names], log:[off,len], [uj, est], [ovr]}
//   fail   {t, a, n, ms, why, exit, reason, final, log:[off,len], [uj, est]}
//          uj: microjoules the node's grid-agent charged to the attempt;
//          est: true when that figure came from a model, not a meter;
//          ovr: true when it ran past its site's heat budget (a deadline)
//   end    {state: finished|cancelled|stalled, committed, failed, total, rss_kb}
//   end    {state: error, error}       the dispatcher failed (a fault of the job)
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "interval_set.hpp"

namespace hearth {

struct JournalState {
    IntervalSet committed;
    std::map<std::uint64_t, std::uint32_t> attempts;  // uncommitted tasks: attempts used
    std::set<std::uint64_t> failed;                   // failed for good, not committed since
    std::map<std::string, std::uint64_t> outputs;     // collected name -> owning task
    std::set<std::uint64_t> running;                  // started, no outcome yet
    std::uint64_t launches = 0;
    // Energy the nodes' agents charged to the job's attempts (done or failed).
    std::uint64_t energy_uj = 0;
    std::uint64_t energy_attempts = 0;  // attempts that carried a figure
    // Attempts run past a site's heat budget to meet a deadline, and their energy.
    std::uint64_t override_attempts = 0;
    std::uint64_t override_uj = 0;
    bool energy_estimated = false;
    std::optional<nlohmann::json> end;                // the last end record, if any
    std::uint64_t valid_bytes = 0;                    // up to the last complete line
    std::uint64_t valid_lines = 0;
};

// Applies one record to the state (used by the reader and by live tailing).
void apply_record(JournalState& state, const nlohmann::json& record);

// Reads the whole journal; calls visit (if given) for each record.
// A missing file is an empty journal. Throws Error on corruption.
JournalState read_journal(const std::string& path,
                          const std::function<void(const nlohmann::json&)>& visit = {});

// Incremental reader for a journal another process is appending to.
class JournalTail {
public:
    JournalTail(std::string path, std::uint64_t offset, std::uint64_t line = 0)
        : m_path(std::move(path)), m_offset(offset), m_line(line) {}
    // Calls visit for every complete line appended since the last poll.
    void poll(const std::function<void(const nlohmann::json&)>& visit);

private:
    std::string m_path;
    std::uint64_t m_offset = 0;
    std::uint64_t m_line = 0;
    std::string m_partial;
};

std::int64_t unix_ms_now();

}  // namespace hearth
