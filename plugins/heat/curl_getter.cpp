// The real HttpGetter: core/http_get, redirects followed, answers bounded
// in time and to 1 MiB.
#include "core/http_get.hpp"
#include "plugins/heat/source.hpp"

namespace hearth {
namespace {

// A temperature feed is a few hundred bytes: a bigger answer is not one, and
// must not be buffered without bound.
constexpr std::size_t k_max_body = 1 << 20;

class CurlGetter final : public HttpGetter {
public:
    HttpResult get(const std::string& url, double timeout_s) override {
        HttpGetOptions o;
        o.timeout_s = timeout_s;  // NaN or <= 0: 1 ms, the control loop never hangs
        o.max_bytes = k_max_body;
        o.follow_redirects = true;
        HttpGetResult g = http_get(url, o);
        HttpResult r;
        r.status = g.status;
        r.content_type = std::move(g.content_type);
        r.body = std::move(g.body);
        r.error =
            g.too_big ? "response larger than 1 MiB, not a temperature feed" : std::move(g.error);
        return r;
    }
};

}  // namespace

std::unique_ptr<HttpGetter> make_curl_getter() {
    http_get_init();
    return std::make_unique<CurlGetter>();
}

}  // namespace hearth
