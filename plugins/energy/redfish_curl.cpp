// The real RedfishHttp: libcurl over HTTPS with basic authentication, the
// BMC verified against a CA file, every answer bounded in time and size.
#include <curl/curl.h>
#include <sys/stat.h>

#include <unistd.h>
#include <algorithm>
#include <cstdio>

#include <cerrno>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "redfish.hpp"

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
        return 0;  // libcurl aborts with CURLE_WRITE_ERROR
    }
    sink->body.append(data, bytes);
    return bytes;
}

void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw Error("libcurl could not initialise; check the libcurl installation");
    });
}

// user:password from a file nobody else can read.
std::string read_credentials(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw usage_error("redfish credentials file " + path + ": " + errno_text(errno) +
                          "; write user:password to it with mode 0600");
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw usage_error("redfish credentials file " + path + " has mode " + mode +
                          ", readable by others; run chmod 600 " + path);
    }
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = trimmed(ss.str());
    if (text.find(':') == std::string::npos || text.find('\n') != std::string::npos)
        throw usage_error("redfish credentials file " + path + " must hold one line user:password");
    return text;
}

class CurlRedfish final : public RedfishHttp {
public:
    explicit CurlRedfish(const RedfishOptions& o) : m_o(o) {
        if (o.url.rfind("https://", 0) != 0)
            throw usage_error("--redfish-url " + o.url +
                              " is not https://; the BMC's credentials must not cross the "
                              "network in clear");
        if (!o.credentials.empty()) m_userpwd = read_credentials(o.credentials);
        if (!o.ca.empty() && ::access(o.ca.c_str(), R_OK) != 0)
            throw usage_error("--redfish-ca " + o.ca + ": " + errno_text(errno) +
                              "; give the PEM file of the CA that signed the BMC's certificate");
        init_curl_once();
    }

    RedfishAnswer get(const std::string& url) override {
        RedfishAnswer r;
        CURL* c = curl_easy_init();
        if (!c) {
            r.error = "libcurl could not start a request";
            return r;
        }
        const double ms = m_o.timeout_s * 1000.0;
        const long timeout_ms = ms >= 1.0 ? static_cast<long>(std::min(ms, 3.6e6)) : 1L;
        Sink sink;
        sink.max = m_o.max_bytes;
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // credentials stay with this BMC
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(m_o.max_bytes));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "hearth");
        if (!m_o.ca.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, m_o.ca.c_str());
        if (!m_userpwd.empty()) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(c, CURLOPT_USERPWD, m_userpwd.c_str());
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
            r.error = "answer larger than " + std::to_string(m_o.max_bytes) +
                      " bytes (--redfish-max-kib)";
        } else if (rc != CURLE_OK) {
            r.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        } else {
            r.status = status;
            r.body = std::move(sink.body);
        }
        return r;
    }

private:
    RedfishOptions m_o;
    std::string m_userpwd;
};

}  // namespace

std::unique_ptr<RedfishHttp> make_redfish_http(const RedfishOptions& o) {
    return std::make_unique<CurlRedfish>(o);
}

}  // namespace hearth
