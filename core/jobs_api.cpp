#include "core/jobs_api.hpp"

#include "core/error.hpp"
#include "core/json_fields.hpp"
#include "core/safe_path.hpp"
#include "core/task_env.hpp"

namespace hearth {

using nlohmann::json;

namespace {

constexpr std::uint64_t k_max_ms = std::uint64_t{1} << 50;
constexpr std::int64_t k_max_unix_ms = std::int64_t{1} << 50;

SplitKind parse_split(const std::string& s) {
    if (s == "frames") return SplitKind::frames;
    if (s == "seeds") return SplitKind::seeds;
    if (s == "count") return SplitKind::count;
    if (s == "items") return SplitKind::items;
    throw usage_error("'split' must be frames, seeds, count or items, not '" + s.substr(0, 32) + "'");
}

}  // namespace

const char* to_string(JobState s) {
    switch (s) {
        case JobState::queued: return "queued";
        case JobState::running: return "running";
        case JobState::finished: return "finished";
        case JobState::failed: return "failed";
        case JobState::cancelled: return "cancelled";
    }
    return "?";
}

JobState parse_job_state(const std::string& s) {
    for (JobState st : {JobState::queued, JobState::running, JobState::finished, JobState::failed,
                        JobState::cancelled})
        if (s == to_string(st)) return st;
    throw usage_error("unknown job state '" + s.substr(0, 32) +
                      "'; use queued, running, finished, failed or cancelled");
}

bool is_final(JobState s) {
    return s == JobState::finished || s == JobState::failed || s == JobState::cancelled;
}

const char* to_string(TaskState s) {
    switch (s) {
        case TaskState::waiting: return "waiting";
        case TaskState::running: return "running";
        case TaskState::done: return "done";
        case TaskState::failed: return "failed";
        case TaskState::waiting_for_heat:
            return "waiting_for_heat";
    }
    return "?";
}

bool is_sha256_hex(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

json to_json(const BlobRef& b) {
    return {{"name", b.name}, {"sha256", b.sha256}, {"mode", b.mode}, {"size", b.size}};
}

BlobRef blob_ref_from_json(const json& j, bool nested) {
    JsonFields f(j, "file reference");
    BlobRef b;
    b.name = f.str("name");
    if (nested ? !is_clean_relative_path(b.name) || b.name.size() > 4096
               : b.name.empty() || b.name.size() > 255 || b.name.find('/') != std::string::npos ||
                     b.name == "." || b.name == ".." || b.name.find('\0') != std::string::npos)
        throw usage_error(std::string("'name' of a file must be ") +
                          (nested ? "a clean relative path" : "a plain file name (no '/')") +
                          ", not '" + b.name.substr(0, 64) + "'");
    b.sha256 = f.str("sha256");
    if (!is_sha256_hex(b.sha256))
        throw usage_error("'sha256' must be 64 lowercase hex digits (the content store's address)");
    b.mode = static_cast<std::uint32_t>(f.u64("mode", 0, 0777, 0644));
    b.size = f.u64("size", 0, k_max_ms, 0);
    f.done();
    return b;
}

json to_json(const JobSubmit& s) {
    json stage = json::array();
    for (const auto& b : s.stage) stage.push_back(to_json(b));
    json j = {{"split", to_string(s.split)},
              {"split_text", s.split_text},
              {"chunk", s.chunk},
              {"command", s.command},
              {"retries", s.retries},
              {"timeout_ms", s.timeout_ms},
              {"stage", stage},
              {"collect", s.collect},
              {"deadline_ms", s.deadline_ms},
              {"urgent", s.urgent},
              {"priority", s.priority},
              {"env", s.env},
              {"cores_per_task", s.cores_per_task},
              {"mem_per_task", s.mem_per_task},
              {"gpus_per_task", s.gpus_per_task}};
    // Empty means "not given" (the token's tenant, no label): left out, as
    // the reader refuses an empty name.
    if (!s.tenant.empty()) j["tenant"] = s.tenant;
    if (!s.name.empty()) j["name"] = s.name;
    if (!s.items_sha256.empty()) j["items_sha256"] = s.items_sha256;
    return j;
}

JobSubmit job_submit_from_json(const json& j) {
    JsonFields f(j, "job");
    JobSubmit s;
    s.tenant = f.name("tenant", "");
    s.name = f.name("name", "");
    s.split = parse_split(f.str("split"));
    s.split_text = f.str("split_text");
    if (s.split_text.size() > 64 * 1024) throw usage_error("'split_text' is over 64 KiB");
    s.items_sha256 = f.str("items_sha256", "");
    if (s.split == SplitKind::items && !is_sha256_hex(s.items_sha256))
        throw usage_error("a job split by items needs 'items_sha256': upload the items file first "
                          "(PUT /v1/blobs/SHA256)");
    if (s.split != SplitKind::items && !s.items_sha256.empty())
        throw usage_error("'items_sha256' goes with split 'items' only");
    s.chunk = f.u64("chunk", 1, std::uint64_t{1} << 40, 1);
    s.command = f.strs("command", k_max_command_words, k_max_word_bytes);
    if (s.command.empty()) throw usage_error("'command' is missing or empty: give the program to run");
    s.retries = static_cast<std::uint32_t>(f.u64("retries", 0, 100, 2));
    s.timeout_ms = f.u64("timeout_ms", 0, k_max_ms, 0);
    for (const auto& b : f.objects("stage", k_max_staged)) s.stage.push_back(blob_ref_from_json(b));
    s.collect = f.strs("collect", k_max_collect, 4096);
    s.deadline_ms = f.i64("deadline_ms", 0, k_max_unix_ms, 0);
    s.urgent = f.flag("urgent", false);
    s.priority = static_cast<std::int32_t>(f.i64("priority", k_min_priority, k_max_priority, 0));
    s.env = f.strs("env", k_max_env_entries, k_max_env_bytes);
    check_env_list(s.env, "'env'");
    s.cores_per_task =
        static_cast<std::uint32_t>(f.u64("cores_per_task", 1, k_max_cores_per_task, 1));
    // Absent in jobs stored before it existed: no memory need.
    s.mem_per_task = f.u64("mem_per_task", 0, k_max_mem_per_task, 0);
    // Absent in jobs stored before GPU tasks: none.
    s.gpus_per_task = static_cast<std::uint32_t>(f.u64("gpus_per_task", 0, k_max_gpus_per_task, 0));
    f.done();
    return s;
}

json to_json(const JobInfo& i) {
    return {{"id", i.id},
            {"tenant", i.tenant},
            {"name", i.name},
            {"state", to_string(i.state)},
            {"priority", i.priority},
            {"urgent", i.urgent},
            {"deadline_ms", i.deadline_ms},
            {"split", i.split},
            {"split_text", i.split_text},
            {"chunk", i.chunk},
            {"command", i.command},
            {"collect", i.collect},
            {"total", i.total},
            {"committed", i.committed},
            {"failed", i.failed},
            {"running", i.running},
            {"waiting_for_heat", i.waiting_for_heat},
            {"waiting", i.waiting},
            {"cores_per_task", i.cores_per_task},
            {"mem_per_task", i.mem_per_task},
            {"gpus_per_task", i.gpus_per_task},
            {"submitted_ms", i.submitted_ms},
            {"started_ms", i.started_ms},
            {"finished_ms", i.finished_ms},
            {"energy_uj", i.energy_uj},
            {"energy_estimated", i.energy_estimated}};
}

JobInfo job_info_from_json(const json& j) {
    JsonFields f(j, "job");
    JobInfo i;
    i.id = f.name("id");
    i.tenant = f.name("tenant");
    i.name = f.str("name", "");
    i.state = parse_job_state(f.str("state"));
    i.priority = static_cast<std::int32_t>(f.i64("priority", k_min_priority, k_max_priority, 0));
    i.urgent = f.flag("urgent", false);
    i.deadline_ms = f.i64("deadline_ms", 0, k_max_unix_ms, 0);
    i.split = f.str("split", "");
    i.split_text = f.str("split_text", "");
    i.chunk = f.u64("chunk", 1, std::uint64_t{1} << 40, 1);
    i.command = f.strs("command", k_max_command_words, k_max_word_bytes);
    i.collect = f.strs("collect", k_max_collect, 4096);
    const std::uint64_t big = std::uint64_t{1} << 62;
    i.total = f.u64("total", 0, big, 0);
    i.committed = f.u64("committed", 0, big, 0);
    i.failed = f.u64("failed", 0, big, 0);
    i.running = f.u64("running", 0, big, 0);
    i.waiting_for_heat = f.u64("waiting_for_heat", 0, big, 0);
    i.submitted_ms = f.i64("submitted_ms", 0, k_max_unix_ms, 0);
    i.started_ms = f.i64("started_ms", 0, k_max_unix_ms, 0);
    i.finished_ms = f.i64("finished_ms", 0, k_max_unix_ms, 0);
    i.energy_uj = f.u64("energy_uj", 0, UINT64_MAX, 0);
    i.energy_estimated = f.flag("energy_estimated", false);
    i.waiting = f.str("waiting", "");
    i.cores_per_task =
        static_cast<std::uint32_t>(f.u64("cores_per_task", 1, k_max_cores_per_task, 1));
    i.mem_per_task = f.u64("mem_per_task", 0, k_max_mem_per_task, 0);
    i.gpus_per_task = static_cast<std::uint32_t>(f.u64("gpus_per_task", 0, k_max_gpus_per_task, 0));
    // Newer servers may add fields: a client reads what it knows.
    return i;
}

json to_json(const TaskInfo& t) {
    return {{"task", t.task},       {"first", t.first},   {"last", t.last},
            {"state", to_string(t.state)}, {"attempts", t.attempts}, {"site", t.site},
            {"node", t.node},       {"wall_ms", t.wall_ms}, {"exit", t.exit_code},
            {"reason", t.reason}};
}

TaskInfo task_info_from_json(const json& j) {
    JsonFields f(j, "task");
    TaskInfo t;
    t.task = f.u64("task", 0, UINT64_MAX);
    t.first = f.str("first", "");
    t.last = f.str("last", "");
    const std::string st = f.str("state");
    if (st == "waiting") t.state = TaskState::waiting;
    else if (st == "running") t.state = TaskState::running;
    else if (st == "done") t.state = TaskState::done;
    else if (st == "failed") t.state = TaskState::failed;
    else if (st == "waiting_for_heat")
        t.state = TaskState::waiting_for_heat;
    else throw usage_error("unknown task state '" + st.substr(0, 32) + "'");
    t.attempts = static_cast<std::uint32_t>(f.u64("attempts", 0, UINT32_MAX, 0));
    t.site = f.str("site", "");
    t.node = f.str("node", "");
    t.wall_ms = f.u64("wall_ms", 0, UINT64_MAX, 0);
    t.exit_code = static_cast<std::int32_t>(f.i64("exit", INT32_MIN, INT32_MAX, 0));
    t.reason = f.str("reason", "");
    return t;
}

json to_json(const OutputInfo& o) {
    return {{"path", o.path}, {"sha256", o.sha256}, {"size", o.size}, {"mode", o.mode}, {"task", o.task}};
}

OutputInfo output_info_from_json(const json& j) {
    JsonFields f(j, "output");
    OutputInfo o;
    o.path = f.str("path");
    o.sha256 = f.str("sha256");
    if (!is_sha256_hex(o.sha256)) throw usage_error("'sha256' of an output must be 64 lowercase hex digits");
    o.size = f.u64("size", 0, UINT64_MAX, 0);
    o.mode = static_cast<std::uint32_t>(f.u64("mode", 0, 0777, 0644));
    o.task = f.u64("task", 0, UINT64_MAX, 0);
    return o;
}

}  // namespace hearth
