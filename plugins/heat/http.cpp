// heat/http: a temperature feed polled over HTTP (a building-management
// gateway, a Home Assistant sensor, a shell script behind a web server).
//
// Decisions, since a feed is trusted with the safety of a hot-water tank:
// - A response counts only if everything about it checks out (status 200, a
//   JSON object, the fields numbers in physical ranges); anything else is a
//   failed poll, with its reason kept for the alarm.
// - A failed poll does not discard the last good reading at once: one lost
//   poll of a feed polled every 10 s is normal. The reading is used until it
//   is older than stale_after_s, and the alarm says meanwhile that the feed is
//   failing, so people see trouble before it forces safe mode.
// - Past stale_after_s (or before any good reading) measured and target are
//   nullopt: the controller runs the site's safe mode. The first good reading
//   clears the alarm.
// - The GET happens at most every poll_s of the injected clock; polls in
//   between return the kept reading, re-judged for staleness at their time.
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>

#include "plugins/heat/builtin.hpp"

namespace hearth {
namespace {

using Json = nlohmann::json;

// Text from the wire goes into one-line alarms: no control characters, and
// short enough to read.
std::string one_line(const std::string& s, std::size_t max = 160) {
    std::string r;
    for (char c : s) {
        if (r.size() >= max) {
            r += "...";
            break;
        }
        r += std::iscntrl(static_cast<unsigned char>(c)) ? ' ' : c;
    }
    return r;
}

// The URL as alarms show it: without user:password@, which alarms must not
// spread to logs and dashboards.
std::string redacted(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto host = scheme + 3;
    const auto at = url.find('@', host);
    const auto path = url.find_first_of("/?#", host);
    if (at == std::string::npos || (path != std::string::npos && at > path)) return url;
    return url.substr(0, host) + url.substr(at + 1);
}

// "text/html; charset=utf-8" -> "text/html"
std::string mime_of(const std::string& content_type) {
    std::string m;
    for (char c : content_type) {
        if (c == ';') break;
        if (!std::isspace(static_cast<unsigned char>(c)))
            m += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return m;
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// The member at a dot path ("tank.top"), or null.
const Json* resolve(const Json& root, const std::string& path) {
    const Json* j = &root;
    std::size_t from = 0;
    while (true) {
        const auto dot = path.find('.', from);
        const std::string key = path.substr(from, dot - from);
        if (!j->is_object()) return nullptr;
        const auto it = j->find(key);
        if (it == j->end()) return nullptr;
        j = &*it;
        if (dot == std::string::npos) return j;
        from = dot + 1;
    }
}

// "" and `out` set when the field is a number within [lo, hi]; else why not.
std::string read_field(const Json& root, const std::string& path, double lo, double hi,
                       double& out) {
    const std::string name = "field '" + one_line(path) + "'";
    const Json* v = resolve(root, path);
    if (!v) return name + " missing";
    // nlohmann keeps booleans apart from numbers: true is not 1 C here.
    if (!v->is_number()) return name + " is " + v->type_name() + ", not a number";
    const double d = v->get<double>();
    if (!std::isfinite(d)) return name + " is not a finite number";
    if (d < lo || d > hi)
        return name + " is " + fmt("%g", d) + " C, outside " + fmt("%g", lo) + ".." +
               fmt("%g", hi) + " C";
    out = d;
    return "";
}

struct Feed {
    Celsius measured;
    std::optional<Celsius> target;
};

// The feed's reading, or the reason the response is not one.
std::string judge(const HttpResult& r, const HeatSourceSpec& spec, Feed& feed) {
    if (!r.error.empty()) return "no response: " + one_line(r.error);
    if (r.status != 200) return "status " + std::to_string(r.status);
    const Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        const std::string mime = one_line(mime_of(r.content_type), 60);
        if (!mime.empty() && mime.find("json") == std::string::npos)
            return "returned " + mime + ", not JSON";
        return "returned malformed JSON";
    }
    if (!j.is_object()) return std::string("returned a JSON ") + j.type_name() + ", not an object";
    double measured = 0;
    std::string why =
        read_field(j, spec.measured_field, k_feed_measured_min, k_feed_measured_max, measured);
    if (!why.empty()) return why;
    feed.measured = Celsius{measured};
    feed.target.reset();
    if (!spec.target_field.empty()) {
        double target = 0;
        why = read_field(j, spec.target_field, k_hard_min.value, k_hard_max.value, target);
        if (!why.empty()) return why;
        feed.target = Celsius{target};
    }
    return "";
}

class HttpSource final : public HeatSource {
public:
    HttpSource(const HeatSourceSpec& spec, std::shared_ptr<const Clock> clock,
               std::shared_ptr<HttpGetter> http)
        : m_spec(spec),
          m_url(redacted(spec.url)),
          m_clock(std::move(clock)),
          m_http(std::move(http)) {}

    // Holds the lock across the GET (at most timeout_s): polls are meant to
    // come from one control loop, and a second caller should see its result.
    HeatReading poll() override {
        std::lock_guard lock(m_mutex);
        const auto start = m_clock->now();
        if (!m_last_get || !(seconds(start - *m_last_get) < m_spec.poll_s)) {
            m_last_get = start;
            fetch();
        }
        return reading(m_clock->now());
    }

    std::string type() const override { return "http"; }

private:
    static double seconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }

    void fetch() {
        HttpResult r;
        try {
            r = m_http->get(m_spec.url, m_spec.timeout_s);
        } catch (const std::exception& e) {
            r.error = e.what();  // a getter that throws is a transport failure
        }
        Feed feed;
        m_last_error = judge(r, m_spec, feed);
        if (!m_last_error.empty()) return;
        m_good = feed;
        m_good_at = m_clock->now();
    }

    HeatReading reading(Clock::TimePoint now) const {
        HeatReading out;
        const std::string& why = m_last_error.empty() ? k_no_newer : m_last_error;
        if (!m_good_at) {
            out.alarm = "heat feed " + m_url +
                        " has given no good reading yet (last error: " + why +
                        "): " + safe_mode_text();
            return out;
        }
        const double age = seconds(now - *m_good_at);
        if (!(age <= m_spec.stale_after_s)) {
            out.alarm = "heat feed " + m_url + " stale for " + fmt("%.0f", age) +
                        " s (last error: " + why + "): " + safe_mode_text();
            return out;
        }
        out.measured = m_good->measured;
        out.target = m_good->target;
        if (!m_last_error.empty())
            out.alarm = "heat feed " + m_url + ": last poll failed (" + m_last_error +
                        "); using the reading from " + fmt("%.0f", age) + " s ago";
        return out;
    }

    std::string safe_mode_text() const {
        return m_spec.safe_mode == SafeMode::hold
                   ? "safe mode, holding the current heat until it recovers"
                   : "safe mode, no heat wanted until it recovers";
    }

    // Stale without a failed poll: poll_s is longer than stale_after_s.
    static inline const std::string k_no_newer = "no poll since, poll_s exceeds stale_after_s";

    const HeatSourceSpec m_spec;
    const std::string m_url;  // for alarms
    const std::shared_ptr<const Clock> m_clock;
    const std::shared_ptr<HttpGetter> m_http;
    std::mutex m_mutex;
    std::optional<Clock::TimePoint> m_last_get;
    std::optional<Clock::TimePoint> m_good_at;  // of the last good reading
    std::optional<Feed> m_good;
    std::string m_last_error;  // of the last poll; "" when it was good
};

}  // namespace

std::unique_ptr<HeatSource> make_http_source(const HeatSourceSpec& spec,
                                             std::shared_ptr<const Clock> clock,
                                             std::shared_ptr<HttpGetter> http) {
    return std::make_unique<HttpSource>(spec, std::move(clock), std::move(http));
}

}  // namespace hearth
