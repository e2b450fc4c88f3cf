#include "core/http_get.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/error.hpp"

namespace hearth {
namespace {

struct Sink {
    CURL* curl = nullptr;
    std::string body;
    std::size_t max = 0;
    bool too_big = false;
    std::FILE* file = nullptr;  // a download: a 200's body goes here
    bool write_failed = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    auto* sink = static_cast<Sink*>(out);
    const std::size_t bytes = size * n;
    if (sink->file) {
        long status = 0;
        curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200) {
            if (std::fwrite(data, size, n, sink->file) == n) return bytes;
            sink->write_failed = true;
            return 0;
        }
    }
    if (sink->body.size() + bytes > sink->max) {
        sink->too_big = true;
        return 0;  // libcurl aborts the transfer with CURLE_WRITE_ERROR
    }
    sink->body.append(data, bytes);
    return bytes;
}

// Closes the files of an exchange whatever happens.
struct Files {
    std::FILE* upload = nullptr;
    std::FILE* download = nullptr;
    ~Files() {
        if (upload) std::fclose(upload);
        if (download) std::fclose(download);
    }
};

}  // namespace

struct HttpConnections::Impl {
    CURLSH* share = nullptr;
    std::mutex mu[CURL_LOCK_DATA_LAST];
    static void lock(CURL*, curl_lock_data d, curl_lock_access, void* self) {
        static_cast<Impl*>(self)->mu[d].lock();
    }
    static void unlock(CURL*, curl_lock_data d, void* self) {
        static_cast<Impl*>(self)->mu[d].unlock();
    }
};

HttpConnections::HttpConnections() : m(std::make_unique<Impl>()) {
    http_get_init();
    m->share = curl_share_init();
    if (!m->share) throw Error("libcurl could not make a connection cache");
    curl_share_setopt(m->share, CURLSHOPT_LOCKFUNC, &Impl::lock);
    curl_share_setopt(m->share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
    curl_share_setopt(m->share, CURLSHOPT_USERDATA, m.get());
    curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

HttpConnections::~HttpConnections() {
    if (m->share) curl_share_cleanup(m->share);
}

void* HttpConnections::share() const {
    return m->share;
}

void http_get_init() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
    if (!ok) throw Error("libcurl could not initialise; check the libcurl installation");
}

HttpExchangeResult http_exchange(const HttpExchange& x) {
    HttpExchangeResult r;
    Files files;
    curl_off_t upload_size = 0;
    if (!x.upload_path.empty()) {
        files.upload = std::fopen(x.upload_path.c_str(), "rb");
        if (!files.upload)
            throw usage_error("cannot read " + x.upload_path + ": " + std::strerror(errno) +
                              "; check the path");
        std::fseek(files.upload, 0, SEEK_END);
        upload_size = static_cast<curl_off_t>(std::ftell(files.upload));
        std::fseek(files.upload, 0, SEEK_SET);
    }
    if (!x.download_path.empty()) {
        files.download = std::fopen(x.download_path.c_str(), "wb");
        if (!files.download)
            throw Error("cannot write " + x.download_path + ": " + std::strerror(errno));
    }
    try {
        http_get_init();
    } catch (const Error& e) {
        r.error = r.curl_reason = e.what();
        return r;
    }
    CURL* c = curl_easy_init();
    if (!c) {
        r.error = r.curl_reason = "libcurl could not start a request";
        return r;
    }
    Sink sink;
    sink.curl = c;
    sink.max = x.max_bytes;
    sink.file = files.download;
    char errbuf[CURL_ERROR_SIZE] = "";
    const char* protocols = x.https_only ? "https" : "http,https";
    const long timeout_ms = std::max(1L, x.timeout_ms);
    curl_easy_setopt(c, CURLOPT_URL, x.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, x.follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a threaded program
    if (!files.download)                        // a download is unbounded; an error body still is
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(x.max_bytes));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hearth");
    if (x.connections) curl_easy_setopt(c, CURLOPT_SHARE, x.connections->share());
    if (x.no_proxy) curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    // https:// is verified, always; with a CA file against that CA alone,
    // not the system's public ones.
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!x.ca.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, x.ca.c_str());
        curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
    }
    if (!x.userpwd.empty()) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, x.userpwd.c_str());
    }
    curl_slist* headers = nullptr;
    // A header value with a line break would smuggle in more headers.
    for (const auto& h : x.headers)
        if (h.find_first_of("\r\n") == std::string::npos)
            headers = curl_slist_append(headers, h.c_str());
    if (files.upload) {
        headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
        // No "Expect: 100-continue" round trip: the server answers once, after the body.
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, files.upload);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, upload_size);
    } else if (x.body) {
        headers = curl_slist_append(headers, ("Content-Type: " + x.content_type).c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, x.body->c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(x.body->size()));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char* type = nullptr;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    if (type) r.content_type = type;
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);

    r.write_failed = sink.write_failed;
    if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        r.too_big = true;
        r.error = r.curl_reason = "answer larger than " + std::to_string(x.max_bytes) + " bytes";
    } else if (rc != CURLE_OK) {
        r.curl_reason = curl_easy_strerror(rc);
        r.error = errbuf[0] ? errbuf : r.curl_reason;
    } else {
        r.status = status;
        r.body = std::move(sink.body);
    }
    if (files.download && std::fflush(files.download) != 0) r.write_failed = true;
    return r;
}

HttpGetResult http_get(const std::string& url, const HttpGetOptions& o) {
    HttpExchange x;
    x.url = url;
    const double ms = o.timeout_s * 1000.0;
    x.timeout_ms = ms >= 1.0 ? static_cast<long>(std::min(ms, 3.6e6)) : 1L;
    x.max_bytes = o.max_bytes;
    x.ca = o.ca;
    x.userpwd = o.userpwd;
    x.https_only = o.https_only;
    x.follow_redirects = o.follow_redirects;
    x.headers = {"Accept: application/json"};
    HttpExchangeResult e = http_exchange(x);
    return HttpGetResult{e.status, std::move(e.content_type), std::move(e.body), std::move(e.error),
                         e.too_big};
}

}  // namespace hearth
