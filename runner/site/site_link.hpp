#pragma once
// A site's only link upward (rank 0 of `hearth site`): the work call, and the
// content store for outputs (PUT) and staged inputs (GET), over libcurl.
// Failures come back as data: a dropped link is normal at a site, and the
// dispatcher keeps running what it holds and asks again later.
#include <memory>
#include <optional>
#include <string>

#include "core/http_get.hpp"
#include "core/site_api.hpp"

namespace hearth {

class SiteLink {
public:
    // server: http(s)://HOST:PORT; the token and CA are the client's
    // (HEARTH_TOKEN_FILE, HEARTH_CACERT: hearth site sets them from its options).
    SiteLink(std::string server, std::string site, long timeout_ms);

    struct Answer {
        std::optional<WorkReply> reply;
        std::string failure;  // why not, when no reply
    };
    Answer work(const WorkRequest& req);
    // Streams the file at path (whose bytes hash to sha256) to the content
    // store. "" when stored (or already there); otherwise why not.
    std::string put_blob(const std::string& sha256, const std::string& path);
    // Fetches a blob into path (atomically: a temp name, checked against its
    // hash, renamed). "" when done; otherwise why not.
    std::string get_blob(const std::string& sha256, const std::string& path);

private:
    std::string m_server;
    std::string m_site;
    long m_timeout_ms;
    // One connection to the scheduler kept open between requests (a TLS
    // handshake for every request cost 0.2 ms a task on short tasks).
    std::unique_ptr<HttpConnections> m_connections = std::make_unique<HttpConnections>();
};

// 64 lowercase hex digits of the SHA-256 of data (OpenSSL EVP).
std::string sha256_hex(const std::string& data);

}  // namespace hearth
