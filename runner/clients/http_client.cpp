#include "runner/clients/http_client.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "core/http_get.hpp"
#include "runner/clients/credentials.hpp"

namespace hearth {
namespace {

// A reply held in memory (JSON: job lists, logs, errors) is bounded, so that
// a wrong URL or a broken server cannot fill the client's memory; downloads
// (http_get_file) stream to disk unbounded.
constexpr std::size_t k_max_reply_bytes = 64u << 20;

// One exchange through core/http_get with what every command sends: the
// user's token (hearth(1), ENVIRONMENT) unless the caller passes a header of
// its own, and HEARTH_CACERT. client_credentials() and client_cacert() throw
// usage_error on an unsafe token file or an unreadable CA; commands read them
// before their first request.
HttpReply perform(HttpExchange x, const std::optional<std::string>& authorization) {
    std::optional<std::string> auth = authorization;
    if (!auth && client_credentials().token) auth = "Bearer " + *client_credentials().token;
    if (auth && !auth->empty()) x.headers.push_back("Authorization: " + *auth);
    if (const auto& ca = client_cacert()) x.ca = *ca;
    x.max_bytes = k_max_reply_bytes;
    // Agents and the scheduler are on the facility's own network: a proxy set
    // for the web would only get in the way. No redirects: the token goes to
    // the URL the user named and nowhere else.
    x.no_proxy = true;
    x.follow_redirects = false;
    HttpExchangeResult e = http_exchange(x);
    HttpReply reply;
    if (e.too_big)
        reply.failure = "the answer is larger than the client's limit of " +
                        std::to_string(k_max_reply_bytes >> 20) + " MiB";
    else if (e.status == 0)
        reply.failure = e.curl_reason;
    reply.status = e.status;
    reply.body = std::move(e.body);
    if (e.write_failed)
        throw Error("cannot write " + x.download_path + ": " + std::strerror(errno) +
                    "; is the disk full?");
    return reply;
}

// What every call sets; each adds its body, upload or download.
HttpExchange exchange_to(const std::string& url, long timeout_ms, HttpConnections* connections) {
    HttpExchange x;
    x.url = url;
    x.timeout_ms = timeout_ms;
    x.connections = connections;
    return x;
}

}  // namespace

HttpReply http_request(const std::string& url, const std::optional<std::string>& json_body,
                       long timeout_ms, const std::optional<std::string>& authorization,
                       HttpConnections* connections) {
    HttpExchange x = exchange_to(url, timeout_ms, connections);
    x.body = json_body;
    return perform(std::move(x), authorization);
}

HttpReply http_put_file(const std::string& url, const std::string& path, long timeout_ms,
                        HttpConnections* connections) {
    HttpExchange x = exchange_to(url, timeout_ms, connections);
    x.upload_path = path;
    return perform(std::move(x), std::nullopt);
}

HttpReply http_get_file(const std::string& url, const std::string& path, long timeout_ms,
                        HttpConnections* connections) {
    HttpExchange x = exchange_to(url, timeout_ms, connections);
    x.download_path = path;
    return perform(std::move(x), std::nullopt);
}

std::string url_escape(const std::string& s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out += static_cast<char>(ch);
        } else {
            out += '%';
            out += hex[ch >> 4];
            out += hex[ch & 15];
        }
    }
    return out;
}

}  // namespace hearth
