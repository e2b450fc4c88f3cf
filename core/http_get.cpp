#include "core/http_get.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "core/error.hpp"

namespace hearth {
namespace {

struct Sink {
    std::string body;
    std::size_t max = 0;
    bool too_big = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    auto* sink = static_cast<Sink*>(out);
    const std::size_t bytes = size * n;
    if (sink->body.size() + bytes > sink->max) {
        sink->too_big = true;
        return 0;  // libcurl aborts the transfer with CURLE_WRITE_ERROR
    }
    sink->body.append(data, bytes);
    return bytes;
}

}  // namespace

void http_get_init() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
    if (!ok) throw Error("libcurl could not initialise; check the libcurl installation");
}

HttpGetResult http_get(const std::string& url, const HttpGetOptions& o) {
    HttpGetResult r;
    try {
        http_get_init();
    } catch (const Error& e) {
        r.error = e.what();
        return r;
    }
    CURL* c = curl_easy_init();
    if (!c) {
        r.error = "libcurl could not start a request";
        return r;
    }
    const double ms = o.timeout_s * 1000.0;
    const long timeout_ms = ms >= 1.0 ? static_cast<long>(std::min(ms, 3.6e6)) : 1L;
    Sink sink;
    sink.max = o.max_bytes;
    char errbuf[CURL_ERROR_SIZE] = "";
    const char* protocols = o.https_only ? "https" : "http,https";
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, o.follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a threaded program
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_bytes));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hearth");
    if (!o.ca.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca.c_str());
    if (!o.userpwd.empty()) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, o.userpwd.c_str());
    }
    struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char* type = nullptr;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    if (type) r.content_type = type;
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);

    if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        r.too_big = true;
        r.error = "answer larger than " + std::to_string(o.max_bytes) + " bytes";
    } else if (rc != CURLE_OK) {
        r.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    } else {
        r.status = status;
        r.body = std::move(sink.body);
    }
    return r;
}

}  // namespace hearth
