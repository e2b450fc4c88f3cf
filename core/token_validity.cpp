#include "token_validity.hpp"

#include "duration.hpp"
#include "error.hpp"
#include "utc_time.hpp"

namespace hearth {

const char* to_string(TokenState s) {
    switch (s) {
        case TokenState::valid:
            return "valid";
        case TokenState::expired:
            return "expired";
        case TokenState::revoked:
            return "revoked";
    }
    return "?";
}

TokenState token_state(const Role& who, std::int64_t now_ms) {
    if (who.revoked_ms != 0 && who.revoked_ms <= now_ms) return TokenState::revoked;
    if (who.expires_ms != 0 && who.expires_ms <= now_ms) return TokenState::expired;
    return TokenState::valid;
}

Decision token_in_force(const std::optional<Role>& who, std::int64_t now_ms) {
    if (!who) return {};
    switch (token_state(*who, now_ms)) {
        case TokenState::valid:
            return {};
        case TokenState::revoked:
            return {401, "the token was revoked at " + format_utc(who->revoked_ms / 1000) +
                             "; ask the operator for a new one ('hearth token new')"};
        case TokenState::expired:
            return {401, "the token expired at " + format_utc(who->expires_ms / 1000) +
                             "; ask the operator for a new one ('hearth token new --expires ...')"};
    }
    return {401, "the token is not in force"};
}

std::int64_t parse_token_expiry(std::string_view text, std::int64_t now_ms) {
    std::int64_t at = 0;
    if (auto utc = try_parse_utc_ms(text)) {
        at = *utc;
    } else {
        try {
            at = now_ms + parse_duration(text).count();
        } catch (const Error&) {
            throw usage_error("--expires '" + std::string(text) +
                              "' is neither a duration nor a UTC time; write e.g. 30d, 12h or "
                              "2027-01-04T06:00:00Z");
        }
    }
    if (at <= now_ms)
        throw usage_error("--expires " + std::string(text) + " is not in the future (now is " +
                          format_utc(now_ms / 1000) +
                          "); give a later time or a duration such as 30d");
    return at;
}

}  // namespace hearth
