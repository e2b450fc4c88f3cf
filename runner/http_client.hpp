#pragma once
// A small blocking HTTP client over libcurl, shared by the commands that talk
// to grid-agents (hearth energy --agent, hearth heat). It reports a transport
// failure as data, not an exception: each caller knows which agent it asked
// and what the user should do about it.
#include <optional>
#include <string>

namespace hearth {

struct HttpReply {
    long status = 0;  // the HTTP status; 0 when no answer came
    std::string body;
    std::string failure;  // "" when an HTTP answer came; else libcurl's reason
    bool answered() const { return failure.empty(); }
};

// GET url, or POST json_body (Content-Type: application/json) when given.
// timeout_ms bounds the whole exchange, connecting included.
// authorization: an Authorization header value to send as it is (hearth
// dashboard passes its caller's on to the agents). Given, even empty, it
// replaces any token the client would send by default: "" sends none.
// By default the user's token is sent (credentials.hpp), and https:// is
// verified against HEARTH_CACERT when set; those two throw usage_error when
// the token file or the CA file is unusable, the one exception it throws.
HttpReply http_request(const std::string& url, const std::optional<std::string>& json_body,
                       long timeout_ms,
                       const std::optional<std::string>& authorization = std::nullopt);

// Any method and body (a site's PUT of an output's bytes, its GET of a staged
// input), with the same defaults as http_request.
struct HttpCall {
    std::string method = "GET";
    std::string url;
    std::optional<std::string> body;
    std::string content_type = "application/json";
    long timeout_ms = 5000;
    std::optional<std::string> authorization;  // as http_request's
};
HttpReply http_call(const HttpCall& call);

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string url_escape(const std::string& s);

}  // namespace hearth
