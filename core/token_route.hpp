#pragma once
// Where a caller's bearer token may be sent on: over HTTPS, or over plain
// HTTP to a loopback address only (hearth-api(7) SECURITY MODEL). Anything
// else would put the token on a network in clear text. Pure.
#include <string>

namespace hearth {

// The host of an http(s) URL ("http://[::1]:9750/v1" -> "::1"); "" when
// the URL is neither.
std::string url_host_of(const std::string& url);

// Why a token must not be sent to url, one line naming the fix; "" when it may.
std::string token_refusal(const std::string& url);

}  // namespace hearth
