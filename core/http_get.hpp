#pragma once
// Hearth's one HTTP(S) client over libcurl, bounded in time and size, for
// every caller: the plugins' polled GETs (heat feeds, the Redfish BMC) through
// http_get, and the commands' calls to agents and the scheduler (runner/clients:
// tokens, JSON bodies, uploads, downloads) through http_exchange. One easy
// handle per call: a fresh handle carries no state from a failed request into
// the next. Only open connections (and TLS sessions) may be kept between the
// calls that name one HttpConnections.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hearth {

// Connections kept open between the exchanges that name this: a caller that
// talks to one server all the time (hearth site to its scheduler) pays a TCP
// and TLS handshake once per connection the server keeps alive, not once per
// request. Safe to use from several threads (libcurl's share, locked).
class HttpConnections {
public:
    HttpConnections();
    ~HttpConnections();
    HttpConnections(const HttpConnections&) = delete;
    HttpConnections& operator=(const HttpConnections&) = delete;
    void* share() const;  // the CURLSH*

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

// One request. The answer is held in memory up to max_bytes (a bigger one is
// an error, never buffered), except a 200 to a download, which streams to
// download_path unbounded.
struct HttpExchange {
    std::string url;
    std::optional<std::string> body;  // sent with POST and content_type
    std::string content_type = "application/json";
    std::string upload_path;           // PUT this file's bytes (application/octet-stream)
    std::string download_path;         // a 200's body goes to this file
    std::vector<std::string> headers;  // "Name: value" lines, checked for line breaks
    long timeout_ms = 5000;            // the whole exchange, connecting included
    std::size_t max_bytes = 1 << 20;
    std::string ca;                 // PEM CA file: verify against it alone ("" = the system's)
    std::string userpwd;            // user:password for basic authentication ("" = none)
    bool https_only = false;        // refuse http:// (credentials must not cross in clear)
    bool follow_redirects = false;  // up to 5, http(s) only; off where credentials are sent
    bool no_proxy = false;          // private networks: a proxy set for the web gets in the way
    HttpConnections* connections = nullptr;  // keep the connection open for the next call
};

struct HttpExchangeResult {
    long status = 0;  // 0: no answer (error says why)
    std::string content_type, body;
    std::string error;          // one line: libcurl's detailed words, or the size limit
    std::string curl_reason;    // libcurl's short reason for the failure ("" when answered)
    bool too_big = false;       // the answer passed max_bytes
    bool write_failed = false;  // the download file could not be written
};

// libcurl's global set-up, which is not thread-safe everywhere: call it
// before threads start (the plugins' factories do). Throws Error if libcurl
// cannot start. The calls below call it too.
void http_get_init();

// Throws usage_error when upload_path cannot be read or download_path
// cannot be created; every network failure is data in the result.
HttpExchangeResult http_exchange(const HttpExchange& x);

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

// A GET of JSON (Accept: application/json), for the plugins' polls.
HttpGetResult http_get(const std::string& url, const HttpGetOptions& o);

}  // namespace hearth
