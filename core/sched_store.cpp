#include "core/sched_store.hpp"

#include <sqlite3.h>

#include <limits>
#include <unordered_map>

#include "core/error.hpp"

namespace hearth {

namespace {

// PRAGMA application_id 'HRTQ': a queue is told apart from a ledger ('HRTH')
// and from any other program's database.
constexpr int k_application_id = 0x48525451;
// PRAGMA user_version: bumped when the schema changes in a way an older
// Hearth could not read; hearth-queue(5) documents each version.
constexpr int k_schema_version = 1;

// A CHECK of the form `state IN ('a', 'b', 'c')` builds an ephemeral table
// on every row written (SQLite's IN list of three or more); the same rule as
// a chain of ORs costs a few comparisons. On the dispatch path that halved
// the time of each INSERT and UPDATE of an attempt.
constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
    id               TEXT    PRIMARY KEY NOT NULL,
    seq              INTEGER NOT NULL UNIQUE,
    tenant           TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    spec             TEXT    NOT NULL,
    state            TEXT    NOT NULL
                     CHECK (state = 'queued' OR state = 'running' OR state = 'finished' OR state = 'failed' OR state = 'cancelled'),
    priority         INTEGER NOT NULL,
    task_count       INTEGER NOT NULL CHECK (task_count >= 0),
    next_task        INTEGER NOT NULL CHECK (next_task BETWEEN 0 AND task_count),
    done             INTEGER NOT NULL CHECK (done >= 0),
    failed           INTEGER NOT NULL CHECK (failed >= 0),
    done_wall_ms     INTEGER NOT NULL CHECK (done_wall_ms >= 0),
    energy_uj        INTEGER NOT NULL CHECK (energy_uj >= 0),
    energy_estimated INTEGER NOT NULL CHECK (energy_estimated IN (0, 1)),
    created_ms       INTEGER NOT NULL,
    started_ms       INTEGER NOT NULL,
    finished_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_active ON jobs(seq) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_tenant ON jobs(tenant, seq);
CREATE TABLE IF NOT EXISTS attempts(
    job              TEXT    NOT NULL,
    task             INTEGER NOT NULL CHECK (task >= 0),
    attempt          INTEGER NOT NULL CHECK (attempt >= 1),
    site             TEXT    NOT NULL,
    run              TEXT    NOT NULL,
    node             TEXT    NOT NULL,
    state            TEXT    NOT NULL
                     CHECK (state = 'running' OR state = 'ok' OR state = 'failed' OR state = 'cancelled' OR state = 'lost' OR state = 'lapsed'),
    started_ms       INTEGER NOT NULL,
    ended_ms         INTEGER NOT NULL,
    exit_code        INTEGER NOT NULL,
    wall_ms          INTEGER NOT NULL CHECK (wall_ms >= 0),
    reason           TEXT    NOT NULL,
    energy_uj        INTEGER NOT NULL CHECK (energy_uj >= 0),
    energy_estimated INTEGER NOT NULL CHECK (energy_estimated IN (0, 1)),
    overridden       INTEGER NOT NULL CHECK (overridden IN (0, 1)),
    PRIMARY KEY (job, task, attempt)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attempts_running ON attempts(site) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS commits(
    job          TEXT    NOT NULL,
    task         INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    committed_ms INTEGER NOT NULL,
    PRIMARY KEY (job, task)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tasks(
    job      TEXT    NOT NULL,
    task     INTEGER NOT NULL,
    state    TEXT    NOT NULL CHECK (state = 'queued' OR state = 'running' OR state = 'failed'),
    attempts INTEGER NOT NULL CHECK (attempts >= 1),
    failures INTEGER NOT NULL CHECK (failures >= 0),
    PRIMARY KEY (job, task)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs(
    job     TEXT    NOT NULL,
    task    INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    text    TEXT    NOT NULL,
    PRIMARY KEY (job, task, attempt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outputs(
    job     TEXT    NOT NULL,
    task    INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    path    TEXT    NOT NULL,
    sha256  TEXT    NOT NULL CHECK (length(sha256) = 64),
    size    INTEGER NOT NULL CHECK (size >= 0),
    mode    INTEGER NOT NULL,
    PRIMARY KEY (job, task, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outputs_path ON outputs(job, path);
CREATE TABLE IF NOT EXISTS tenant_usage(
    name         TEXT    PRIMARY KEY NOT NULL,
    usage_slot_s REAL    NOT NULL CHECK (usage_slot_s >= 0),
    updated_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sites(
    name             TEXT    PRIMARY KEY NOT NULL,
    run              TEXT    NOT NULL,
    lease_expires_ms INTEGER NOT NULL
);
)sql";

// The statements, prepared once per connection (the dispatch path runs
// thousands of them per transaction).
constexpr const char* k_insert_job =
    "INSERT INTO jobs(id, seq, tenant, name, spec, state, priority, task_count, next_task, done, "
    "failed, done_wall_ms, energy_uj, energy_estimated, created_ms, started_ms, finished_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
constexpr const char* k_update_job =
    "UPDATE jobs SET state = ?2, priority = ?3, next_task = ?4, done = ?5, failed = ?6, "
    "done_wall_ms = ?7, energy_uj = ?8, energy_estimated = ?9, started_ms = ?10, "
    "finished_ms = ?11 WHERE id = ?1";
constexpr const char* k_job_columns =
    "id, seq, tenant, name, spec, state, priority, task_count, next_task, done, failed, "
    "done_wall_ms, energy_uj, energy_estimated, created_ms, started_ms, finished_ms";
constexpr const char* k_attempt_columns =
    "job, task, attempt, site, run, node, state, started_ms, ended_ms, exit_code, wall_ms, "
    "reason, energy_uj, energy_estimated, overridden";

Error sqlite_error(sqlite3* db, const std::string& path, const std::string& doing) {
    const int rc = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
    std::string fix;
    switch (rc & 0xff) {
        case SQLITE_FULL: fix = "the disk is full: free space there and restart hearth serve"; break;
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            fix = "the file is damaged or not a database: recover it with 'sqlite3 " + path +
                  " .recover | sqlite3 NEW.db' and put NEW.db in its place";
            break;
        case SQLITE_READONLY:
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
            fix = "let the hearth serve user write the state directory and the file";
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            fix = "another process holds it locked: run one hearth serve per state directory "
                  "and close any sqlite3 shell writing it";
            break;
        case SQLITE_IOERR: fix = "the disk reported an I/O error: check the device (dmesg)"; break;
        case SQLITE_CONSTRAINT:
            fix = "a record broke the queue's schema, which is a Hearth bug: please report it";
            break;
        default: fix = "this is unexpected: please report it with this message";
    }
    const char* msg = db != nullptr ? sqlite3_errmsg(db) : "cannot allocate";
    return Error("queue " + path + ": " + doing + " failed (" + msg + "); " + fix);
}

std::int64_t as_i64(std::uint64_t v) {
    // Counts and sizes far below 2^63 in practice; clamp instead of wrapping.
    return v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(v);
}

JobState job_state_of(const std::string& s) { return parse_job_state(s); }

AttemptState attempt_state_of(const std::string& s) {
    for (AttemptState a : {AttemptState::running, AttemptState::ok, AttemptState::failed,
                           AttemptState::cancelled, AttemptState::lost, AttemptState::lapsed})
        if (s == to_string(a)) return a;
    throw Error("queue: unknown attempt state '" + s + "' in the database; it was written by "
                "another program: restore it from a backup");
}

const char* to_string(TaskRowState s) {
    switch (s) {
        case TaskRowState::queued: return "queued";
        case TaskRowState::running: return "running";
        case TaskRowState::failed: return "failed";
    }
    return "?";
}

TaskRowState task_state_of(const std::string& s) {
    if (s == "queued") return TaskRowState::queued;
    if (s == "running") return TaskRowState::running;
    if (s == "failed") return TaskRowState::failed;
    throw Error("queue: unknown task state '" + s + "' in the database; restore it from a backup");
}

}  // namespace

const char* to_string(AttemptState s) {
    switch (s) {
        case AttemptState::running: return "running";
        case AttemptState::ok: return "ok";
        case AttemptState::failed: return "failed";
        case AttemptState::cancelled: return "cancelled";
        case AttemptState::lost: return "lost";
        case AttemptState::lapsed: return "lapsed";
    }
    return "?";
}

namespace {

// The connection and its prepared statements.
struct Conn {
    std::string path;
    sqlite3* db = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> cache;  // keyed by the SQL literal

    sqlite3_stmt* prepare(const char* sql) {
        auto it = cache.find(sql);
        if (it != cache.end()) return it->second;
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
            throw sqlite_error(db, path, "preparing a statement");
        cache.emplace(sql, s);
        return s;
    }
    void exec(const char* sql, const char* doing) {
        if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            throw sqlite_error(db, path, doing);
    }
};

// A cached statement in use: bound, stepped, and reset at scope end so it
// holds no lock and can be used again.
class Query {
public:
    Query(Conn& m, const char* sql) : m_impl(m), m_stmt(m.prepare(sql)) {}
    ~Query() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(m_stmt, i, v)); }
    Query& bind(int i, std::uint64_t v) { return bind(i, as_i64(v)); }
    Query& bind(int i, std::uint32_t v) { return bind(i, std::int64_t{v}); }
    Query& bind(int i, std::int32_t v) { return bind(i, std::int64_t{v}); }
    Query& bind(int i, bool v) { return bind(i, std::int64_t{v ? 1 : 0}); }
    Query& bind(int i, double v) { return check(sqlite3_bind_double(m_stmt, i, v)); }
    // Text is bound without a copy (SQLITE_STATIC): every caller's string
    // outlives its Query, whose destructor resets the statement and clears
    // the bindings before the string can go.
    Query& bind(int i, const std::string& v) {
        return check(
            sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    }
    Query& bind(int i, const char* v) {
        return check(sqlite3_bind_text(m_stmt, i, v, -1, SQLITE_STATIC));
    }
    Query& bind(int i, std::string&& v) = delete;  // a temporary would be gone before the step

    bool step(const char* doing) {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw sqlite_error(m_impl.db, m_impl.path, doing);
    }
    void run(const char* doing) { step(doing); }

    std::int64_t i64(int c) const { return sqlite3_column_int64(m_stmt, c); }
    std::uint64_t u64(int c) const {
        const std::int64_t v = i64(c);
        return v < 0 ? 0 : static_cast<std::uint64_t>(v);
    }
    std::uint32_t u32(int c) const { return static_cast<std::uint32_t>(u64(c)); }
    double real(int c) const { return sqlite3_column_double(m_stmt, c); }
    std::string text(int c) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, c));
        return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(m_stmt, c));
    }

private:
    Query& check(int rc) {
        if (rc != SQLITE_OK) throw sqlite_error(m_impl.db, m_impl.path, "binding a parameter");
        return *this;
    }
    Conn& m_impl;
    sqlite3_stmt* m_stmt;
};

std::string select_jobs(const char* where_and_order) {
    return std::string("SELECT ") + k_job_columns + " FROM jobs " + where_and_order;
}

JobRow read_job(const Query& q) {
    JobRow j;
    j.id = q.text(0);
    j.seq = q.u64(1);
    j.tenant = q.text(2);
    j.name = q.text(3);
    j.spec = q.text(4);
    j.state = job_state_of(q.text(5));
    j.priority = static_cast<std::int32_t>(q.i64(6));
    j.task_count = q.u64(7);
    j.next_task = q.u64(8);
    j.done = q.u64(9);
    j.failed = q.u64(10);
    j.done_wall_ms = q.u64(11);
    j.energy_uj = q.u64(12);
    j.energy_estimated = q.i64(13) != 0;
    j.created_ms = q.i64(14);
    j.started_ms = q.i64(15);
    j.finished_ms = q.i64(16);
    return j;
}

AttemptRow read_attempt(const Query& q) {
    AttemptRow a;
    a.key.job = q.text(0);
    a.key.task = q.u64(1);
    a.key.attempt = q.u32(2);
    a.site = q.text(3);
    a.run = q.text(4);
    a.node = q.text(5);
    a.state = attempt_state_of(q.text(6));
    a.started_ms = q.i64(7);
    a.ended_ms = q.i64(8);
    a.exit_code = static_cast<std::int32_t>(q.i64(9));
    a.wall_ms = q.u64(10);
    a.reason = q.text(11);
    a.energy_uj = q.u64(12);
    a.energy_estimated = q.i64(13) != 0;
    a.overridden = q.i64(14) != 0;
    return a;
}

TaskRow read_task(const Query& q) {
    TaskRow t;
    t.job = q.text(0);
    t.task = q.u64(1);
    t.state = task_state_of(q.text(2));
    t.attempts = q.u32(3);
    t.failures = q.u32(4);
    return t;
}

// Statements whose text is built once (column lists spliced in).
const std::string& sql_of(int which) {
    static const std::string k_all[] = {
        select_jobs("WHERE id = ?1"),
        select_jobs("WHERE state IN ('queued', 'running') ORDER BY seq"),
        std::string("SELECT ") + k_attempt_columns + " FROM attempts WHERE job = ?1 AND task = ?2 "
                                                     "AND attempt = ?3",
        std::string("SELECT ") + k_attempt_columns + " FROM attempts WHERE state = 'running'",
        std::string("SELECT ") + k_attempt_columns +
            " FROM attempts WHERE job = ?1 AND task >= ?2 AND task < ?3 ORDER BY task, attempt",
        std::string("SELECT ") + k_attempt_columns +
            " FROM attempts WHERE job = ?1 AND task = ?2 ORDER BY attempt DESC LIMIT 1",
    };
    return k_all[which];
}
enum Sql { job_by_id, jobs_active, attempt_by_key, attempts_running, attempts_range, attempt_last };

}  // namespace

struct SchedStore::Impl : Conn {};

SchedStore::SchedStore(const std::string& path) : m(std::make_unique<Impl>()) {
    m->path = path;
    if (sqlite3_open_v2(path.c_str(), &m->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        Error e = sqlite_error(m->db, path, "opening");
        sqlite3_close(m->db);
        m->db = nullptr;
        throw e;
    }
    try {
        sqlite3_extended_result_codes(m->db, 1);
        m->exec("PRAGMA busy_timeout = 5000", "setting busy_timeout");
        std::int64_t app = 0, version = 0, tables = 0;
        {
            Query q(*m, "PRAGMA application_id");
            if (q.step("reading the database header")) app = q.i64(0);
        }
        {
            Query q(*m, "PRAGMA user_version");
            if (q.step("reading the schema version")) version = q.i64(0);
        }
        {
            Query q(*m, "SELECT count(*) FROM sqlite_schema");
            if (q.step("reading the schema")) tables = q.i64(0);
        }
        if (app != k_application_id && !(app == 0 && tables == 0))
            throw Error("queue " + path + " is a SQLite database of another program, not a "
                        "Hearth queue; give --state another directory");
        if (version > k_schema_version)
            throw Error("queue " + path + " was written by a newer Hearth (schema " +
                        std::to_string(version) + ", this one knows " +
                        std::to_string(k_schema_version) + "); upgrade Hearth to open it");
        {
            Query q(*m, "PRAGMA journal_mode = WAL");
            if (!q.step("switching to WAL") || q.text(0) != "wal")
                throw Error("queue " + path + ": SQLite cannot use WAL mode there (no shared "
                            "memory on that filesystem, e.g. NFS); put --state on a local disk");
        }
        // Keep -wal and -shm when the server stops, so that `sqlite3 -readonly`
        // can read the queue as a user who may not write the state directory.
        int persist = 1;
        sqlite3_file_control(m->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        // FULL: every commit syncs the WAL, so what a reply confirmed survives
        // a power cut as well as a crash.
        m->exec("PRAGMA synchronous = FULL", "setting synchronous");
        m->exec("BEGIN IMMEDIATE", "starting the schema transaction");
        try {
            m->exec(k_schema, "creating the schema");
            if (version < k_schema_version) {
                const std::string ids = "PRAGMA application_id = " +
                                        std::to_string(k_application_id) +
                                        "; PRAGMA user_version = " + std::to_string(k_schema_version);
                m->exec(ids.c_str(), "writing the schema version");
            }
            m->exec("COMMIT", "committing the schema");
        } catch (...) {
            if (sqlite3_get_autocommit(m->db) == 0)
                sqlite3_exec(m->db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    } catch (...) {
        for (auto& [sql, s] : m->cache) sqlite3_finalize(s);
        sqlite3_close(m->db);
        throw;
    }
}

SchedStore::~SchedStore() {
    for (auto& [sql, s] : m->cache) sqlite3_finalize(s);
    sqlite3_close(m->db);
}

const std::string& SchedStore::path() const { return m->path; }

void SchedStore::defer_sync() {
    m->exec("PRAGMA synchronous = NORMAL", "setting synchronous");
}

SchedStore::Transaction::Transaction(SchedStore& store) : m_store(store) {
    Query(*m_store.m, "BEGIN IMMEDIATE").run("starting a transaction");
}

SchedStore::Transaction::~Transaction() {
    if (!m_done) sqlite3_exec(m_store.m->db, "ROLLBACK", nullptr, nullptr, nullptr);
}

void SchedStore::Transaction::commit() {
    Query(*m_store.m, "COMMIT").run("committing");
    m_done = true;
}

void SchedStore::insert_job(const JobRow& j) {
    Query q(*m, k_insert_job);
    q.bind(1, j.id).bind(2, j.seq).bind(3, j.tenant).bind(4, j.name).bind(5, j.spec);
    q.bind(6, to_string(j.state)).bind(7, j.priority).bind(8, j.task_count).bind(9, j.next_task);
    q.bind(10, j.done).bind(11, j.failed).bind(12, j.done_wall_ms).bind(13, j.energy_uj);
    q.bind(14, j.energy_estimated).bind(15, j.created_ms).bind(16, j.started_ms);
    q.bind(17, j.finished_ms).run("recording a job");
}

void SchedStore::update_job(const JobRow& j) {
    Query q(*m, k_update_job);
    q.bind(1, j.id).bind(2, to_string(j.state)).bind(3, j.priority).bind(4, j.next_task);
    q.bind(5, j.done).bind(6, j.failed).bind(7, j.done_wall_ms).bind(8, j.energy_uj);
    q.bind(9, j.energy_estimated).bind(10, j.started_ms).bind(11, j.finished_ms);
    q.run("updating a job");
}

std::optional<JobRow> SchedStore::job(const std::string& id) {
    Query q(*m, sql_of(job_by_id).c_str());
    q.bind(1, id);
    if (!q.step("reading a job")) return std::nullopt;
    return read_job(q);
}

std::vector<JobRow> SchedStore::jobs(const std::optional<std::string>& tenant,
                                     const std::optional<JobState>& state, std::size_t limit) {
    // NULL parameters match everything; one statement serves every filter.
    static const std::string sql =
        select_jobs("WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR state = ?2) "
                    "ORDER BY seq DESC LIMIT ?3");
    Query q(*m, sql.c_str());
    if (tenant) q.bind(1, *tenant);
    if (state) q.bind(2, to_string(*state));
    q.bind(3, static_cast<std::uint64_t>(limit));
    std::vector<JobRow> out;
    while (q.step("listing jobs")) out.push_back(read_job(q));
    return out;
}

std::vector<JobRow> SchedStore::active_jobs() {
    Query q(*m, sql_of(jobs_active).c_str());
    std::vector<JobRow> out;
    while (q.step("reading the queued jobs")) out.push_back(read_job(q));
    return out;
}

std::uint64_t SchedStore::max_seq() {
    Query q(*m, "SELECT coalesce(max(seq), 0) FROM jobs");
    return q.step("reading the last job number") ? q.u64(0) : 0;
}

void SchedStore::insert_attempt(const AttemptRow& a) {
    Query q(*m,
            "INSERT INTO attempts(job, task, attempt, site, run, node, state, started_ms, "
            "ended_ms, exit_code, wall_ms, reason, energy_uj, energy_estimated, overridden) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
    q.bind(1, a.key.job).bind(2, a.key.task).bind(3, a.key.attempt).bind(4, a.site).bind(5, a.run);
    q.bind(6, a.node).bind(7, to_string(a.state)).bind(8, a.started_ms).bind(9, a.ended_ms);
    q.bind(10, a.exit_code).bind(11, a.wall_ms).bind(12, a.reason).bind(13, a.energy_uj);
    q.bind(14, a.energy_estimated).bind(15, a.overridden).run("recording an attempt");
}

void SchedStore::end_attempt(const AttemptRow& a) {
    Query q(*m,
            "UPDATE attempts SET state = ?4, ended_ms = ?5, exit_code = ?6, wall_ms = ?7, "
            "reason = ?8, energy_uj = ?9, energy_estimated = ?10 "
            "WHERE job = ?1 AND task = ?2 AND attempt = ?3");
    q.bind(1, a.key.job).bind(2, a.key.task).bind(3, a.key.attempt).bind(4, to_string(a.state));
    q.bind(5, a.ended_ms).bind(6, a.exit_code).bind(7, a.wall_ms).bind(8, a.reason);
    q.bind(9, a.energy_uj).bind(10, a.energy_estimated).run("recording an attempt's end");
}

std::optional<AttemptRow> SchedStore::attempt(const AttemptKey& k) {
    Query q(*m, sql_of(attempt_by_key).c_str());
    q.bind(1, k.job).bind(2, k.task).bind(3, k.attempt);
    if (!q.step("reading an attempt")) return std::nullopt;
    return read_attempt(q);
}

std::vector<AttemptEnergy> SchedStore::ended_attempts(std::int64_t since_ms) {
    Query q(*m,
            "SELECT site, ended_ms, energy_uj, overridden FROM attempts WHERE ended_ms >= ?1 AND "
            "state != 'running'");
    q.bind(1, since_ms);
    std::vector<AttemptEnergy> out;
    while (q.step("reading ended attempts"))
        out.push_back(AttemptEnergy{q.text(0), q.i64(1), q.u64(2), q.i64(3) != 0});
    return out;
}

std::vector<AttemptRow> SchedStore::running_attempts() {
    Query q(*m, sql_of(attempts_running).c_str());
    std::vector<AttemptRow> out;
    while (q.step("reading the running attempts")) out.push_back(read_attempt(q));
    return out;
}

std::vector<AttemptRow> SchedStore::attempts(const std::string& job, std::uint64_t from,
                                             std::uint64_t to) {
    Query q(*m, sql_of(attempts_range).c_str());
    q.bind(1, job).bind(2, from).bind(3, to);
    std::vector<AttemptRow> out;
    while (q.step("reading attempts")) out.push_back(read_attempt(q));
    return out;
}

std::optional<AttemptRow> SchedStore::last_attempt(const std::string& job, std::uint64_t task) {
    Query q(*m, sql_of(attempt_last).c_str());
    q.bind(1, job).bind(2, task);
    if (!q.step("reading an attempt")) return std::nullopt;
    return read_attempt(q);
}

bool SchedStore::commit_task(const AttemptKey& k, std::int64_t now_ms) {
    // The primary key (job, task) makes the first commit the only one.
    Query q(*m,
            "INSERT INTO commits(job, task, attempt, committed_ms) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT(job, task) DO NOTHING");
    q.bind(1, k.job).bind(2, k.task).bind(3, k.attempt).bind(4, now_ms).run("committing a task");
    return sqlite3_changes(m->db) == 1;
}

bool SchedStore::is_committed(const std::string& job, std::uint64_t task) {
    Query q(*m, "SELECT 1 FROM commits WHERE job = ?1 AND task = ?2");
    q.bind(1, job).bind(2, task);
    return q.step("reading a commit");
}

std::vector<std::uint64_t> SchedStore::committed(const std::string& job, std::uint64_t from,
                                                 std::uint64_t to) {
    Query q(*m, "SELECT task FROM commits WHERE job = ?1 AND task >= ?2 AND task < ?3 ORDER BY task");
    q.bind(1, job).bind(2, from).bind(3, to);
    std::vector<std::uint64_t> out;
    while (q.step("reading commits")) out.push_back(q.u64(0));
    return out;
}

void SchedStore::put_task(const TaskRow& t) {
    Query q(*m,
            "INSERT INTO tasks(job, task, state, attempts, failures) VALUES (?1, ?2, ?3, ?4, ?5) "
            "ON CONFLICT(job, task) DO UPDATE SET state = excluded.state, "
            "attempts = excluded.attempts, failures = excluded.failures");
    q.bind(1, t.job).bind(2, t.task).bind(3, to_string(t.state)).bind(4, t.attempts);
    q.bind(5, t.failures).run("recording a task");
}

void SchedStore::delete_task(const std::string& job, std::uint64_t task) {
    Query q(*m, "DELETE FROM tasks WHERE job = ?1 AND task = ?2");
    q.bind(1, job).bind(2, task).run("clearing a task");
}

std::optional<TaskRow> SchedStore::task(const std::string& job, std::uint64_t task) {
    Query q(*m, "SELECT job, task, state, attempts, failures FROM tasks WHERE job = ?1 AND task = ?2");
    q.bind(1, job).bind(2, task);
    if (!q.step("reading a task")) return std::nullopt;
    return read_task(q);
}

std::vector<TaskRow> SchedStore::task_rows(const std::string& job, std::uint64_t from,
                                           std::uint64_t to) {
    Query q(*m,
            "SELECT job, task, state, attempts, failures FROM tasks "
            "WHERE job = ?1 AND task >= ?2 AND task < ?3 ORDER BY task");
    q.bind(1, job).bind(2, from).bind(3, to);
    std::vector<TaskRow> out;
    while (q.step("reading tasks")) out.push_back(read_task(q));
    return out;
}

void SchedStore::put_log(const AttemptKey& k, const std::string& text) {
    Query q(*m,
            "INSERT INTO logs(job, task, attempt, text) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT(job, task, attempt) DO NOTHING");
    q.bind(1, k.job).bind(2, k.task).bind(3, k.attempt).bind(4, text).run("recording a log");
}

std::optional<std::string> SchedStore::log(const AttemptKey& k) {
    Query q(*m, "SELECT text FROM logs WHERE job = ?1 AND task = ?2 AND attempt = ?3");
    q.bind(1, k.job).bind(2, k.task).bind(3, k.attempt);
    if (!q.step("reading a log")) return std::nullopt;
    return q.text(0);
}

void SchedStore::insert_output(const std::string& job, std::uint32_t attempt, const OutputInfo& o) {
    Query q(*m,
            "INSERT INTO outputs(job, task, attempt, path, sha256, size, mode) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(job, task, path) DO NOTHING");
    q.bind(1, job).bind(2, o.task).bind(3, attempt).bind(4, o.path).bind(5, o.sha256);
    q.bind(6, o.size).bind(7, o.mode).run("recording an output");
}

std::vector<OutputInfo> SchedStore::outputs(const std::string& job) {
    Query q(*m, "SELECT path, sha256, size, mode, task FROM outputs WHERE job = ?1 ORDER BY task, path");
    q.bind(1, job);
    std::vector<OutputInfo> out;
    while (q.step("reading outputs")) {
        OutputInfo o;
        o.path = q.text(0);
        o.sha256 = q.text(1);
        o.size = q.u64(2);
        o.mode = q.u32(3);
        o.task = q.u64(4);
        out.push_back(std::move(o));
    }
    return out;
}

std::optional<std::uint64_t> SchedStore::output_owner(const std::string& job,
                                                      const std::string& path) {
    Query q(*m, "SELECT task FROM outputs WHERE job = ?1 AND path = ?2 LIMIT 1");
    q.bind(1, job).bind(2, path);
    if (!q.step("reading an output's owner")) return std::nullopt;
    return q.u64(0);
}

void SchedStore::put_usage(const UsageRow& u) {
    Query q(*m,
            "INSERT INTO tenant_usage(name, usage_slot_s, updated_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(name) DO UPDATE SET usage_slot_s = excluded.usage_slot_s, "
            "updated_ms = excluded.updated_ms");
    q.bind(1, u.tenant).bind(2, u.usage_slot_s).bind(3, u.updated_ms).run("recording usage");
}

std::vector<UsageRow> SchedStore::usage() {
    Query q(*m, "SELECT name, usage_slot_s, updated_ms FROM tenant_usage ORDER BY name");
    std::vector<UsageRow> out;
    while (q.step("reading usage")) out.push_back(UsageRow{q.text(0), q.real(1), q.i64(2)});
    return out;
}

void SchedStore::put_site(const SiteRow& s) {
    Query q(*m,
            "INSERT INTO sites(name, run, lease_expires_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(name) DO UPDATE SET run = excluded.run, "
            "lease_expires_ms = excluded.lease_expires_ms");
    q.bind(1, s.name).bind(2, s.run).bind(3, s.lease_expires_ms).run("recording a site's lease");
}

std::vector<SiteRow> SchedStore::sites() {
    Query q(*m, "SELECT name, run, lease_expires_ms FROM sites ORDER BY name");
    std::vector<SiteRow> out;
    while (q.step("reading sites")) out.push_back(SiteRow{q.text(0), q.text(1), q.i64(2)});
    return out;
}

}  // namespace hearth
