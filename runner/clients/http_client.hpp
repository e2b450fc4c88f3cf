#pragma once
// The commands' HTTP calls (core/http_get underneath), shared by those that talk
// to grid-agents (hearth energy --agent, hearth heat) and to the scheduler
// (hearth submit, jobs, fetch, ...). It reports a transport
// failure as data, not an exception: each caller knows which agent it asked
// and what the user should do about it.
#include <optional>
#include <string>

namespace hearth {

class HttpConnections;  // core/http_get: connections kept open between calls

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
// connections: given, the connection stays open for the next call naming it.
HttpReply http_request(const std::string& url, const std::optional<std::string>& json_body,
                       long timeout_ms,
                       const std::optional<std::string>& authorization = std::nullopt,
                       HttpConnections* connections = nullptr);

// Streams the file at path as the body of a PUT (application/octet-stream),
// with the same token, CA and timeout rules as http_request. Throws
// usage_error when the file cannot be read.
HttpReply http_put_file(const std::string& url, const std::string& path, long timeout_ms,
                        HttpConnections* connections = nullptr);

// GETs url into the file at path (created or truncated) when the answer is
// 200; any other answer's body is in the reply, as http_request gives it.
// Throws Error when the file cannot be written.
HttpReply http_get_file(const std::string& url, const std::string& path, long timeout_ms,
                        HttpConnections* connections = nullptr);

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string url_escape(const std::string& s);

}  // namespace hearth
