#pragma once
// One HTTP(S) GET through libcurl, bounded in time and size: the client the
// plugins share (the heat sources' feeds, the Redfish BMC). One easy handle
// per GET: a poll every second or more gains nothing from connection reuse,
// and a fresh handle carries no state from a failed request into the next.
#include <cstddef>
#include <string>

namespace hearth {

struct HttpGetOptions {
    double timeout_s = 5;             // NaN or <= 0: 1 ms, never "no timeout"
    std::size_t max_bytes = 1 << 20;  // a bigger answer is an error, never buffered
    std::string ca;                   // PEM CA file to verify the server with ("" = the system's)
    std::string userpwd;              // user:password for basic authentication ("" = none)
    bool https_only = false;          // refuse http:// (credentials must not cross in clear)
    bool follow_redirects = false;    // up to 5, http(s) only; off where credentials are sent
};

struct HttpGetResult {
    long status = 0;  // 0: no answer (error says why)
    std::string content_type, body;
    std::string error;     // one line: libcurl's words, or the size limit
    bool too_big = false;  // the answer passed max_bytes
};

// libcurl's global set-up, which is not thread-safe everywhere: call it
// before threads start (the plugins' factories do). Throws Error if libcurl
// cannot start. http_get calls it too.
void http_get_init();

HttpGetResult http_get(const std::string& url, const HttpGetOptions& o);

}  // namespace hearth
