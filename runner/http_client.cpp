#include "http_client.hpp"

#include <curl/curl.h>

#include <mutex>

#include "credentials.hpp"

namespace hearth {
namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

}  // namespace

HttpReply http_request(const std::string& url, const std::optional<std::string>& json_body,
                       long timeout_ms, const std::optional<std::string>& authorization) {
    HttpCall call;
    call.method = json_body ? "POST" : "GET";
    call.url = url;
    call.body = json_body;
    call.timeout_ms = timeout_ms;
    call.authorization = authorization;
    return http_call(call);
}

HttpReply http_call(const HttpCall& call) {
    const std::string& url = call.url;
    const long timeout_ms = call.timeout_ms;
    const std::optional<std::string>& authorization = call.authorization;
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
    if (call.body) {
        headers = curl_slist_append(headers, ("Content-Type: " + call.content_type).c_str());
        // No "Expect: 100-continue" round trip before a large body: one
        // request, one answer (and servers that ignore it do not stall us).
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body->data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body->size()));
    }
    if (call.method != "GET" && call.method != "POST")
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        reply.failure = curl_easy_strerror(rc);
        reply.status = 0;
    }
    return reply;
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
