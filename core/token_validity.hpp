#pragma once
// Whether a token of the tokens file is in force at a given time: the one
// rule the agents, the scheduler and `hearth token` apply. Pure: the time is
// a parameter, so tests need no clock.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth.hpp"

namespace hearth {

enum class TokenState { valid, expired, revoked };
const char* to_string(TokenState s);  // "valid", "expired", "revoked"

// A token's state at now_ms (Unix ms). A revocation wins over an expiry: the
// operator's act is the reason worth naming. expires_ms and revoked_ms of 0
// mean never.
TokenState token_state(const Role& who, std::int64_t now_ms);

// 401 naming the reason and the fix when `who` is a token that is not in
// force at now_ms; allowed() otherwise (and for nullopt: no token is the
// policy's business, not this rule's).
Decision token_in_force(const std::optional<Role>& who, std::int64_t now_ms);

// --expires as people give it: a duration from now ("30d", "12h") or a UTC
// time (core/utc_time's forms). Unix ms; usage_error when it is unreadable or
// not after now_ms.
std::int64_t parse_token_expiry(std::string_view text, std::int64_t now_ms);

}  // namespace hearth
