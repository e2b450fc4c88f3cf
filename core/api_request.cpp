#include "api_request.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "json_checks.hpp"
#include "site_schedule.hpp"

namespace hearth {
namespace {

using json_checks::finite_number;
using json_checks::safe_string;
using json_checks::whole;
using nlohmann::json;

json parse_object(const std::string& text, const char* example) {
    if (text.size() > k_max_body_bytes)
        throw usage_error("request body over 64 KiB; send one small JSON object");
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception&) {
        // NaN, Infinity and 1e309 land here too: none is a JSON number.
        throw usage_error(std::string("the body is not valid JSON (numbers must be finite); send an object like ") + example);
    }
    if (!j.is_object()) throw usage_error(std::string("the body must be a JSON object like ") + example);
    return j;
}

void only_keys(const json& j, std::initializer_list<const char*> keys) {
    for (const auto& [k, v] : j.items()) {
        bool known = false;
        for (const char* want : keys) known = known || k == want;
        if (!known) {
            std::string list;
            for (const char* want : keys) list += std::string(list.empty() ? "" : ", ") + want;
            throw usage_error("unknown field '" + k.substr(0, 64) + "'; valid fields: " + list);
        }
    }
}

std::optional<std::string> site_field(const json& j, const Site& site) {
    if (!j.contains("site") || j["site"].is_null()) return std::nullopt;
    std::string s = safe_string(j, "site", "the site to change");
    if (s != site.name)
        throw usage_error("this agent's site is '" + site.name + "', not '" + s +
                          "'; send the change to an agent of that site");
    return s;
}

}  // namespace

HeatChange parse_heat_change(const std::string& what, const std::string& body, const Site& site,
                             std::int64_t now_unix) {
    if (what == "target") {
        json j = parse_object(body, "{\"target\": 58}");
        only_keys(j, {"target", "until_unix", "site"});
        TargetChange c;
        c.site = site_field(j, site);
        c.target = finite_number(j, "target", "degrees C");
        check_target(site, c.target);
        if (j.contains("until_unix") && !j["until_unix"].is_null()) {
            c.until_unix = whole<std::int64_t>(j, "until_unix", 0, std::numeric_limits<std::int64_t>::max(),
                                               "whole seconds since 1970");
            if (*c.until_unix <= now_unix)
                throw usage_error("'until_unix' is in the past; give a later time or none");
        }
        return c;
    }
    if (what == "schedule") {
        json j = parse_object(body, "{\"schedule\": \"weekdays 06:00-22:00 at 60; otherwise 55\"}");
        only_keys(j, {"schedule", "site"});
        ScheduleChange c;
        c.site = site_field(j, site);
        if (!j.contains("schedule") || !j["schedule"].is_string())
            throw usage_error("'schedule' must be a string such as \"weekdays 06:00-22:00 at 60; otherwise 55\" or \"none\"");
        const std::string spec = j["schedule"].get<std::string>();
        if (spec.size() > 4096) throw usage_error("'schedule' is over 4 KiB; a week fits in far less");
        // As `hearth heat schedule` checks it, with its message.
        c.schedule = checked_schedule(site, spec);
        return c;
    }
    if (what == "measured") {
        json j = parse_object(body, "{\"measured\": 57.2}");
        only_keys(j, {"measured", "site"});
        MeasuredChange c;
        c.site = site_field(j, site);
        c.measured = finite_number(j, "measured", "degrees C");
        if (c.measured < -50 || c.measured > 150)
            throw usage_error("'measured' must be between -50 and 150 C; is the sensor reading right?");
        return c;
    }
    throw usage_error("unknown heat change '" + what.substr(0, 32) + "'; use target, schedule or measured");
}

namespace {
constexpr const char* k_try_example =
    "{\"schedule\": \"weekdays 07:00-19:00 at 21; otherwise 16\", \"horizon_h\": 24}";
}  // namespace

TryRequest parse_try_request(const std::string& body, const Site& site) {
    if (body.size() > k_max_try_body_bytes)
        throw usage_error("request body over 8 KiB; a try is one schedule, send it alone");
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw usage_error(std::string("the body must be a JSON object like ") + k_try_example);
    for (const auto& [k, v] : j.items())
        if (k != "schedule" && k != "target" && k != "horizon_h" && k != "work" && k != "site")
            throw usage_error("unknown field '" + k.substr(0, 64) +
                              "'; valid fields: schedule, target, horizon_h, work, site");
    if (j.contains("site") && !j["site"].is_null()) {
        if (!j["site"].is_string() || j["site"].get<std::string>() != site.name)
            throw usage_error("this agent's site is '" + site.name +
                              "'; send the try to an agent of the site you name");
    }
    TryRequest r;
    const bool has_schedule = j.contains("schedule") && !j["schedule"].is_null();
    const bool has_target = j.contains("target") && !j["target"].is_null();
    if (has_schedule == has_target)
        throw usage_error(std::string("send either 'schedule' or 'target', not ") +
                          (has_schedule ? "both" : "neither") + "; for example " + k_try_example);
    if (has_schedule) {
        if (!j["schedule"].is_string())
            throw usage_error(
                "'schedule' must be a string such as \"weekdays 07:00-19:00 at 21; otherwise 16\"");
        const std::string spec = j["schedule"].get<std::string>();
        if (spec.size() > 4096)
            throw usage_error("'schedule' is over 4 KiB; a week fits in far less");
        r.schedule = checked_schedule(site, spec);
    } else {
        if (!j["target"].is_number()) throw usage_error("'target' must be a number of degrees C");
        r.target = j["target"].get<double>();
        check_target(site, *r.target);
    }
    if (j.contains("horizon_h") && !j["horizon_h"].is_null()) {
        const json& h = j["horizon_h"];
        if (!h.is_number_integer() || (h.get<std::int64_t>() != 24 && h.get<std::int64_t>() != 168))
            throw usage_error("'horizon_h' must be 24 or 168 (the next day or the next week)");
        r.horizon_h = static_cast<int>(h.get<std::int64_t>());
    }
    if (j.contains("work") && !j["work"].is_null()) {
        const json& w = j["work"];
        if (!w.is_number() || !(w.get<double>() >= 0 && w.get<double>() <= 1))
            throw usage_error(
                "'work' must be a share of the slots from 0 to 1 (leave it out to use the "
                "history's)");
        r.work = w.get<double>();
    }
    return r;
}

}  // namespace hearth
