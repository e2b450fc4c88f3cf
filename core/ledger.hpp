#pragma once
// The energy ledger: SQLite in WAL mode, one durable transaction per group
// of sampling intervals (grid-agent commits about once a second) holding the
// intervals and every charge in them. Readable with the
// sqlite3 shell; the schema is documented in hearth-ledger(5).
//
//   intervals(id, node, site, source, estimated, kind, t0_ms, t1_ms, energy_uj, meter)
//     source: the energy source that measured it (hwmon, powercap, papi, model);
//     meter: what that source read (schema 2; '' in intervals of older agents)
//     kind: 'sample' (measured and attributed) or 'gap' (energy the agent did
//     not see attributed: it was down; charged to the house)
//   charges(interval_id, tenant, job, task, attempt, static_uj, dynamic_uj)
//     tenant '' and task -1 is the house account
//   state(key PRIMARY KEY, value)   the agent's resume point, written in the
//     same transaction as the interval it follows
//   history(res_s, t_ms, power_w, temp_c, target_c, slots_allowed, slots)
//     the dashboard's time series (core/history.hpp), pruned to its retention
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "history.hpp"
#include "units.hpp"

struct sqlite3;

namespace hearth {

struct ChargeRow {
    std::string tenant;  // "" = house
    std::string job;
    std::int64_t task = -1;
    std::uint32_t attempt = 0;
    Microjoules static_part{};
    Microjoules dynamic_part{};
};

struct IntervalRecord {
    std::string node, site, source;
    std::string meter;  // what the source read: "power_meter energy1_input", "package-0, dram"
    bool estimated = false;
    std::string kind = "sample";
    std::int64_t t0_ms = 0, t1_ms = 0;
    Microjoules energy{};
    std::vector<ChargeRow> charges;  // must add up to energy
};

struct EnergyQuery {
    std::optional<std::string> tenant, job, site, node;
    std::optional<std::int64_t> since_ms, until_ms;  // intervals with t1 > since, t0 < until
    std::string by = "tenant";                       // tenant|job|site|node|day
};

struct EnergyRow {
    std::string key;  // the group ("house" for the house account when by=tenant|job)
    Microjoules energy{};
    Microjoules static_part{};
    double seconds = 0;      // span of the intervals covered (for mean watts)
    bool estimated = false;  // any contributing interval was estimated
    Microjoules estimated_part{};      // of energy, from estimated intervals
    std::vector<std::string> sources;  // of the intervals, sorted
};

class Ledger {
public:
    // Opens or creates; throws Error naming the file and the fix when it cannot.
    explicit Ledger(const std::string& path, bool read_only = false);
    ~Ledger();
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    // One transaction: the interval, its charges and the state entries. Throws
    // Error if the charges do not add up to the interval's energy.
    std::int64_t commit(const IntervalRecord& rec, const std::map<std::string, std::string>& state);
    // One transaction for several intervals (the agent's group of up to a
    // second) and the state after the last; the id of the last. Nothing of
    // the group is written if one interval is refused.
    std::int64_t commit(const std::vector<IntervalRecord>& recs,
                        const std::map<std::string, std::string>& state);
    std::optional<std::string> state(const std::string& key) const;
    std::vector<EnergyRow> query(const EnergyQuery& q) const;
    // Sum of charges of one task attempt (what the worker is told at unregister).
    Microjoules task_energy(const std::string& job, std::int64_t task, std::uint32_t attempt) const;
    Microjoules total_energy() const;   // sum of intervals
    Microjoules total_charged() const;  // sum of charges

    // One transaction: writes the points (a point at the same res_s and t_ms
    // replaces the one there) and deletes, for each tier in `keep`, the rows
    // whose bucket starts before now_ms - keep_ms. Tiers not in `keep` are kept.
    void add_history(const std::vector<HistoryPoint>& pts, std::int64_t now_ms,
                     const std::vector<HistoryRetention>& keep = default_retention());
    // The points of one resolution whose bucket starts in [since_ms, until_ms),
    // ordered by t_ms. Throws usage_error when more than max_points would come
    // back, or when res_s or the range make no sense. A ledger of an older agent
    // without the table reads as empty.
    std::vector<HistoryPoint> history(int res_s, std::int64_t since_ms, std::int64_t until_ms,
                                      std::size_t max_points = 10000) const;

private:
    sqlite3* m_db = nullptr;
    std::string m_path;
};

}  // namespace hearth
