#pragma once
// The scheduler's client messages (hearth-api(7), /v1/jobs): what `hearth
// submit`, the dashboard, the Python client and the Blender add-on send, and
// what `hearth serve` answers. One typed definition, read strictly
// (core/json_fields) by the server and leniently by nothing: both ends call
// these functions.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobspec.hpp"

namespace hearth {

// The names scripts use (`hearth status --json` has said these since 0.1).
enum class JobState { queued, running, finished, failed, cancelled };
const char* to_string(JobState s);
JobState parse_job_state(const std::string& s);  // usage_error naming the valid ones
bool is_final(JobState s);

// A file in the scheduler's content store, addressed by its SHA-256.
struct BlobRef {
    std::string name;    // staged: the file name in the task's scratch directory
    std::string sha256;  // 64 lowercase hex digits
    std::uint32_t mode = 0644;
    std::uint64_t size = 0;
};

// Limits on what one submission may hold; larger is a 400 naming the limit.
inline constexpr std::size_t k_max_command_words = 4096;
inline constexpr std::size_t k_max_word_bytes = 64 * 1024;
inline constexpr std::size_t k_max_staged = 256;
inline constexpr std::size_t k_max_collect = 64;
inline constexpr std::int32_t k_min_priority = -1000, k_max_priority = 1000;
// A whole submission as JSON (command, stage, collect together): the
// scheduler keeps every queued job's spec in memory.
inline constexpr std::size_t k_max_spec_bytes = 1024 * 1024;

// POST /v1/jobs
struct JobSubmit {
    std::string tenant;  // a tenant token may submit only as itself; "" = the token's tenant
    std::string name;    // a label ("" = none); safe name when given
    SplitKind split = SplitKind::count;
    std::string split_text;     // frames "1-240", seeds "0-999", count "1000"; "items" for items
    std::string items_sha256;   // split items: the items file, uploaded to the content store
    std::uint64_t chunk = 1;
    std::vector<std::string> command;  // template words with {placeholders}
    std::uint32_t retries = 2;
    std::uint64_t timeout_ms = 0;
    std::vector<BlobRef> stage;
    std::vector<std::string> collect;  // relative globs
    std::int64_t deadline_ms = 0;      // Unix ms; 0 = none
    bool urgent = false;
    std::int32_t priority = 0;  // within the tenant: higher first
    std::vector<std::string> env;      // NAME=VALUE for every task (hearth submit --env)
    std::uint32_t cores_per_task = 1;  // cores each task holds (placement, binding, thread counts)
    std::uint64_t mem_per_task = 0;    // bytes each task needs free and is limited to; 0 = none
    std::uint32_t gpus_per_task = 0;   // GPUs each task is given (CUDA_VISIBLE_DEVICES); 0 = none
};

struct JobInfo {
    std::string id;
    std::string tenant;
    std::string name;
    JobState state = JobState::queued;
    std::int32_t priority = 0;
    bool urgent = false;
    std::int64_t deadline_ms = 0;
    std::string split;       // "frames", "seeds", "count", "items"
    std::string split_text;
    std::uint64_t chunk = 1;
    std::vector<std::string> command;
    std::vector<std::string> collect;
    std::uint64_t total = 0;      // tasks
    std::uint64_t committed = 0;  // done
    std::uint64_t failed = 0;     // failed after their retries
    std::uint64_t running = 0;    // attempts out at sites now
    // Of the queued tasks, those held back for want of heat: no node has a
    // heat-allowed slot free (core/heat_wait). 0 when plain queued.
    std::uint64_t waiting_for_heat = 0;
    // Why its queued tasks start nowhere: no node up can hold one (its
    // cores, its memory). "" when some node can, or none has reported.
    std::string waiting;
    std::uint32_t cores_per_task = 1;
    std::uint64_t mem_per_task = 0;
    std::uint32_t gpus_per_task = 0;
    std::int64_t submitted_ms = 0, started_ms = 0, finished_ms = 0;  // 0 = not yet
    std::uint64_t energy_uj = 0;    // charged to this job's attempts so far
    bool energy_estimated = false;  // some of it from a model, not a meter
};

// GET /v1/jobs/ID/tasks: a task in the user's own terms (frames 21-22).
// waiting_for_heat: waiting, and held back because no node's heat budget
// allows another task now (core/heat_wait); plain waiting otherwise.
enum class TaskState { waiting, running, done, failed, waiting_for_heat };
const char* to_string(TaskState s);
struct TaskInfo {
    std::uint64_t task = 0;
    std::string first, last;  // its first and last items ("21", "22")
    TaskState state = TaskState::waiting;
    std::uint32_t attempts = 0;
    std::string site, node;   // of the last attempt
    std::uint64_t wall_ms = 0;
    std::int32_t exit_code = 0;
    std::string reason;       // of the last failed attempt
};

// GET /v1/jobs/ID/outputs
struct OutputInfo {
    std::string path;  // relative, as collected
    std::string sha256;
    std::uint64_t size = 0;
    std::uint32_t mode = 0644;
    std::uint64_t task = 0;
};

nlohmann::json to_json(const BlobRef&);
// nested: name may be a relative path (collected outputs); otherwise a plain
// file name (staged inputs). usage_error naming the field.
BlobRef blob_ref_from_json(const nlohmann::json&, bool nested = false);
nlohmann::json to_json(const JobSubmit&);
JobSubmit job_submit_from_json(const nlohmann::json&);
nlohmann::json to_json(const JobInfo&);
JobInfo job_info_from_json(const nlohmann::json&);
nlohmann::json to_json(const TaskInfo&);
TaskInfo task_info_from_json(const nlohmann::json&);
nlohmann::json to_json(const OutputInfo&);
OutputInfo output_info_from_json(const nlohmann::json&);

bool is_sha256_hex(const std::string& s);

}  // namespace hearth
