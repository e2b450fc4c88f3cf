#include "ledger.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string_view>
#include <utility>

#include "error.hpp"

namespace hearth {

namespace {

// Written into the database header (PRAGMA application_id) so that a ledger
// is told apart from any other SQLite file: 'HRTH'.
constexpr int k_application_id = 0x48525448;
// PRAGMA user_version: bumped whenever the schema below changes in a way an
// older Hearth could not read. Adding a table (history) does not bump it: an
// older agent ignores the table, and a newer one adds it to an existing ledger
// on open (every statement of the schema is IF NOT EXISTS).
// 2: intervals.meter, what the source read (migrated on open by the agent;
// hearth energy reads version 1 ledgers as they are).
constexpr int k_schema_version = 2;

constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS intervals(
    id        INTEGER PRIMARY KEY,
    node      TEXT    NOT NULL,
    site      TEXT    NOT NULL,
    source    TEXT    NOT NULL,
    estimated INTEGER NOT NULL CHECK (estimated IN (0, 1)),
    kind      TEXT    NOT NULL CHECK (kind IN ('sample', 'gap')),
    t0_ms     INTEGER NOT NULL,
    t1_ms     INTEGER NOT NULL CHECK (t1_ms >= t0_ms),
    energy_uj INTEGER NOT NULL CHECK (energy_uj >= 0),
    meter     TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS charges(
    interval_id INTEGER NOT NULL REFERENCES intervals(id) ON DELETE CASCADE,
    tenant      TEXT    NOT NULL,
    job         TEXT    NOT NULL,
    task        INTEGER NOT NULL,
    attempt     INTEGER NOT NULL CHECK (attempt >= 0),
    static_uj   INTEGER NOT NULL CHECK (static_uj >= 0),
    dynamic_uj  INTEGER NOT NULL CHECK (dynamic_uj >= 0)
);
CREATE TABLE IF NOT EXISTS state(
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_interval ON charges(interval_id);
CREATE INDEX IF NOT EXISTS charges_tenant ON charges(tenant);
CREATE INDEX IF NOT EXISTS charges_job ON charges(job, task, attempt);
CREATE INDEX IF NOT EXISTS intervals_t0 ON intervals(t0_ms);
CREATE TABLE IF NOT EXISTS history(
    res_s         INTEGER NOT NULL CHECK (res_s > 0),
    t_ms          INTEGER NOT NULL,
    power_w       REAL    NOT NULL,
    temp_c        REAL    NULL,
    target_c      REAL    NULL,
    slots_allowed INTEGER NOT NULL,
    slots         INTEGER NOT NULL,
    PRIMARY KEY (res_s, t_ms)
) WITHOUT ROWID;
)sql";

// What to do about a failure, by SQLite's primary result code: the user gets
// the file, what SQLite said, and this.
std::string fix_for(int rc, const std::string& path, bool reader) {
    int primary = rc & 0xff;
    if (reader &&
        (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM)) {
        // A WAL database is read through its -shm index: a reader must find it
        // (grid-agent keeps it, see Ledger()) or be able to create it.
        std::string dir = std::filesystem::path(path).parent_path().string();
        if (dir.empty()) dir = ".";
        return "a reader needs the -wal and -shm files grid-agent keeps beside it, or write "
               "access to " +
               dir + ": start grid-agent once, or read as a user who may write there";
    }
    switch (primary) {
        case SQLITE_FULL:
            return "the disk holding it is full: free space there (or move the ledger to a "
                   "larger filesystem with --ledger) and restart grid-agent";
        case SQLITE_NOTADB:
            return "the file is not a SQLite database: move it aside or give --ledger another path";
        case SQLITE_CORRUPT:
            return "the database is damaged: recover it with 'sqlite3 " + path +
                   " .recover | sqlite3 NEW.db' and give --ledger NEW.db";
        case SQLITE_READONLY:
            return "the file or its filesystem is read-only: let the grid-agent user write it "
                   "and its directory (SQLite writes -wal and -shm files beside it), or give "
                   "--ledger a writable path";
        case SQLITE_CANTOPEN:
            return "check that its directory exists and that the grid-agent user may write there";
        case SQLITE_PERM:
        case SQLITE_AUTH:
            return "permission denied: let the grid-agent user read and write the file and its "
                   "directory";
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return "another process held it locked for more than 5 s: make sure one grid-agent "
                   "only writes it and that no sqlite3 shell keeps a transaction open on it";
        case SQLITE_IOERR:
            return "the disk reported an I/O error: check the device (dmesg) and its free space";
        case SQLITE_NOMEM:
            return "out of memory: free memory on the node and restart grid-agent";
        case SQLITE_CONSTRAINT:
            return "a record broke the ledger schema, which is a Hearth bug: please report it";
        default:
            return "this is unexpected: please report it with this message";
    }
}

Error sqlite_error(sqlite3* db, int rc, const std::string& path, const std::string& doing) {
    const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    bool reader = db != nullptr && sqlite3_db_readonly(db, "main") == 1;
    return Error("ledger " + path + ": " + doing + " failed (" + msg + "); " +
                 fix_for(rc, path, reader));
}

// Runs SQL that returns no rows we need (pragmas, DDL, BEGIN/COMMIT).
void exec(sqlite3* db, const std::string& path, const char* sql, const std::string& doing) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    sqlite3_free(err);  // sqlite3_errmsg() still holds the same text
    if (rc != SQLITE_OK) throw sqlite_error(db, rc, path, doing);
}

// A statement that is either owned (finalized at scope end) or borrowed from
// the connection's cache (reset at scope end, so it can be reused).
class Stmt {
public:
    Stmt(sqlite3* db, const std::string& path, const char* sql, bool cached)
        : m_db(db), m_path(&path), m_cached(cached) {
        if (cached) m_stmt = find_cached(db, sql);
        if (m_stmt == nullptr) {
            unsigned flags = cached ? SQLITE_PREPARE_PERSISTENT : 0;
            int rc = sqlite3_prepare_v3(db, sql, -1, flags, &m_stmt, nullptr);
            if (rc != SQLITE_OK) throw sqlite_error(db, rc, path, "preparing a statement");
        }
    }
    ~Stmt() {
        if (m_cached) {
            sqlite3_reset(m_stmt);
            sqlite3_clear_bindings(m_stmt);
        } else {
            sqlite3_finalize(m_stmt);
        }
    }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    void bind(int i, std::int64_t v) { check(sqlite3_bind_int64(m_stmt, i, v)); }
    void bind(int i, const std::string& v) {
        check(sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    void bind(int i, double v) { check(sqlite3_bind_double(m_stmt, i, v)); }
    void bind(int i, const std::optional<double>& v) {
        check(v ? sqlite3_bind_double(m_stmt, i, *v) : sqlite3_bind_null(m_stmt, i));
    }
    void bind(const char* name, std::int64_t v) { bind(index(name), v); }
    void bind(const char* name, const std::string& v) { bind(index(name), v); }

    // True while there is a row; throws on error.
    bool step(const char* doing) {
        int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw sqlite_error(m_db, rc, *m_path, doing);
    }
    void run(const char* doing) {
        step(doing);
        sqlite3_reset(m_stmt);  // a reused statement must not hold its read lock
    }
    std::int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
    double real(int col) const { return sqlite3_column_double(m_stmt, col); }
    std::optional<double> opt_real(int col) const {
        return is_null(col) ? std::nullopt : std::optional<double>(real(col));
    }
    std::string text(int col) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
        return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(m_stmt, col));
    }

private:
    // SQLite keeps every prepared statement of a connection in a list; looking
    // ours up there by its text gives per-connection reuse without a member in
    // the header or a global map.
    static sqlite3_stmt* find_cached(sqlite3* db, const char* sql) {
        for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr;
             s = sqlite3_next_stmt(db, s)) {
            if (!sqlite3_stmt_busy(s) && std::strcmp(sqlite3_sql(s), sql) == 0) return s;
        }
        return nullptr;
    }
    int index(const char* name) const {
        int i = sqlite3_bind_parameter_index(m_stmt, name);
        if (i == 0)
            throw Error(std::string("ledger: no SQL parameter ") + name + " (a Hearth bug)");
        return i;
    }
    void check(int rc) {
        if (rc != SQLITE_OK) throw sqlite_error(m_db, rc, *m_path, "binding a parameter");
    }

    sqlite3* m_db;
    const std::string* m_path;
    bool m_cached;
    sqlite3_stmt* m_stmt = nullptr;
};

std::int64_t pragma_int(sqlite3* db, const std::string& path, const char* sql) {
    Stmt s(db, path, sql, false);
    if (!s.step("reading the database header")) return 0;
    return s.int64(0);
}

std::int64_t as_int64(Microjoules e, const char* what) {
    if (e.value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        throw Error(std::string("ledger: ") + what + " of " + std::to_string(e.value) +
                    " uJ is beyond what SQLite can store; the energy counter reading is wrong");
    }
    return static_cast<std::int64_t>(e.value);
}

// Sums of non-negative columns: CHECK keeps each term >= 0, so a negative
// result cannot happen; read it as unsigned.
Microjoules read_uj(const Stmt& s, int col) {
    return s.is_null(col) ? Microjoules{} : Microjoules{static_cast<std::uint64_t>(s.int64(col))};
}

std::string describe(const IntervalRecord& rec) {
    return "interval " + rec.node + " [" + std::to_string(rec.t0_ms) + ", " +
           std::to_string(rec.t1_ms) + ") ms";
}

// Everything that would make the record wrong in the ledger is refused before
// the transaction starts, so a refused record writes nothing.
void validate(const IntervalRecord& rec) {
    if (rec.kind != "sample" && rec.kind != "gap") {
        throw Error("ledger: " + describe(rec) + " has kind '" + rec.kind +
                    "' (valid: sample, gap); not written (a Hearth bug: please report it)");
    }
    if (rec.t1_ms < rec.t0_ms) {
        throw Error("ledger: " + describe(rec) +
                    " ends before it starts; not written (is the clock going backwards?)");
    }
    as_int64(rec.energy, "interval energy");
    std::uint64_t sum = 0;
    for (const auto& c : rec.charges) {
        if (__builtin_add_overflow(sum, c.static_part.value, &sum) ||
            __builtin_add_overflow(sum, c.dynamic_part.value, &sum)) {
            throw Error("ledger: the charges of " + describe(rec) +
                        " overflow 64 bits; not written (a Hearth bug: please report it)");
        }
    }
    if (sum != rec.energy.value) {
        throw Error("ledger: the charges of " + describe(rec) + " add up to " +
                    std::to_string(sum) + " uJ but the interval measured " +
                    std::to_string(rec.energy.value) +
                    " uJ; not written (an attribution bug: please report it)");
    }
}

struct Grouping {
    std::string_view name;
    const char* key;     // SQL expression of the group key (fixed text, never a value)
    bool needs_charges;  // the key comes from charges: intervals without any are left out
};

// The house account is tenant '' (with task -1); it is reported as "house".
constexpr std::array<Grouping, 5> k_groupings{{
    {"tenant", "CASE WHEN c.tenant = '' THEN 'house' ELSE c.tenant END", true},
    {"job", "CASE WHEN c.tenant = '' THEN 'house' ELSE c.job END", true},
    {"site", "i.site", false},
    {"node", "i.node", false},
    // UTC calendar day of the interval's start; / 1000.0 keeps times before
    // 1970 on the right day, where integer division would round towards zero.
    {"day", "date(i.t0_ms / 1000.0, 'unixepoch')", false},
}};

}  // namespace

Ledger::Ledger(const std::string& path, bool read_only) : m_path(path) {
    // A reader (hearth energy) must not create an empty ledger where the agent
    // writes none: the likely cause is a path that differs from the agent's.
    auto no_ledger = [&] {
        return usage_error("no ledger at " + path + "; is grid-agent running with --ledger " +
                           path + "?");
    };
    std::error_code ec;
    if (read_only && !std::filesystem::exists(path, ec)) throw no_ledger();
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr);
    if (rc != SQLITE_OK) {
        Error err = read_only && !std::filesystem::exists(path, ec)
                        ? no_ledger()
                        : sqlite_error(m_db, rc, path, "opening");
        sqlite3_close(m_db);  // a handle is returned even on failure
        m_db = nullptr;
        throw err;
    }
    try {
        sqlite3_extended_result_codes(m_db, 1);
        // Before anything that may lock: a concurrent writer is waited for.
        exec(m_db, path, "PRAGMA busy_timeout = 5000", "setting busy_timeout");
        // SQLite falls back to read-only when it cannot write the file; say so
        // now rather than at the first commit.
        if (!read_only && sqlite3_db_readonly(m_db, "main") == 1) {
            throw sqlite_error(nullptr, SQLITE_READONLY, path, "opening for writing");
        }
        // The first read of the header: a file that is not a database fails here.
        std::int64_t app = pragma_int(m_db, path, "PRAGMA application_id");
        std::int64_t version = pragma_int(m_db, path, "PRAGMA user_version");
        bool empty = pragma_int(m_db, path, "SELECT count(*) FROM sqlite_schema") == 0;
        if (app != k_application_id && !(app == 0 && empty)) {
            throw Error("ledger " + path + ": the file is a SQLite database of another program, " +
                        "not a Hearth ledger; give --ledger another path");
        }
        if (version > k_schema_version) {
            throw Error("ledger " + path + ": written by a newer Hearth (schema " +
                        std::to_string(version) + ", this one knows " +
                        std::to_string(k_schema_version) + "); upgrade Hearth to read it");
        }
        if (read_only) {
            if (empty || version < 1) {
                throw usage_error("ledger " + path +
                                  " is empty (grid-agent has not created it yet); " +
                                  "is grid-agent running with --ledger " + path + "?");
            }
            return;
        }
        // Keep the -wal and -shm files when the last connection closes, so that
        // users who may not write the directory can still read the ledger
        // (hearth energy) while grid-agent is stopped.
        int persist = 1;
        sqlite3_file_control(m_db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        {
            Stmt wal(m_db, path, "PRAGMA journal_mode = WAL", false);
            if (!wal.step("switching to WAL") || wal.text(0) != "wal") {
                throw Error("ledger " + path + ": SQLite could not use WAL mode there (no shared " +
                            "memory on that filesystem, e.g. NFS); put the ledger on a local disk");
            }
        }
        // FULL: every commit syncs the WAL, so a committed interval survives a
        // power cut too, not only a crash of the agent.
        exec(m_db, path, "PRAGMA synchronous = FULL", "setting synchronous");
        exec(m_db, path, "PRAGMA foreign_keys = ON", "enabling foreign keys");
        // Also on a ledger that has a schema: it gets the tables added since
        // (history) without touching what is there.
        {
            exec(m_db, path, "BEGIN IMMEDIATE", "starting the schema transaction");
            try {
                // Before the schema: its CREATE TABLE IF NOT EXISTS leaves a
                // version 1 table without the column.
                if (version == 1)
                    exec(m_db, path,
                         "ALTER TABLE intervals ADD COLUMN meter TEXT NOT NULL DEFAULT ''",
                         "adding intervals.meter (schema 1 to 2)");
                exec(m_db, path, k_schema, "creating the schema");
                if (version < k_schema_version) {
                    const std::string ids =
                        "PRAGMA application_id = " + std::to_string(k_application_id) +
                        "; PRAGMA user_version = " + std::to_string(k_schema_version);
                    exec(m_db, path, ids.c_str(), "writing the schema version");
                }
                exec(m_db, path, "COMMIT", "committing the schema");
            } catch (...) {
                if (sqlite3_get_autocommit(m_db) == 0) {
                    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
                }
                throw;
            }
        }
    } catch (...) {
        sqlite3_close(m_db);
        m_db = nullptr;
        throw;
    }
}

Ledger::~Ledger() {
    if (m_db == nullptr) return;
    // The cached statements (see Stmt) must go before the connection can.
    while (sqlite3_stmt* s = sqlite3_next_stmt(m_db, nullptr)) sqlite3_finalize(s);
    sqlite3_close(m_db);
}

std::int64_t Ledger::commit(const IntervalRecord& rec,
                            const std::map<std::string, std::string>& state) {
    return commit(std::vector<IntervalRecord>{rec}, state);
}

std::int64_t Ledger::commit(const std::vector<IntervalRecord>& recs,
                            const std::map<std::string, std::string>& state) {
    if (sqlite3_db_readonly(m_db, "main") == 1) {
        throw Error("ledger " + m_path + " was opened read-only and cannot take an interval " +
                    "(a Hearth bug: please report it)");
    }
    // All refused up front: nothing of a group is written if one is wrong.
    for (const auto& rec : recs) validate(rec);
    // Prepared once like the inserts: the agent commits ten times a second.
    Stmt(m_db, m_path, "BEGIN IMMEDIATE", true).run("starting a transaction");
    try {
        std::int64_t id = 0;
        for (const auto& rec : recs) {
            Stmt ins(m_db, m_path,
                     "INSERT INTO intervals(node, site, source, estimated, kind, t0_ms, t1_ms, "
                     "energy_uj, meter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                     true);
            ins.bind(1, rec.node);
            ins.bind(2, rec.site);
            ins.bind(3, rec.source);
            ins.bind(4, std::int64_t{rec.estimated ? 1 : 0});
            ins.bind(5, rec.kind);
            ins.bind(6, rec.t0_ms);
            ins.bind(7, rec.t1_ms);
            ins.bind(8, as_int64(rec.energy, "interval energy"));
            ins.bind(9, rec.meter);
            ins.run("writing an interval");
            id = sqlite3_last_insert_rowid(m_db);
            Stmt charge(m_db, m_path,
                        "INSERT INTO charges(interval_id, tenant, job, task, attempt, static_uj, "
                        "dynamic_uj) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        true);
            for (const auto& c : rec.charges) {
                charge.bind(1, id);
                charge.bind(2, c.tenant);
                charge.bind(3, c.job);
                charge.bind(4, c.task);
                charge.bind(5, std::int64_t{c.attempt});
                charge.bind(6, as_int64(c.static_part, "static charge"));
                charge.bind(7, as_int64(c.dynamic_part, "dynamic charge"));
                charge.run("writing a charge");
            }
        }
        {
            Stmt put(m_db, m_path, "INSERT OR REPLACE INTO state(key, value) VALUES (?1, ?2)",
                     true);
            for (const auto& [key, value] : state) {
                put.bind(1, key);
                put.bind(2, value);
                put.run("writing the agent state");
            }
        }
        Stmt(m_db, m_path, "COMMIT", true).run("committing an interval");
        return id;
    } catch (...) {
        // Some errors (disk full, I/O) have already rolled back; the error
        // text was captured in the exception before this can overwrite it.
        if (sqlite3_get_autocommit(m_db) == 0) {
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        throw;
    }
}

std::optional<std::string> Ledger::state(const std::string& key) const {
    Stmt s(m_db, m_path, "SELECT value FROM state WHERE key = ?1", true);
    s.bind(1, key);
    if (!s.step("reading the agent state")) return std::nullopt;
    return s.text(0);
}

Microjoules Ledger::task_energy(const std::string& job, std::int64_t task,
                                std::uint32_t attempt) const {
    Stmt s(m_db, m_path,
           "SELECT sum(static_uj + dynamic_uj) FROM charges "
           "WHERE job = ?1 AND task = ?2 AND attempt = ?3",
           true);
    s.bind(1, job);
    s.bind(2, task);
    s.bind(3, std::int64_t{attempt});
    s.step("summing a task's energy");
    return read_uj(s, 0);
}

Microjoules Ledger::total_energy() const {
    Stmt s(m_db, m_path, "SELECT sum(energy_uj) FROM intervals", true);
    s.step("summing the intervals");
    return read_uj(s, 0);
}

Microjoules Ledger::total_charged() const {
    Stmt s(m_db, m_path, "SELECT sum(static_uj + dynamic_uj) FROM charges", true);
    s.step("summing the charges");
    return read_uj(s, 0);
}

std::vector<EnergyRow> Ledger::query(const EnergyQuery& q) const {
    const Grouping* g = nullptr;
    for (const auto& candidate : k_groupings) {
        if (candidate.name == q.by) g = &candidate;
    }
    if (g == nullptr) {
        throw usage_error("cannot group energy by '" + q.by +
                          "'; valid: tenant, job, site, node, day");
    }
    // Only fixed fragments are concatenated; every value is a bound parameter.
    // Leaving out the absent filters (rather than '?1 IS NULL OR ...') lets
    // SQLite use the indexes.
    bool charges_only = g->needs_charges || q.tenant || q.job;
    std::string where = " WHERE 1";
    if (q.tenant) where += " AND c.tenant = :tenant";
    if (q.job) where += " AND c.job = :job";
    if (q.site) where += " AND i.site = :site";
    if (q.node) where += " AND i.node = :node";
    if (q.since_ms) where += " AND i.t1_ms > :since";
    if (q.until_ms) where += " AND i.t0_ms < :until";
    // Inner grouping by (key, interval) yields each interval once per group,
    // so its span is counted once however many charges it has.
    const std::string sql =
        std::string(
            "SELECT k, sum(e), sum(s), max(est), sum(span), sum(CASE WHEN est THEN e "
            "ELSE 0 END), group_concat(DISTINCT src) FROM (SELECT ") +
        g->key +
        " AS k, i.id, sum(c.static_uj + c.dynamic_uj) AS e, sum(c.static_uj) AS s, "
        "max(i.estimated) AS est, max(i.t1_ms - i.t0_ms) AS span, max(i.source) AS src "
        "FROM intervals i " +
        (charges_only ? "JOIN" : "LEFT JOIN") + " charges c ON c.interval_id = i.id" + where +
        " GROUP BY k, i.id) GROUP BY k ORDER BY k";
    Stmt s(m_db, m_path, sql.c_str(), false);
    if (q.tenant) s.bind(":tenant", *q.tenant);
    if (q.job) s.bind(":job", *q.job);
    if (q.site) s.bind(":site", *q.site);
    if (q.node) s.bind(":node", *q.node);
    if (q.since_ms) s.bind(":since", *q.since_ms);
    if (q.until_ms) s.bind(":until", *q.until_ms);
    std::vector<EnergyRow> rows;
    while (s.step("querying energy")) {
        EnergyRow r;
        r.key = s.text(0);
        r.energy = read_uj(s, 1);
        r.static_part = read_uj(s, 2);
        r.estimated = s.int64(3) != 0;
        r.seconds = static_cast<double>(s.int64(4)) / 1000.0;
        r.estimated_part = read_uj(s, 5);
        std::string src = s.text(6);
        for (std::size_t at = 0; at <= src.size();) {
            std::size_t comma = std::min(src.find(',', at), src.size());
            if (comma > at) r.sources.push_back(src.substr(at, comma - at));
            at = comma + 1;
        }
        std::sort(r.sources.begin(), r.sources.end());
        rows.push_back(std::move(r));
    }
    return rows;
}

void Ledger::add_history(const std::vector<HistoryPoint>& pts, std::int64_t now_ms,
                         const std::vector<HistoryRetention>& keep) {
    if (sqlite3_db_readonly(m_db, "main") == 1) {
        throw Error("ledger " + m_path + " was opened read-only and cannot take history " +
                    "(a Hearth bug: please report it)");
    }
    // Refused before the transaction, so a bad point writes nothing.
    for (const auto& p : pts) {
        if (p.res_s <= 0 || !std::isfinite(p.power_w)) {
            throw Error("ledger: history point at " + std::to_string(p.t_ms) + " ms (res_s " +
                        std::to_string(p.res_s) + ", power " + std::to_string(p.power_w) +
                        " W) is invalid; not written (a Hearth bug: please report it)");
        }
    }
    // A NaN would be stored as NULL anyway; an infinity would be stored as is.
    auto finite = [](const std::optional<double>& v) {
        return v && std::isfinite(*v) ? v : std::nullopt;
    };
    Stmt(m_db, m_path, "BEGIN IMMEDIATE", true).run("starting a transaction");
    try {
        {
            Stmt ins(m_db, m_path,
                     "INSERT OR REPLACE INTO history(res_s, t_ms, power_w, temp_c, target_c, "
                     "slots_allowed, slots) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     true);
            for (const auto& p : pts) {
                ins.bind(1, std::int64_t{p.res_s});
                ins.bind(2, p.t_ms);
                ins.bind(3, p.power_w);
                ins.bind(4, finite(p.temp_c));
                ins.bind(5, finite(p.target_c));
                ins.bind(6, std::int64_t{p.slots_allowed});
                ins.bind(7, std::int64_t{p.slots});
                ins.run("writing history");
            }
        }
        {
            Stmt del(m_db, m_path, "DELETE FROM history WHERE res_s = ?1 AND t_ms < ?2", true);
            for (const auto& k : keep) {
                del.bind(1, std::int64_t{k.res_s});
                del.bind(2, now_ms - k.keep_ms);
                del.run("pruning history");
            }
        }
        Stmt(m_db, m_path, "COMMIT", true).run("committing history");
    } catch (...) {
        if (sqlite3_get_autocommit(m_db) == 0) {
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        throw;
    }
}

std::vector<HistoryPoint> Ledger::history(int res_s, std::int64_t since_ms, std::int64_t until_ms,
                                          std::size_t max_points) const {
    if (res_s <= 0) {
        throw usage_error("history: res_s=" + std::to_string(res_s) +
                          " is not a positive number of seconds; use res_s=10 or res_s=60");
    }
    if (since_ms > until_ms) {
        throw usage_error("history: since_ms=" + std::to_string(since_ms) +
                          " is after until_ms=" + std::to_string(until_ms) +
                          "; give since_ms <= until_ms");
    }
    // A reader may open the ledger of an agent older than the table; the
    // writer always has it (created on open).
    if (sqlite3_db_readonly(m_db, "main") == 1) {
        Stmt t(m_db, m_path,
               "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'history'", true);
        if (!t.step("looking for the history table")) return {};
    }
    // One row more than allowed tells "too many" without counting them all.
    const std::int64_t limit = max_points < static_cast<std::size_t>(
                                                std::numeric_limits<std::int64_t>::max())
                                   ? static_cast<std::int64_t>(max_points) + 1
                                   : std::numeric_limits<std::int64_t>::max();
    Stmt s(m_db, m_path,
           "SELECT t_ms, power_w, temp_c, target_c, slots_allowed, slots FROM history "
           "WHERE res_s = ?1 AND t_ms >= ?2 AND t_ms < ?3 ORDER BY t_ms LIMIT ?4",
           true);
    s.bind(1, std::int64_t{res_s});
    s.bind(2, since_ms);
    s.bind(3, until_ms);
    s.bind(4, limit);
    std::vector<HistoryPoint> pts;
    while (s.step("reading history")) {
        if (pts.size() == max_points) {
            throw usage_error("history: more than " + std::to_string(max_points) +
                              " points at res_s=" + std::to_string(res_s) + " between since_ms=" +
                              std::to_string(since_ms) + " and until_ms=" +
                              std::to_string(until_ms) + "; narrow since_ms/until_ms" +
                              (res_s < 60 ? " or use res_s=60" : ""));
        }
        HistoryPoint p;
        p.t_ms = s.int64(0);
        p.res_s = res_s;
        p.power_w = s.real(1);
        p.temp_c = s.opt_real(2);
        p.target_c = s.opt_real(3);
        p.slots_allowed = static_cast<int>(s.int64(4));
        p.slots = static_cast<int>(s.int64(5));
        pts.push_back(p);
    }
    return pts;
}

}  // namespace hearth
