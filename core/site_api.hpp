#pragma once
// What a site (`hearth site`, its rank 0) and the scheduler (`hearth serve`)
// say to each other: POST /v1/sites/NAME/work, the only call, made by the
// site (pull: the scheduler never reaches a site). The request carries the
// site's nodes and their heat budgets, the results of finished attempts, the
// attempts it still holds and those it lost; the reply carries new attempts
// and a lease. A result is acknowledged by the 200 reply to the request that
// carried it: until then the site keeps it (on disk) and sends it again, and
// the scheduler commits each attempt at most once.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobs_api.hpp"
#include "core/protocol.hpp"

namespace hearth {

inline constexpr std::size_t k_max_work_body = 64 * 1024 * 1024;  // logs travel inline

struct AttemptKey {
    std::string job;
    std::uint64_t task = 0;
    std::uint32_t attempt = 1;
    auto operator<=>(const AttemptKey&) const = default;
};

struct AttemptResult {
    AttemptKey key;
    std::string node;
    AttemptStatus status = AttemptStatus::ok;  // core/protocol.hpp
    std::int32_t exit_code = 0;
    std::uint64_t wall_ms = 0;
    std::string reason;
    std::string log;                // capped by the worker (1 MiB)
    std::vector<BlobRef> outputs;   // already uploaded: PUT /v1/blobs/SHA256
    EnergyState energy_state = EnergyState::unknown;
    std::uint64_t energy_uj = 0;
    bool overridden = false;
};

struct NodeReport {
    std::string node;      // the grid file's node name
    std::string host;
    // Slots are cores: a task of N cores holds N (core/sched_policy).
    std::uint32_t slots = 0;    // the node's cores (its grid file slots)
    std::uint32_t running = 0;  // cores held by attempts there now, every job's
    std::uint32_t want =
        0;            // cores the site would fill there now (the most granted there; 0: none)
    HeatReport heat;  // known=false: no agent with heat control; allowed in cores
    // Cores of granted work the site would keep queued there beyond what the
    // heat budget lets run, so that a freed core starts its next task at once
    // (core/prefetch); 0: none (a site older than prefetch).
    std::uint32_t prefetch = 0;
    bool up = true;
    std::uint64_t mem_available = 0;  // bytes, /proc/meminfo MemAvailable; 0: not reported
    std::uint64_t mem_total = 0;      // bytes, MemTotal; 0: not reported
    std::optional<std::uint32_t> gpus;  // the GPUs its worker hands out; unset: not reported
};

struct WorkRequest {
    std::string site;
    std::string run;  // this incarnation of the site's mpirun (changes on relaunch)
    std::vector<NodeReport> nodes;
    std::vector<AttemptResult> results;
    // Attempts queued or running at the site now, and finished ones whose
    // result this request does not carry: an attempt granted to the site that
    // is neither held nor reported is requeued as lost (the reply granting it
    // never arrived, or the site relaunched without it).
    std::vector<AttemptKey> held;
    std::vector<AttemptKey> lost;  // attempts that died with a node: requeue, not a failure
};

// A job's settings a worker needs, sent with the first attempt of that job
// a site receives (and again whenever the site asks with `run` changed).
struct JobRuntime {
    std::string job;
    std::string tenant;
    std::uint64_t timeout_ms = 0;
    std::vector<std::string> collect;
    std::vector<BlobRef> stage;  // the site fetches each blob once: GET /v1/blobs/SHA256
    bool urgent = false;
    std::vector<std::string> env;  // NAME=VALUE, added to each task's environment
    std::uint32_t cores_per_task = 1;  // cores each task holds (bound to them)
    std::uint64_t mem_per_task = 0;    // bytes each task is limited to; 0 = none
    std::uint32_t gpus_per_task = 0;   // GPUs each task is given; 0 = none
};

struct TaskGrant {
    AttemptKey key;
    std::string node;  // where the policy placed it
    std::vector<std::string> argv;
    bool overridden = false;  // past the node's heat budget (deadline, urgent)
    std::string first, last;  // the task's first and last items (HEARTH_FIRST, HEARTH_LAST)
};

struct WorkReply {
    std::int64_t lease_ms = 0;  // ask again well within this, or what the site holds is requeued
    std::vector<JobRuntime> jobs;
    std::vector<TaskGrant> tasks;
    std::vector<AttemptKey> cancel;  // stop these (their job was cancelled or is done)
    std::uint32_t acked = 0;         // results of the request now recorded
};

nlohmann::json to_json(const AttemptKey&);
AttemptKey attempt_key_from_json(const nlohmann::json&);
nlohmann::json to_json(const AttemptResult&);
AttemptResult attempt_result_from_json(const nlohmann::json&);
nlohmann::json to_json(const NodeReport&);
NodeReport node_report_from_json(const nlohmann::json&);
nlohmann::json to_json(const WorkRequest&);
WorkRequest work_request_from_json(const nlohmann::json&);
nlohmann::json to_json(const JobRuntime&);
JobRuntime job_runtime_from_json(const nlohmann::json&);
nlohmann::json to_json(const TaskGrant&);
TaskGrant task_grant_from_json(const nlohmann::json&);
nlohmann::json to_json(const WorkReply&);
// The same text as to_json(r).dump(), written straight into a string: the
// scheduler answers every site request with one, and building the JSON tree
// of a thousand grants cost more than the grants (bench/sched.sh).
std::string work_reply_text(const WorkReply& r);
WorkReply work_reply_from_json(const nlohmann::json&);

}  // namespace hearth
