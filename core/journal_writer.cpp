#include "journal_writer.hpp"

#include <nlohmann/json.hpp>

#include "journal.hpp"

namespace hearth {
namespace {

using nlohmann::json;

json outcome(const char* e, const JournalOutcome& o) {
    json rec = {{"e", e},
                {"t", o.task},
                {"a", o.attempt},
                {"n", o.node},
                {"ms", o.wall_ms},
                {"log", {o.log.first, o.log.second}},
                {"ts", unix_ms_now()}};
    if (o.energy) {
        rec["uj"] = o.energy->uj;
        if (o.energy->estimated) rec["est"] = true;
    }
    return rec;
}

}  // namespace

void JournalWriter::launch(std::uint64_t n, int ranks, std::uint64_t total) {
    const json rec = {
        {"e", "launch"}, {"n", n}, {"ranks", ranks}, {"total", total}, {"ts", unix_ms_now()}};
    m_file.append(rec.dump() + "\n");
}

void JournalWriter::node_up(const std::string& node, const std::string& host, std::uint32_t slots,
                            std::uint32_t cores) {
    const json rec = {{"e", "node"},    {"n", node},      {"host", host},       {"state", "up"},
                      {"slots", slots}, {"cores", cores}, {"ts", unix_ms_now()}};
    m_file.append(rec.dump() + "\n");
}

void JournalWriter::node_blocked(const std::string& node, const std::string& reason) {
    const json rec = {{"e", "node"},
                      {"n", node},
                      {"state", "blocked"},
                      {"reason", reason},
                      {"ts", unix_ms_now()}};
    m_file.append(rec.dump() + "\n");
}

std::int64_t JournalWriter::node_down(
    const std::string& host, const std::string& reason,
    const std::vector<std::pair<std::uint64_t, std::uint32_t>>& lost) {
    json pairs = json::array();
    for (const auto& [task, attempt] : lost) pairs.push_back({task, attempt});
    const std::int64_t ts = unix_ms_now();
    const json rec = {{"e", "node"},      {"n", host},     {"state", "down"},
                      {"reason", reason}, {"lost", pairs}, {"ts", ts}};
    m_file.append(rec.dump() + "\n");
    return ts;
}

void JournalWriter::start(std::uint64_t task, std::uint32_t attempt, const std::string& node) {
    const json rec = {
        {"e", "start"}, {"t", task}, {"a", attempt}, {"n", node}, {"ts", unix_ms_now()}};
    m_file.append(rec.dump() + "\n");
}

void JournalWriter::done(const JournalOutcome& o) {
    json rec = outcome("done", o);
    rec["exit"] = 0;
    rec["out"] = o.outputs;
    if (o.overridden) rec["ovr"] = true;
    m_file.append(rec.dump() + "\n");
}

void JournalWriter::fail(const JournalOutcome& o) {
    json rec = outcome("fail", o);
    rec["why"] = o.why;
    rec["exit"] = o.exit_code;
    rec["reason"] = o.reason;
    rec["final"] = o.final;
    m_file.append(rec.dump() + "\n");
}

void JournalWriter::end(const JournalEnd& e) {
    const json rec = {{"e", "end"},         {"state", e.state}, {"committed", e.committed},
                      {"failed", e.failed}, {"total", e.total}, {"rss_kb", e.rss_kb},
                      {"ts", unix_ms_now()}};
    m_file.append(rec.dump() + "\n");
}

void JournalWriter::end_error(const std::string& error) {
    const json rec = {{"e", "end"}, {"state", "error"}, {"error", error}, {"ts", unix_ms_now()}};
    m_file.append(rec.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace hearth
