#include "runner/clients/http_client.hpp"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "runner/clients/credentials.hpp"

namespace hearth {
namespace {

// A reply held in memory (JSON: job lists, logs, errors) is bounded, so that
// a wrong URL or a broken server cannot fill the client's memory; downloads
// (http_get_file) stream to disk unbounded.
constexpr std::size_t k_max_reply_bytes = 64u << 20;

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    auto* body = static_cast<std::string*>(out);
    if (body->size() + size * n > k_max_reply_bytes) return 0;  // stops the transfer
    body->append(data, size * n);
    return size * n;
}

// A download: the body goes to the file on a 200, into the reply otherwise
// (an error's JSON), decided on the first bytes once the status is known.
struct Download {
    CURL* curl = nullptr;
    std::FILE* file = nullptr;
    std::string* body = nullptr;
    bool failed = false;
};

std::size_t to_file(char* data, std::size_t size, std::size_t n, void* out) {
    auto* d = static_cast<Download*>(out);
    long status = 0;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return collect(data, size, n, d->body);
    if (std::fwrite(data, size, n, d->file) != n) {
        d->failed = true;
        return 0;  // stops the transfer
    }
    return size * n;
}

// One exchange. setup adds what differs (body, sink) to the handle and the
// header list.
template <class Setup>
HttpReply perform(const std::string& url, long timeout_ms, const std::optional<std::string>& authorization,
                  Setup setup) {
    // Once per process and never undone: callers may ask from several threads.
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    // The user's token (hearth(1), ENVIRONMENT) unless the caller passes a
    // header of its own. These throw usage_error on an unsafe token file or
    // an unreadable CA; commands read them before their first request.
    std::optional<std::string> auth = authorization;
    if (!auth && client_credentials().token) auth = "Bearer " + *client_credentials().token;
    const std::optional<std::string>& ca = client_cacert();
    HttpReply reply;
    CURL* c = curl_easy_init();
    if (!c) {
        reply.failure = "libcurl could not start";
        return reply;
    }
    curl_slist* headers = nullptr;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    // Agents are on the facility's own network: a proxy set for the web
    // would only get in the way.
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    // A header value with a line break would smuggle in more headers.
    if (auth && !auth->empty() && auth->find_first_of("\r\n") == std::string::npos)
        headers = curl_slist_append(headers, ("Authorization: " + *auth).c_str());
    // https:// agents: verified, always; with HEARTH_CACERT against that CA
    // alone, not the system's public ones.
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca) {
        curl_easy_setopt(c, CURLOPT_CAINFO, ca->c_str());
        curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
    }
    // Only http and https, and no redirects (the default): the token goes to
    // the URL the user named and nowhere else.
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    setup(c, headers, reply);
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        reply.failure =
            rc == CURLE_WRITE_ERROR && reply.body.size() + CURL_MAX_WRITE_SIZE > k_max_reply_bytes
                ? "the answer is larger than the client's limit of " +
                      std::to_string(k_max_reply_bytes >> 20) + " MiB"
                : curl_easy_strerror(rc);
        reply.status = 0;
    }
    return reply;
}

}  // namespace

HttpReply http_request(const std::string& url, const std::optional<std::string>& json_body,
                       long timeout_ms, const std::optional<std::string>& authorization) {
    return perform(url, timeout_ms, authorization, [&](CURL* c, curl_slist*& headers, HttpReply&) {
        if (!json_body) return;
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body->c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body->size()));
    });
}

HttpReply http_put_file(const std::string& url, const std::string& path, long timeout_ms) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw usage_error("cannot read " + path + ": " + std::strerror(errno) + "; check the path");
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    HttpReply r = perform(url, timeout_ms, std::nullopt, [&](CURL* c, curl_slist*& headers, HttpReply&) {
        headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
        // No "Expect: 100-continue" round trip: the server answers once, after the body.
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, f);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    });
    std::fclose(f);
    return r;
}

HttpReply http_get_file(const std::string& url, const std::string& path, long timeout_ms) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error("cannot write " + path + ": " + std::strerror(errno));
    Download d;
    d.file = f;
    HttpReply r = perform(url, timeout_ms, std::nullopt, [&](CURL* c, curl_slist*&, HttpReply& reply) {
        d.curl = c;
        d.body = &reply.body;
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_file);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
    });
    const bool closed = std::fclose(f) == 0;
    if (d.failed || !closed) throw Error("cannot write " + path + ": " + std::strerror(errno) + "; is the disk full?");
    return r;
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
