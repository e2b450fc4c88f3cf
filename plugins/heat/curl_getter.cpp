// The real HttpGetter: one libcurl easy handle per GET (a poll every few
// seconds gains nothing from connection reuse, and a fresh handle carries no
// state from a failed request into the next).
#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/error.hpp"
#include "plugins/heat/source.hpp"

namespace hearth {
namespace {

// A temperature feed is a few hundred bytes: a bigger answer is not one, and
// must not be buffered without bound.
constexpr std::size_t k_max_body = 1 << 20;

struct Sink {
    std::string body;
    bool too_big = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    auto* sink = static_cast<Sink*>(out);
    const std::size_t bytes = size * n;
    if (sink->body.size() + bytes > k_max_body) {
        sink->too_big = true;
        return 0;  // libcurl aborts the transfer with CURLE_WRITE_ERROR
    }
    sink->body.append(data, bytes);
    return bytes;
}

// libcurl's global init is not thread-safe everywhere: do it once, before any
// handle exists, instead of letting the first curl_easy_init do it.
void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw Error("libcurl could not initialise; check the libcurl installation");
    });
}

class CurlGetter final : public HttpGetter {
public:
    HttpResult get(const std::string& url, double timeout_s) override {
        HttpResult r;
        CURL* c = curl_easy_init();
        if (!c) {
            r.error = "libcurl could not start a request";
            return r;
        }
        // NaN or non-positive timeouts become 1 ms rather than "no timeout":
        // the control loop must never hang on a feed.
        const double ms = timeout_s * 1000.0;
        const long timeout_ms = ms >= 1.0 ? static_cast<long>(std::min(ms, 3.6e6)) : 1L;
        Sink sink;
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a threaded agent
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(k_max_body));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "hearth");
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
            r.error = "response larger than 1 MiB, not a temperature feed";
        } else if (rc != CURLE_OK) {
            r.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        } else {
            r.status = status;
            r.body = std::move(sink.body);
        }
        return r;
    }
};

}  // namespace

std::unique_ptr<HttpGetter> make_curl_getter() {
    init_curl_once();
    return std::make_unique<CurlGetter>();
}

}  // namespace hearth
