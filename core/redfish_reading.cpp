#include "redfish_reading.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/text.hpp"

namespace hearth {
namespace {

using Kind = RedfishReading::Kind;

RedfishReading why(std::string reason) {
    RedfishReading r;
    r.reason = std::move(reason);
    return r;
}

std::string shown(const nlohmann::json& v) {
    std::string s = v.dump();
    return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

// A finite, non-negative number, or why not.
bool plausible(const nlohmann::json& v, const std::string& field, double& out,
               std::string& reason) {
    if (!v.is_number()) {
        reason = field + " is " + shown(v) + ", not a number";
        return false;
    }
    out = v.get<double>();
    if (!std::isfinite(out) || out < 0) {
        reason = field + " is " + shown(v) + ", not a reading";
        return false;
    }
    return true;
}

RedfishReading value_of(Kind kind, const nlohmann::json& v, const std::string& field) {
    RedfishReading r;
    std::string reason;
    if (!plausible(v, field, r.value, reason)) return why(reason);
    r.kind = kind;
    return r;
}

}  // namespace

std::uint64_t kwh_to_uj(double kwh) {
    return static_cast<std::uint64_t>(std::llround(kwh * 3.6e12));
}

KwhStep kwh_counter_step(double prev_kwh, double cur_kwh) {
    const std::uint64_t prev = kwh_to_uj(prev_kwh), cur = kwh_to_uj(cur_kwh);
    if (cur < prev) return {{}, true};
    return {Microjoules{cur - prev}, false};
}

RedfishReading parse_redfish_reading(long status, const std::string& content_type,
                                     const std::string& body) {
    if (status == 401 || status == 403)
        return why("HTTP " + std::to_string(status) +
                   ": the BMC refused the credentials; check the user:password in the "
                   "credentials file");
    if (status == 404)
        return why(
            "HTTP 404: the BMC has no such resource; --redfish-url must name a Chassis, "
            "e.g. https://BMC/redfish/v1/Chassis/1");
    if (status != 200) return why("HTTP " + std::to_string(status) + " from the BMC");
    const std::string start = trimmed(body.substr(0, 256));
    if (content_type.find("html") != std::string::npos || (!start.empty() && start[0] == '<'))
        return why(
            "the BMC answered with HTML, not Redfish JSON (a login page or a proxy?); "
            "check --redfish-url");
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return why("the BMC's answer is not a JSON object; check --redfish-url");

    if (auto pc = j.find("PowerControl"); pc != j.end()) {
        if (!pc->is_array() || pc->empty() || !(*pc)[0].is_object())
            return why("Power has an empty PowerControl; the BMC reports no node power");
        const auto& first = (*pc)[0];
        auto w = first.find("PowerConsumedWatts");
        if (w == first.end())
            return why("PowerControl[0] has no PowerConsumedWatts; the BMC reports no node power");
        return value_of(Kind::watts, *w, "PowerControl[0].PowerConsumedWatts");
    }
    if (auto e = j.find("EnergykWh"); e != j.end()) {
        if (!e->is_object()) return why("EnvironmentMetrics EnergykWh is not an object");
        if (auto r = e->find("Reading"); r != e->end() && !r->is_null())
            return value_of(Kind::energy_kwh, *r, "EnergykWh.Reading");
        if (auto u = e->find("DataSourceUri");
            u != e->end() && u->is_string() && !u->get<std::string>().empty()) {
            RedfishReading r;
            r.kind = Kind::link;
            r.link = u->get<std::string>();
            return r;
        }
        return why("EnvironmentMetrics EnergykWh has neither Reading nor DataSourceUri");
    }
    if (auto u = j.find("ReadingUnits"); u != j.end()) {
        if (!u->is_string() || u->get<std::string>() != "kWh")
            return why("the sensor reads " + shown(*u) + ", not kWh");
        auto r = j.find("Reading");
        if (r == j.end()) return why("the kWh sensor has no Reading");
        return value_of(Kind::energy_kwh, *r, "the kWh sensor's Reading");
    }
    return why(
        "the answer has no PowerControl, EnergykWh or kWh sensor Reading; check "
        "--redfish-url");
}

}  // namespace hearth
