#pragma once
// The one fake of the HttpGetter seam: answers from a script (one-shot
// answers first, then a standing one) and records every request.
#include <deque>
#include <string>
#include <vector>

#include "plugins/heat/source.hpp"

namespace hearth::test {

class FakeHttp final : public HttpGetter {
public:
    HttpResult get(const std::string& url, double timeout_s) override {
        urls.push_back(url);
        timeouts.push_back(timeout_s);
        if (m_once.empty()) return m_standing;
        HttpResult r = m_once.front();
        m_once.pop_front();
        return r;
    }

    // Answered to every request once the one-shot answers are used up.
    void answer(HttpResult r) { m_standing = std::move(r); }
    // Answered to the next request only (in the order given).
    void answer_once(HttpResult r) { m_once.push_back(std::move(r)); }

    static HttpResult json(std::string body, long status = 200) {
        return HttpResult{status, "application/json", std::move(body), ""};
    }
    static HttpResult html(std::string body = "<html><body>Login</body></html>",
                           long status = 200) {
        return HttpResult{status, "text/html; charset=utf-8", std::move(body), ""};
    }
    static HttpResult no_response(std::string error = "Connection refused") {
        return HttpResult{0, "", "", std::move(error)};
    }

    std::size_t calls() const { return urls.size(); }

    std::vector<std::string> urls;
    std::vector<double> timeouts;

private:
    std::deque<HttpResult> m_once;
    HttpResult m_standing = no_response("FakeHttp: no answer scripted");
};

}  // namespace hearth::test
