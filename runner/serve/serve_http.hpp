#pragma once
// Small pieces every route of hearth serve shares (serve_routes,
// serve_blobs, serve_events): JSON replies and errors, strict query
// parameters, and the wrapper that turns a thrown Error into its status.
#include <httplib.h>

#include <iostream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace hearth::serve_http {

using nlohmann::json;

inline void json_reply(httplib::Response& res, const json& j, int status = 200) {
    res.status = status;
    res.set_content(j.dump(), "application/json");
}

inline void error_reply(httplib::Response& res, int status, const std::string& msg) {
    json_reply(res, {{"error", msg}}, status);
    if (status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"hearth\"");
}

inline json parse_body(const std::string& body, const char* what) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw usage_error(std::string("the body is not a JSON object; send ") + what + " (hearth-api(7))");
    return j;
}

// A whole number query parameter within [0, max], or fallback when absent.
inline std::uint64_t uint_param(const httplib::Request& req, const char* name, std::uint64_t fallback,
                         std::uint64_t max) {
    if (!req.has_param(name)) return fallback;
    const std::string v = req.get_param_value(name);
    std::uint64_t n = 0;
    bool ok = !v.empty() && v.size() <= 19;
    for (char c : v) {
        ok = ok && c >= '0' && c <= '9';
        if (ok) n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!ok || n > max)
        throw usage_error(std::string("query parameter '") + name + "' must be a whole number from 0 to " +
                          std::to_string(max));
    return n;
}

inline void only_params(const httplib::Request& req, std::initializer_list<const char*> names) {
    std::set<std::string> seen;
    for (const auto& [name, value] : req.params) {
        bool known = false;
        for (const char* n : names) known = known || name == n;
        if (!known) {
            std::string list;
            for (const char* n : names) list += std::string(list.empty() ? "" : ", ") + n;
            throw usage_error("unknown query parameter '" + name.substr(0, 64) + "'; use " +
                              (list.empty() ? std::string("none") : list));
        }
        // A server reading the first and a proxy the last would disagree.
        if (!seen.insert(name).second)
            throw usage_error("query parameter '" + name + "' given twice; give each at most once");
    }
}

inline std::string path_part(const httplib::Request& req, std::size_t i) { return req.matches[i].str(); }

inline json list_json(const auto& items) {
    json a = json::array();
    for (const auto& i : items) a.push_back(to_json(i));
    return a;
}

// A route's body, with the scheduler's errors answered with their own status.
template <class Body>
auto guarded(Body body) {
    return [body](const httplib::Request& req, httplib::Response& res) {
        try {
            body(req, res);
        } catch (const Error& e) {
            error_reply(res, e.http_status(), e.what());
        } catch (const std::exception& e) {
            std::cerr << "hearth serve: " << req.method << " " << req.path << ": " << e.what() << std::endl;
            error_reply(res, 500, std::string("internal error: ") + e.what());
        }
    };
}

}  // namespace hearth::serve_http
