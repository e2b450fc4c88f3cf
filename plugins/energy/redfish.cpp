#include "redfish.hpp"

#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace hearth {
namespace {

using Kind = RedfishReading::Kind;

// A BMC answers in tens to hundreds of milliseconds and updates its readings
// about once a second: polling faster only loads it.
constexpr std::chrono::milliseconds k_poll{1000};

// The latest power stands for the node's this long; a BMC silent for longer
// is not guessed at (its next answer covers the span).
constexpr std::chrono::milliseconds k_stale{10'000};

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

// https://host:port of a URL, for the BMC-relative URIs Redfish links carry.
std::string origin_of(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto path = url.find('/', scheme + 3);
    return path == std::string::npos ? url : url.substr(0, path);
}

// One GET parsed; a transport failure is a reason too.
RedfishReading fetch(RedfishHttp& http, const std::string& url) {
    RedfishAnswer a = http.get(url);
    RedfishReading r;
    if (a.status == 0) {
        r.reason = "no answer from the BMC: " + a.error;
    } else {
        r = parse_redfish_reading(a.status, a.content_type, a.body);
    }
    if (r.kind == Kind::none) r.reason = url + ": " + r.reason;
    return r;
}

}  // namespace

RedfishFind find_redfish_meter(RedfishHttp& http, const std::string& chassis_url) {
    RedfishFind f;
    std::string base = chassis_url;
    while (!base.empty() && base.back() == '/') base.pop_back();

    // The energy counter first: it is exact and survives a restart.
    const std::string env_url = base + "/EnvironmentMetrics";
    RedfishAnswer env = http.get(env_url);
    if (env.status == 0) {
        f.why_not = env_url + ": no answer from the BMC: " + env.error;
        return f;
    }
    RedfishReading r = parse_redfish_reading(env.status, env.content_type, env.body);
    if (env.status != 200 && env.status != 404) {
        f.why_not = env_url + ": " + r.reason;  // 401, 5xx: Power would say the same
        return f;
    }
    std::string sensor_url = env_url;
    if (r.kind == Kind::link) {
        sensor_url = r.link.rfind("http", 0) == 0 ? r.link : origin_of(base) + r.link;
        r = fetch(http, sensor_url);
    }
    if (r.kind == Kind::energy_kwh) {
        f.url = sensor_url;
        f.counter = true;
        f.value = r.value;
        return f;
    }
    const std::string power_url = base + "/Power";
    RedfishReading p = fetch(http, power_url);
    if (p.kind == Kind::watts) {
        f.url = power_url;
        f.value = p.value;
        return f;
    }
    f.why_not = p.reason;
    return f;
}

ProbeResult probe_redfish(const RedfishOptions& o, RedfishHttp* http) {
    ProbeResult r;
    r.source = "redfish";
    if (o.url.empty()) {
        r.detail =
            "no BMC configured; set --redfish-url to its Chassis, e.g. "
            "https://BMC/redfish/v1/Chassis/1";
        return r;
    }
    std::unique_ptr<RedfishHttp> own;
    try {
        if (!http) {
            own = make_redfish_http(o);
            http = own.get();
        }
    } catch (const Error& e) {
        r.detail = e.what();
        return r;
    }
    RedfishFind f = find_redfish_meter(*http, o.url);
    if (f.url.empty()) {
        r.detail = f.why_not;
        return r;
    }
    r.available = true;
    r.detail = f.counter ? "energy counter at " + f.url + ", now " + number(f.value) + " kWh"
                         : number(f.value) + " W PowerConsumedWatts at " + f.url +
                               ", integrated between reads";
    return r;
}

RedfishSource::RedfishSource(const RedfishOptions& o, std::shared_ptr<const Clock> clock,
                             std::unique_ptr<RedfishHttp> http, bool background)
    : m_clock(std::move(clock)), m_http(std::move(http)), m_power(k_stale) {
    if (!m_http) m_http = make_redfish_http(o);
    m_find = find_redfish_meter(*m_http, o.url);
    if (m_find.url.empty()) throw Error("energy source redfish is unavailable: " + m_find.why_not);
    m_poller =
        std::make_unique<Poller>([this] { return fetch_reading(); }, k_poll, m_clock, background);
    m_poller->seed(Polled{true, m_find.value, ""});
}

std::string RedfishSource::meter() const {
    return m_find.counter ? "EnergykWh " + m_find.url
                          : "PowerConsumedWatts " + m_find.url + " (integrated)";
}

std::string RedfishSource::checkpoint() const {
    if (!m_find.counter || !m_have_prev) return "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", m_prev_kwh);
    return buf;
}

void RedfishSource::resume(const std::string& checkpoint, double elapsed_s) {
    (void)elapsed_s;
    if (!m_find.counter || checkpoint.empty()) return;
    char* end = nullptr;
    const double kwh = std::strtod(checkpoint.c_str(), &end);
    if (end == checkpoint.c_str() || *end != '\0' || !std::isfinite(kwh) || kwh < 0) return;
    m_have_prev = true;
    m_prev_kwh = kwh;
    m_prev_good = 0;
    m_poller->poll_soon();  // the next read has a fresh reading, the gap included
}

// On the poller's thread (or in read() without one): touches only m_http
// and m_find, which nothing changes after construction.
Polled RedfishSource::fetch_reading() {
    Polled p;
    RedfishReading r = fetch(*m_http, m_find.url);
    const Kind want = m_find.counter ? Kind::energy_kwh : Kind::watts;
    if (r.kind != want) {
        if (r.kind != Kind::none) r.reason = m_find.url + ": the answer changed its kind";
        p.error = r.reason + "; the next good reading covers the gap";
        return p;
    }
    p.ok = true;
    p.value = r.value;
    return p;
}

EnergyReading RedfishSource::read() {
    EnergyReading out;
    const PollState s = m_poller->latest();
    if (s.failures > 0 && m_warned_failures == 0) {
        out.warnings.push_back("redfish: " + s.error);
        m_warned_failures = s.failures;
    } else if (s.failures == 0) {
        m_warned_failures = 0;
    }
    if (m_find.counter) {
        // Each good answer counted once; failed ones leave the last value,
        // so the next good one covers the gap.
        if (s.good > 0 && s.good != m_prev_good) {
            if (m_have_prev) {
                KwhStep st = kwh_counter_step(m_prev_kwh, s.value);
                if (st.backwards)
                    out.warnings.push_back("redfish: the energy counter went back from " +
                                           number(m_prev_kwh) + " to " + number(s.value) +
                                           " kWh (a BMC reset?); counting goes on from the new "
                                           "value");
                m_total += st.energy;
            }
            m_have_prev = true;
            m_prev_kwh = s.value;
            m_prev_good = s.good;
        }
    } else {
        bool waiting = false;
        m_total += Microjoules{m_power.step(s, m_clock->now(), waiting)};
    }
    out.total = m_total;
    return out;
}

std::chrono::milliseconds RedfishSource::max_interval() const {
    // A kWh counter does not wrap in any plausible time; power needs reads
    // often enough to follow it.
    return m_find.counter ? std::chrono::milliseconds(60'000) : std::chrono::milliseconds(10'000);
}

}  // namespace hearth
