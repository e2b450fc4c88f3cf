#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/agent_socket.hpp"
#include "core/error.hpp"
#include "tests/unit/support.hpp"

using hearth::test::usage_mentioning;

// The registration socket's lines (core/agent_socket), as both ends use them.
BOOST_AUTO_TEST_SUITE(agent_socket)

// Found by tests/fuzz (corpus/api_request/socket-unregister-no-tenant): an
// unregister naming a job but no tenant threw nlohmann's out_of_range, not a
// usage error.
BOOST_AUTO_TEST_CASE(a_missing_name_is_a_usage_error) {
    BOOST_CHECK_EXCEPTION(
        hearth::parse_socket_op(R"({"op":"unregister","job":"j1","task":0,"attempt":1})"),
        hearth::Error, usage_mentioning("missing 'tenant'"));
    BOOST_CHECK_EXCEPTION(
        hearth::parse_socket_op(R"({"op":"unregister","tenant":"t","task":0,"id":3,"job":null})"),
        hearth::Error, usage_mentioning("'job' must be a string"));
}

// Found with tests/fuzz/fuzz_api_request's invariant (corpus/api_request/
// socket-register-pid0): the lower bound was checked for negative numbers
// only, so pid 0 (kill(2): the caller's process group) and 0 cores passed.
BOOST_AUTO_TEST_CASE(lower_bounds_hold_for_zero) {
    const std::string head = R"({"op":"register","tenant":"t","job":"j","task":1,"attempt":1,)";
    BOOST_CHECK_EXCEPTION(hearth::parse_socket_op(head + R"("pid":0})"), hearth::Error,
                          usage_mentioning("'pid' is out of range"));
    BOOST_CHECK_EXCEPTION(hearth::parse_socket_op(head + R"("pid":-1})"), hearth::Error,
                          usage_mentioning("'pid' is out of range"));
    BOOST_CHECK_EXCEPTION(hearth::parse_socket_op(head + R"("pid":7,"cores":0})"), hearth::Error,
                          usage_mentioning("'cores' is out of range"));
    const auto op = hearth::parse_socket_op(head + R"("pid":1,"cores":4096})");
    const auto* reg = std::get_if<hearth::RegisterOp>(&op);
    BOOST_TEST_REQUIRE(reg != nullptr);
    BOOST_TEST(reg->pid == 1);
    BOOST_TEST(reg->cores == 4096u);
    // Task and attempt may be 0.
    BOOST_CHECK_NO_THROW(hearth::parse_socket_op(
        R"({"op":"register","tenant":"t","job":"j","task":0,"attempt":0,"pid":5})"));
}

// What the worker writes is what the agent reads: every op round-trips.
BOOST_AUTO_TEST_CASE(every_op_reads_back_as_written) {
    hearth::RegisterOp reg;
    reg.tenant = "bank";
    reg.job = "j1";
    reg.task = 7;
    reg.attempt = 2;
    reg.pid = 4242;
    reg.cores = 3;
    hearth::UnregisterOp by_id;
    by_id.id = 9;
    by_id.cpu_s = 1.5;
    hearth::UnregisterOp by_attempt;
    by_attempt.id = 9;
    by_attempt.attempt = reg;
    by_attempt.attempt->pid = 0;  // not sent for an unregister
    by_attempt.attempt->cores = 1;
    for (const hearth::SocketOp& op : std::vector<hearth::SocketOp>{
             reg, by_id, by_attempt, hearth::BudgetOp{}, hearth::PingOp{}}) {
        const std::string line = hearth::socket_op_line(op);
        BOOST_TEST(line.find('\n') == std::string::npos);
        BOOST_TEST((hearth::parse_socket_op(line) == op), line);
    }
}

// What the agent answers is what the worker reads, for the op it asked.
BOOST_AUTO_TEST_CASE(every_reply_reads_back_as_written) {
    const std::vector<std::pair<hearth::SocketOp, hearth::SocketReply>> cases{
        {hearth::RegisterOp{}, hearth::RegisterReply{41}},
        {hearth::UnregisterOp{}, hearth::UnregisterReply{123456789, true, true}},
        {hearth::UnregisterOp{}, hearth::UnregisterReply{5, false, false}},
        {hearth::BudgetOp{}, hearth::BudgetReply{true, 3, 8, "stop", 0.375, 1.25}},
        {hearth::BudgetOp{}, hearth::BudgetReply{}},
        {hearth::PingOp{}, hearth::PingReply{"n1"}},
        {hearth::RegisterOp{}, hearth::ErrorReply{"'pid' is out of range (the task's pid)"}},
        {hearth::BudgetOp{}, hearth::ErrorReply{"refused"}},
    };
    for (const auto& [asked, reply] : cases) {
        const std::string line = hearth::socket_reply_line(reply);
        BOOST_TEST((hearth::parse_socket_reply(line, asked) == reply), line);
    }
    // The documented shapes (hearth-api(7), REGISTRATION SOCKET).
    BOOST_TEST(hearth::socket_reply_line(hearth::RegisterReply{41}) == R"({"id":41,"ok":true})");
    BOOST_TEST(hearth::socket_reply_line(hearth::BudgetReply{}) == R"({"heat":false,"ok":true})");
    BOOST_TEST(hearth::socket_reply_line(hearth::ErrorReply{"no"}) ==
               R"({"error":"no","ok":false})");
}

// An older agent's budget reply (no "heat") means no heat control; a reply
// that is not one is refused with a usage error, not nlohmann's exception.
BOOST_AUTO_TEST_CASE(replies_from_older_or_broken_agents) {
    const auto old = hearth::parse_socket_reply(R"({"ok":true})", hearth::BudgetOp{});
    BOOST_TEST((old == hearth::SocketReply{hearth::BudgetReply{}}));
    BOOST_CHECK_EXCEPTION(hearth::parse_socket_reply("[1]", hearth::PingOp{}), hearth::Error,
                          usage_mentioning("grid-agent reply"));
    BOOST_CHECK_EXCEPTION(hearth::parse_socket_reply(R"({"ok":true})", hearth::RegisterOp{}),
                          hearth::Error, usage_mentioning("id"));
    BOOST_CHECK_EXCEPTION(
        hearth::parse_socket_reply(R"({"ok":true,"energy_uj":-1})", hearth::UnregisterOp{}),
        hearth::Error, usage_mentioning("energy_uj"));
}

BOOST_AUTO_TEST_SUITE_END()
