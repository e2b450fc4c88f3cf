#pragma once
// energy/redfish: the node's power or energy from its BMC's Redfish API over
// HTTPS (libcurl). --redfish-url names a Chassis; the source looks for, in
// order of preference:
// - <chassis>/EnvironmentMetrics EnergykWh (its Reading, or the Sensor its
//   DataSourceUri names, ReadingUnits kWh): a cumulative counter, so the
//   ledger gets exactly what it advanced;
// - <chassis>/Power PowerControl[0].PowerConsumedWatts: instantaneous watts,
//   held between polls and integrated over each interval (not a counter: a
//   restart cannot recover what the agent did not see).
// The BMC is polled about once a second on a thread of its own (Poller): a
// slow or hung BMC never delays a sample; the sample uses the latest reading.
#include <chrono>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "core/redfish_reading.hpp"
#include "poller.hpp"

namespace hearth {

struct RedfishOptions {
    std::string url;          // the Chassis, https://BMC/redfish/v1/Chassis/1 ("" = not set up)
    std::string credentials;  // file holding user:password, mode 0600 ("" = none)
    std::string ca;           // PEM CA file to verify the BMC with ("" = the system's)
    double timeout_s = 2;     // per request
    std::size_t max_bytes = 1 << 20;  // per answer
};

// The HTTP seam: one GET. The real one is libcurl (make_redfish_http).
struct RedfishAnswer {
    long status = 0;  // 0: no answer (error says why)
    std::string content_type, body, error;
};
class RedfishHttp {
public:
    virtual ~RedfishHttp() = default;
    virtual RedfishAnswer get(const std::string& url) = 0;
};
// Reads and checks the credentials file (Error naming the fix if it is not
// mode 0600 or not user:password) and sets up TLS with the CA file.
std::unique_ptr<RedfishHttp> make_redfish_http(const RedfishOptions& o);

// What the source will read: the URL and whether it is a kWh counter, or why
// nothing (one line).
struct RedfishFind {
    std::string url;
    bool counter = false;
    double value = 0;  // the reading found (W or kWh)
    std::string why_not;
};
RedfishFind find_redfish_meter(RedfishHttp& http, const std::string& chassis_url);

// http: null for the real libcurl one (built from o).
ProbeResult probe_redfish(const RedfishOptions& o, RedfishHttp* http = nullptr);

class RedfishSource final : public EnergySource {
public:
    // Throws Error with probe's reason when no reading can be had.
    // background: poll on a thread (the agent); false: in read() when a
    // poll is due (tests on a manual clock).
    RedfishSource(const RedfishOptions& o, std::shared_ptr<const Clock> clock,
                  std::unique_ptr<RedfishHttp> http = nullptr, bool background = false);
    std::string name() const override { return "redfish"; }
    bool estimated() const override { return false; }
    std::string meter() const override;
    EnergyReading read() override;
    std::chrono::milliseconds max_interval() const override;
    Watts max_power() const override { return {}; }
    std::string checkpoint() const override;
    void resume(const std::string& checkpoint, double elapsed_s) override;
    bool counter() const { return m_find.counter; }

private:
    Polled fetch_reading();

    std::shared_ptr<const Clock> m_clock;
    std::unique_ptr<RedfishHttp> m_http;
    RedfishFind m_find;
    // counter: the last reading counted (and the poller's answer it came from).
    bool m_have_prev = false;
    double m_prev_kwh = 0;
    std::uint64_t m_prev_good = 0;
    PolledPower m_power;  // watts
    std::uint64_t m_warned_failures = 0;
    Microjoules m_total{};
    std::unique_ptr<Poller> m_poller;  // last: its thread uses the members above
};

}  // namespace hearth
