// The registration socket's lines (core/agent_socket), both ways: a request
// as the agent reads it (parse_socket_op) and a reply as the worker reads it
// (parse_socket_reply). Input: the first byte picks a request, or a reply
// to one of the four ops; the rest is the line. What parses must be what the
// other end may act on, and must write back to a line that reads the same:
// the two ends share one definition, so a field lost or changed on the way
// is a finding.
#include <cmath>
#include <variant>

#include "core/agent_socket.hpp"
#include "core/grid.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

namespace {

void check_attempt(const RegisterOp& r) {
    FUZZ_CHECK(is_safe_name(r.tenant) && is_safe_name(r.job));
    FUZZ_CHECK(r.task >= 0);
}

void check(const SocketOp& op) {
    if (const auto* r = std::get_if<RegisterOp>(&op)) {
        check_attempt(*r);
        FUZZ_CHECK(r->pid >= 1);  // kill(2) reads 0 and below as process groups
        FUZZ_CHECK(r->cores >= 1 && r->cores <= 4096);
    } else if (const auto* u = std::get_if<UnregisterOp>(&op)) {
        if (u->attempt) check_attempt(*u->attempt);
        if (u->cpu_s) FUZZ_CHECK(std::isfinite(*u->cpu_s) && *u->cpu_s >= 0);
    }
    const SocketOp again = parse_socket_op(socket_op_line(op));
    FUZZ_CHECK(again == op);
}

void check(const SocketReply& reply, const SocketOp& asked) {
    // The reply type of the op asked, or a refusal.
    if (!std::holds_alternative<ErrorReply>(reply)) FUZZ_CHECK(reply.index() == asked.index());
    if (const auto* b = std::get_if<BudgetReply>(&reply)) {
        FUZZ_CHECK(std::isfinite(b->fraction) && std::isfinite(b->waste));
        if (!b->heat) FUZZ_CHECK(b->slots == 0 && b->slots_total == 0 && b->mode.empty());
    }
    const SocketReply again = parse_socket_reply(socket_reply_line(reply), asked);
    FUZZ_CHECK(again == reply);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string line = fuzz::text(data + 1, size - 1);
    static const SocketOp k_asked[] = {RegisterOp{}, UnregisterOp{}, BudgetOp{}, PingOp{}};
    const unsigned pick = data[0] % 5;
    if (pick == 4) {
        if (auto op = fuzz::parsed([&] { return parse_socket_op(line); })) check(*op);
    } else {
        const SocketOp& asked = k_asked[pick];
        if (auto r = fuzz::parsed([&] { return parse_socket_reply(line, asked); }))
            check(*r, asked);
    }
    return 0;
}
