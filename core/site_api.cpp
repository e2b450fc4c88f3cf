#include "core/site_api.hpp"

#include "core/task_env.hpp"

#include "core/error.hpp"
#include "core/json_fields.hpp"

namespace hearth {

using nlohmann::json;

namespace {

constexpr std::size_t k_max_list = 1 << 20;  // attempts in one request or reply
constexpr std::size_t k_max_log = 4 << 20;

template <class T, class F>
json array_of(const std::vector<T>& v, F&& f) {
    json a = json::array();
    for (const auto& x : v) a.push_back(f(x));
    return a;
}

AttemptStatus parse_status(std::uint64_t v) {
    if (v > static_cast<std::uint64_t>(AttemptStatus::cancelled))
        throw usage_error("'status' must be an attempt status from 0 to 6 (hearth-api(7))");
    return static_cast<AttemptStatus>(v);
}

}  // namespace

json to_json(const AttemptKey& k) { return {{"job", k.job}, {"task", k.task}, {"attempt", k.attempt}}; }

AttemptKey attempt_key_from_json(const json& j) {
    JsonFields f(j, "attempt");
    AttemptKey k;
    k.job = f.name("job");
    k.task = f.u64("task", 0, std::uint64_t{1} << 62);
    k.attempt = static_cast<std::uint32_t>(f.u64("attempt", 1, 1u << 20));
    f.done();
    return k;
}

json to_json(const AttemptResult& r) {
    json j = to_json(r.key);
    j["node"] = r.node;
    j["status"] = static_cast<int>(r.status);
    j["exit"] = r.exit_code;
    j["wall_ms"] = r.wall_ms;
    j["reason"] = r.reason;
    j["log"] = r.log;
    j["outputs"] = array_of(r.outputs, [](const BlobRef& b) { return to_json(b); });
    j["energy_state"] = static_cast<int>(r.energy_state);
    j["energy_uj"] = r.energy_uj;
    j["overridden"] = r.overridden;
    return j;
}

AttemptResult attempt_result_from_json(const json& j) {
    JsonFields f(j, "attempt result");
    AttemptResult r;
    r.key.job = f.name("job");
    r.key.task = f.u64("task", 0, std::uint64_t{1} << 62);
    r.key.attempt = static_cast<std::uint32_t>(f.u64("attempt", 1, 1u << 20));
    r.node = f.str("node", "");
    r.status = parse_status(f.u64("status", 0, 255));
    r.exit_code = static_cast<std::int32_t>(f.i64("exit", INT32_MIN, INT32_MAX, 0));
    r.wall_ms = f.u64("wall_ms", 0, std::uint64_t{1} << 50, 0);
    r.reason = f.str("reason", "");
    r.log = f.str("log", "");
    if (r.log.size() > k_max_log) throw usage_error("'log' of an attempt result is over 4 MiB");
    for (const auto& o : f.objects("outputs", 1 << 16)) r.outputs.push_back(blob_ref_from_json(o, true));
    const auto es = f.u64("energy_state", 0, 2, 0);
    r.energy_state = static_cast<EnergyState>(es);
    r.energy_uj = f.u64("energy_uj", 0, UINT64_MAX, 0);
    r.overridden = f.flag("overridden", false);
    f.done();
    return r;
}

json to_json(const NodeReport& n) {
    json j{{"node", n.node},
           {"host", n.host},
           {"slots", n.slots},
           {"running", n.running},
           {"want", n.want},
           {"up", n.up},
           {"heat",
            {{"known", n.heat.known},
             {"allowed", n.heat.allowed},
             {"slots", n.heat.slots},
             {"waste_mk", n.heat.waste_mk}}}};
    // Only when known: a scheduler older than them refuses unknown fields.
    if (n.mem_total > 0) {
        j["mem_available"] = n.mem_available;
        j["mem_total"] = n.mem_total;
    }
    if (n.prefetch > 0) j["prefetch"] = n.prefetch;
    if (n.gpus) j["gpus"] = *n.gpus;
    return j;
}

NodeReport node_report_from_json(const json& j) {
    JsonFields f(j, "node report");
    NodeReport n;
    n.node = f.name("node");
    n.host = f.str("host", "");
    n.slots = static_cast<std::uint32_t>(f.u64("slots", 0, 1 << 16));
    n.running = static_cast<std::uint32_t>(f.u64("running", 0, 1 << 20, 0));
    n.want = static_cast<std::uint32_t>(f.u64("want", 0, 1 << 20, 0));
    n.prefetch = static_cast<std::uint32_t>(f.u64("prefetch", 0, 1 << 20, 0));
    n.up = f.flag("up", true);
    n.mem_available = f.u64("mem_available", 0, k_max_mem_per_task, 0);
    n.mem_total = f.u64("mem_total", 0, k_max_mem_per_task, 0);
    if (f.has("gpus")) n.gpus = static_cast<std::uint32_t>(f.u64("gpus", 0, k_max_node_gpus));
    if (f.has("heat")) {
        JsonFields h(f.raw("heat"), "node report's heat");
        n.heat.known = h.flag("known", false);
        n.heat.allowed = static_cast<std::uint32_t>(h.u64("allowed", 0, 1 << 16, 0));
        n.heat.slots = static_cast<std::uint32_t>(h.u64("slots", 0, 1 << 16, 0));
        n.heat.waste_mk = h.i64("waste_mk", -1'000'000'000, 1'000'000'000, 0);
        h.done();
    }
    f.done();
    return n;
}

json to_json(const WorkRequest& r) {
    return {{"site", r.site},
            {"run", r.run},
            {"nodes", array_of(r.nodes, [](const NodeReport& n) { return to_json(n); })},
            {"results", array_of(r.results, [](const AttemptResult& x) { return to_json(x); })},
            {"held", array_of(r.held, [](const AttemptKey& k) { return to_json(k); })},
            {"lost", array_of(r.lost, [](const AttemptKey& k) { return to_json(k); })}};
}

WorkRequest work_request_from_json(const json& j) {
    JsonFields f(j, "work request");
    WorkRequest r;
    r.site = f.name("site");
    r.run = f.str("run", "");
    if (r.run.size() > 128) throw usage_error("'run' of the work request is over 128 bytes");
    for (const auto& n : f.objects("nodes", 1 << 16)) r.nodes.push_back(node_report_from_json(n));
    for (const auto& x : f.objects("results", k_max_list)) r.results.push_back(attempt_result_from_json(x));
    for (const auto& k : f.objects("held", k_max_list)) r.held.push_back(attempt_key_from_json(k));
    for (const auto& k : f.objects("lost", k_max_list)) r.lost.push_back(attempt_key_from_json(k));
    f.done();
    return r;
}

json to_json(const JobRuntime& r) {
    json j{{"job", r.job},
           {"tenant", r.tenant},
           {"timeout_ms", r.timeout_ms},
           {"collect", r.collect},
           {"stage", array_of(r.stage, [](const BlobRef& b) { return to_json(b); })},
           {"urgent", r.urgent},
           {"env", r.env}};
    // Only when not the default: a site older than them refuses unknown fields.
    if (r.cores_per_task != 1) j["cores_per_task"] = r.cores_per_task;
    if (r.mem_per_task != 0) j["mem_per_task"] = r.mem_per_task;
    if (r.gpus_per_task != 0) j["gpus_per_task"] = r.gpus_per_task;
    return j;
}

JobRuntime job_runtime_from_json(const json& j) {
    JsonFields f(j, "job settings");
    JobRuntime r;
    r.job = f.name("job");
    r.tenant = f.name("tenant");
    r.timeout_ms = f.u64("timeout_ms", 0, std::uint64_t{1} << 50, 0);
    r.collect = f.strs("collect", k_max_collect, 4096);
    for (const auto& b : f.objects("stage", k_max_staged)) r.stage.push_back(blob_ref_from_json(b));
    r.urgent = f.flag("urgent", false);
    r.env = f.strs("env", k_max_env_entries, k_max_env_bytes);
    check_env_list(r.env, "'env' of job " + r.job);
    r.cores_per_task =
        static_cast<std::uint32_t>(f.u64("cores_per_task", 1, k_max_cores_per_task, 1));
    r.mem_per_task = f.u64("mem_per_task", 0, k_max_mem_per_task, 0);
    r.gpus_per_task = static_cast<std::uint32_t>(f.u64("gpus_per_task", 0, k_max_gpus_per_task, 0));
    f.done();
    return r;
}

json to_json(const TaskGrant& g) {
    json j = to_json(g.key);
    j["node"] = g.node;
    j["argv"] = g.argv;
    j["overridden"] = g.overridden;
    j["first"] = g.first;
    j["last"] = g.last;
    return j;
}

TaskGrant task_grant_from_json(const json& j) {
    JsonFields f(j, "task grant");
    TaskGrant g;
    g.key.job = f.name("job");
    g.key.task = f.u64("task", 0, std::uint64_t{1} << 62);
    g.key.attempt = static_cast<std::uint32_t>(f.u64("attempt", 1, 1u << 20));
    g.node = f.name("node");
    g.argv = f.strs("argv", k_max_command_words, k_max_word_bytes);
    if (g.argv.empty()) throw usage_error("'argv' of a task grant is empty");
    g.overridden = f.flag("overridden", false);
    g.first = f.str("first", "");
    g.last = f.str("last", "");
    f.done();
    return g;
}

json to_json(const WorkReply& r) {
    return {{"lease_ms", r.lease_ms},
            {"jobs", array_of(r.jobs, [](const JobRuntime& x) { return to_json(x); })},
            {"tasks", array_of(r.tasks, [](const TaskGrant& g) { return to_json(g); })},
            {"cancel", array_of(r.cancel, [](const AttemptKey& k) { return to_json(k); })},
            {"acked", r.acked}};
}

namespace {

// Appends s as a JSON string, as nlohmann's dump() writes it: plain ASCII
// as is; anything else (escapes, UTF-8, which dump() also checks) by dump().
void put_string(std::string& out, const std::string& s) {
    bool plain = true;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        plain = plain && u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
    }
    if (!plain) {
        out += json(s).dump();
        return;
    }
    out += '"';
    out += s;
    out += '"';
}

// Objects' keys in the order dump() writes them: sorted (std::map).
void put_key(std::string& out, const AttemptKey& k) {
    out += "\"attempt\":";
    out += std::to_string(k.attempt);
    out += ",\"job\":";
    put_string(out, k.job);
    out += ",\"task\":";
    out += std::to_string(k.task);
}

}  // namespace

std::string work_reply_text(const WorkReply& r) {
    std::string out;
    out.reserve(128 + r.tasks.size() * 96);
    out += "{\"acked\":";
    out += std::to_string(r.acked);
    out += ",\"cancel\":[";
    for (std::size_t i = 0; i < r.cancel.size(); ++i) {
        out += i ? ",{" : "{";
        put_key(out, r.cancel[i]);
        out += '}';
    }
    out += "],\"jobs\":[";
    for (std::size_t i = 0; i < r.jobs.size(); ++i) {
        if (i) out += ',';
        out += to_json(r.jobs[i]).dump();  // a few a reply, once per job and site run
    }
    out += "],\"lease_ms\":";
    out += std::to_string(r.lease_ms);
    out += ",\"tasks\":[";
    for (std::size_t i = 0; i < r.tasks.size(); ++i) {
        const TaskGrant& g = r.tasks[i];
        out += i ? ",{\"argv\":[" : "{\"argv\":[";
        for (std::size_t a = 0; a < g.argv.size(); ++a) {
            if (a) out += ',';
            put_string(out, g.argv[a]);
        }
        out += "],\"attempt\":";
        out += std::to_string(g.key.attempt);
        out += ",\"first\":";
        put_string(out, g.first);
        out += ",\"job\":";
        put_string(out, g.key.job);
        out += ",\"last\":";
        put_string(out, g.last);
        out += ",\"node\":";
        put_string(out, g.node);
        out += g.overridden ? ",\"overridden\":true,\"task\":" : ",\"overridden\":false,\"task\":";
        out += std::to_string(g.key.task);
        out += '}';
    }
    out += "]}";
    return out;
}

WorkReply work_reply_from_json(const json& j) {
    JsonFields f(j, "work reply");
    WorkReply r;
    r.lease_ms = f.i64("lease_ms", 0, std::int64_t{1} << 40);
    for (const auto& x : f.objects("jobs", 1 << 16)) r.jobs.push_back(job_runtime_from_json(x));
    for (const auto& x : f.objects("tasks", k_max_list)) r.tasks.push_back(task_grant_from_json(x));
    for (const auto& x : f.objects("cancel", k_max_list)) r.cancel.push_back(attempt_key_from_json(x));
    r.acked = static_cast<std::uint32_t>(f.u64("acked", 0, UINT32_MAX, 0));
    f.done();
    return r;
}

}  // namespace hearth
