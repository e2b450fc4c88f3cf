#pragma once
// The grid-agent's registration socket (hearth-api(7), REGISTRATION SOCKET):
// one JSON object a line each way, a request from the node's worker and the
// agent's reply. Each op and each reply has one type here with its JSON, and
// both ends use them: the agent (grid-agent/socket_server) parses a request
// and writes a reply; the worker (runner/clients/agent_client) writes a
// request and parses the reply, once. Pure functions over text, fuzzed
// (tests/fuzz/fuzz_agent_socket).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <variant>

namespace hearth {

// ---- requests ---------------------------------------------------------
struct RegisterOp {
    std::string tenant, job;  // safe names (is_safe_name)
    std::int64_t task = 0;
    std::uint32_t attempt = 0;
    pid_t pid = 0;
    unsigned cores = 1;
    std::vector<unsigned> gpus;  // the GPUs the task was given (NVML indices), distinct
    friend bool operator==(const RegisterOp&, const RegisterOp&) = default;
};
struct UnregisterOp {
    std::uint64_t id = 0;               // used when no attempt is named
    std::optional<double> cpu_s;        // finite, >= 0
    std::optional<RegisterOp> attempt;  // tenant/job/task/attempt named (pid unused)
    friend bool operator==(const UnregisterOp&, const UnregisterOp&) = default;
};
struct BudgetOp {
    friend bool operator==(const BudgetOp&, const BudgetOp&) = default;
};
struct PingOp {
    friend bool operator==(const PingOp&, const PingOp&) = default;
};
using SocketOp = std::variant<RegisterOp, UnregisterOp, BudgetOp, PingOp>;

// One request line (no newline), checked: every refusal is a usage_error
// naming the field and the fix.
SocketOp parse_socket_op(const std::string& line);
// The line for op (no newline); parse_socket_op reads it back equal.
std::string socket_op_line(const SocketOp& op);

// ---- replies ----------------------------------------------------------
struct RegisterReply {
    std::uint64_t id = 0;  // the same for the same attempt and pid
    friend bool operator==(const RegisterReply&, const RegisterReply&) = default;
};
struct UnregisterReply {
    std::uint64_t energy_uj = 0;
    bool estimated = false;
    bool from_ledger = false;  // the attempt was no longer registered: the ledger's charge
    friend bool operator==(const UnregisterReply&, const UnregisterReply&) = default;
};
struct BudgetReply {
    bool heat = false;  // false: no heat control, every slot may be filled
    std::uint32_t slots = 0, slots_total = 0;
    std::string mode;  // a HeatMode's name, or "drain"; "stop": hand tasks back
    double fraction = 0;
    double waste = 0;  // K above the bottom of the band
    friend bool operator==(const BudgetReply&, const BudgetReply&) = default;
};
struct PingReply {
    std::string node;
    unsigned gpus = 0;  // GPUs its energy source reads (NVML); absent from older agents: 0
    friend bool operator==(const PingReply&, const PingReply&) = default;
};
struct ErrorReply {
    std::string error;  // the refusal, one line
    friend bool operator==(const ErrorReply&, const ErrorReply&) = default;
};
using SocketReply =
    std::variant<RegisterReply, UnregisterReply, BudgetReply, PingReply, ErrorReply>;

// The reply line (no newline): {"ok":true,...} or {"ok":false,"error":...}.
std::string socket_reply_line(const SocketReply& reply);
// Reads the agent's reply to `asked`: the reply type of that op, or an
// ErrorReply. A usage_error when it is not such a reply (a broken agent).
// Fields it does not know are ignored: a newer agent may add some.
SocketReply parse_socket_reply(const std::string& line, const SocketOp& asked);

}  // namespace hearth
