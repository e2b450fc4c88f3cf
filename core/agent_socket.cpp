#include "agent_socket.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "jobspec.hpp"
#include "json_checks.hpp"
#include "json_fields.hpp"

namespace hearth {
namespace {

using json_checks::finite_number;
using json_checks::safe_string;
using json_checks::whole;
using nlohmann::json;

void put_attempt(json& j, const RegisterOp& r) {
    j["tenant"] = r.tenant;
    j["job"] = r.job;
    j["task"] = r.task;
    j["attempt"] = r.attempt;
}

// Replies are a few hundred bytes; an agent sending more is broken.
constexpr std::size_t k_max_reply_bytes = 64 * 1024;

}  // namespace

SocketOp parse_socket_op(const std::string& line) {
    json j;
    try {
        j = json::parse(line);
    } catch (const json::exception&) {
        throw usage_error("not JSON: send one JSON object a line");
    }
    if (!j.is_object()) throw usage_error("send one JSON object a line");
    if (!j.contains("op") || !j["op"].is_string())
        throw usage_error("missing 'op'; use register, unregister, budget or ping");
    const std::string op = j["op"].get<std::string>();
    auto attempt_key = [&](RegisterOp& r) {
        r.tenant = safe_string(j, "tenant", "the tenant");
        r.job = safe_string(j, "job", "the job id");
        r.task = whole<std::int64_t>(j, "task", 0, std::numeric_limits<std::int64_t>::max(),
                                     "task index");
        r.attempt = whole<std::uint32_t>(j, "attempt", 0, std::numeric_limits<std::uint32_t>::max(),
                                         "attempt");
    };
    if (op == "register") {
        RegisterOp r;
        if (!j.contains("tenant") || !j.contains("job"))
            throw usage_error("register needs tenant, job, task, attempt and pid");
        attempt_key(r);
        r.pid = whole<pid_t>(j, "pid", 1, std::numeric_limits<pid_t>::max(), "the task's pid");
        if (j.contains("cores"))
            r.cores = whole<unsigned>(j, "cores", 1, 4096, "cores the task may use");
        if (j.contains("gpus")) {
            const json& g = j["gpus"];
            const char* fix = "'gpus' must be a list of distinct GPU indices, such as [0, 1]";
            if (!g.is_array() || g.size() > 1024) throw usage_error(fix);
            for (const json& x : g) {
                if (!x.is_number_integer() || x.get<std::int64_t>() < 0 ||
                    x.get<std::int64_t>() > 1023)
                    throw usage_error(fix);
                const auto i = static_cast<unsigned>(x.get<std::int64_t>());
                if (std::find(r.gpus.begin(), r.gpus.end(), i) != r.gpus.end())
                    throw usage_error(fix);
                r.gpus.push_back(i);
            }
        }
        return r;
    }
    if (op == "unregister") {
        UnregisterOp u;
        // The attempt named (tenant, job, task, attempt) wins over the id:
        // ids do not outlive a lost ledger.
        if (j.contains("job")) {
            RegisterOp r;
            attempt_key(r);
            u.attempt = r;
        }
        if (!u.attempt || j.contains("id"))
            u.id = whole<std::uint64_t>(j, "id", 0, std::numeric_limits<std::uint64_t>::max(),
                                        "the registration id");
        if (j.contains("cpu_s")) {
            u.cpu_s = finite_number(j, "cpu_s", "CPU seconds");
            if (*u.cpu_s < 0) throw usage_error("'cpu_s' must not be negative");
        }
        return u;
    }
    if (op == "budget") return BudgetOp{};
    if (op == "ping") return PingOp{};
    throw usage_error("unknown op '" + op.substr(0, 32) +
                      "'; use register, unregister, budget or ping");
}

std::string socket_op_line(const SocketOp& op) {
    json j;
    if (const auto* r = std::get_if<RegisterOp>(&op)) {
        j["op"] = "register";
        put_attempt(j, *r);
        j["pid"] = r->pid;
        j["cores"] = r->cores;
        if (!r->gpus.empty()) j["gpus"] = r->gpus;
    } else if (const auto* u = std::get_if<UnregisterOp>(&op)) {
        j["op"] = "unregister";
        // The id, and the attempt too when known: an agent that no longer
        // knows the id answers with what its ledger charged the attempt.
        j["id"] = u->id;
        if (u->attempt) put_attempt(j, *u->attempt);
        if (u->cpu_s) j["cpu_s"] = *u->cpu_s;
    } else if (std::holds_alternative<BudgetOp>(op)) {
        j["op"] = "budget";
    } else {
        j["op"] = "ping";
    }
    return j.dump();
}

std::string socket_reply_line(const SocketReply& reply) {
    json j;
    if (const auto* e = std::get_if<ErrorReply>(&reply)) {
        j["ok"] = false;
        j["error"] = e->error;
        return j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    j["ok"] = true;
    if (const auto* r = std::get_if<RegisterReply>(&reply)) {
        j["id"] = r->id;
    } else if (const auto* u = std::get_if<UnregisterReply>(&reply)) {
        j["energy_uj"] = u->energy_uj;
        j["estimated"] = u->estimated;
        if (u->from_ledger) j["from_ledger"] = true;
    } else if (const auto* b = std::get_if<BudgetReply>(&reply)) {
        j["heat"] = b->heat;
        if (b->heat) {
            j["slots"] = b->slots;
            j["slots_total"] = b->slots_total;
            j["mode"] = b->mode;
            j["fraction"] = b->fraction;
            j["waste"] = b->waste;
        }
    } else if (const auto* p = std::get_if<PingReply>(&reply)) {
        j["node"] = p->node;
        j["gpus"] = p->gpus;
    }
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

SocketReply parse_socket_reply(const std::string& line, const SocketOp& asked) {
    const json j = parse_json_object(line, "grid-agent reply", k_max_reply_bytes);
    const JsonFields f(j, "grid-agent reply");
    if (!f.flag("ok", false)) return ErrorReply{f.str("error", "refused, no reason given")};
    if (std::holds_alternative<RegisterOp>(asked))
        return RegisterReply{f.u64("id", 0, std::numeric_limits<std::uint64_t>::max())};
    if (std::holds_alternative<UnregisterOp>(asked)) {
        UnregisterReply u;
        u.energy_uj = f.u64("energy_uj", 0, std::numeric_limits<std::uint64_t>::max());
        u.estimated = f.flag("estimated", false);
        u.from_ledger = f.flag("from_ledger", false);
        return u;
    }
    if (std::holds_alternative<BudgetOp>(asked)) {
        BudgetReply b;
        // An older agent answers without "heat": it has no heat control.
        b.heat = f.flag("heat", false);
        if (!b.heat) return b;
        constexpr std::uint64_t k_max_slots = std::numeric_limits<std::uint32_t>::max();
        b.slots = static_cast<std::uint32_t>(f.u64("slots", 0, k_max_slots));
        b.slots_total = static_cast<std::uint32_t>(f.u64("slots_total", 0, k_max_slots));
        b.mode = f.str("mode", "");
        b.fraction = f.num("fraction", 0, 1e6, 0);
        b.waste = f.num("waste", -1e6, 1e6, 0);
        return b;
    }
    return PingReply{f.str("node"), static_cast<unsigned>(f.u64("gpus", 0, k_max_node_gpus, 0))};
}

}  // namespace hearth
