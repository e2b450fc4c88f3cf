// The real RedfishHttp: core/http_get over HTTPS with basic authentication,
// the BMC verified against a CA file, every answer bounded in time and size.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bmc_credentials.hpp"
#include "core/error.hpp"
#include "core/http_get.hpp"
#include "core/text.hpp"
#include "redfish.hpp"

namespace hearth {
namespace {

class CurlRedfish final : public RedfishHttp {
public:
    explicit CurlRedfish(const RedfishOptions& o) : m_o(o) {
        if (o.url.rfind("https://", 0) != 0)
            throw usage_error("--redfish-url " + o.url +
                              " is not https://; the BMC's credentials must not cross the "
                              "network in clear");
        if (!o.credentials.empty())
            m_userpwd = read_bmc_credentials(o.credentials, "redfish").userpwd();
        if (!o.ca.empty() && ::access(o.ca.c_str(), R_OK) != 0)
            throw usage_error("--redfish-ca " + o.ca + ": " + errno_text(errno) +
                              "; give the PEM file of the CA that signed the BMC's certificate");
        http_get_init();
    }

    RedfishAnswer get(const std::string& url) override {
        HttpGetOptions h;
        h.timeout_s = m_o.timeout_s;
        h.max_bytes = m_o.max_bytes;
        h.ca = m_o.ca;
        h.userpwd = m_userpwd;
        h.https_only = true;
        h.follow_redirects = false;  // credentials stay with this BMC
        HttpGetResult g = http_get(url, h);
        RedfishAnswer r;
        r.status = g.status;
        r.content_type = std::move(g.content_type);
        r.body = std::move(g.body);
        r.error = g.too_big ? "answer larger than " + std::to_string(m_o.max_bytes) +
                                  " bytes (--redfish-max-kib)"
                            : std::move(g.error);
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
