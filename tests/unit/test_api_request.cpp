#include <boost/test/unit_test.hpp>

#include <string>
#include <variant>

#include "core/api_request.hpp"
#include "core/error.hpp"
#include "tests/unit/support.hpp"

using hearth::test::usage_mentioning;

BOOST_AUTO_TEST_SUITE(api_request)

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

BOOST_AUTO_TEST_SUITE_END()
