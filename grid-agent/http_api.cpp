#include "http_api.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <httplib.h>

#include "agent.hpp"
#include "core/agent_bodies.hpp"
#include "core/api_request.hpp"
#include "core/error.hpp"
#include "core/json_server.hpp"
#include "core/ledger.hpp"
#include "core/token_validity.hpp"
#include "log.hpp"

namespace hearth {
namespace {

std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name) {
    if (!req.has_param(name)) return std::nullopt;
    const std::string v = req.get_param_value(name);
    // Whole digits only, and small enough that adding a day or a week to it
    // cannot overflow (2^53: any time in milliseconds people use).
    std::size_t used = 0;
    long long n = 0;
    try {
        n = std::stoll(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (v.empty() || used != v.size() || n < 0 || n > (1LL << 53))
        throw usage_error(std::string("query parameter '") + name +
                          "' must be a whole number from 0 to 2^53");
    return n;
}

// Which policy route a request is (core/auth); nullopt: no such API route.
std::optional<Route> route_of(const httplib::Request& req) {
    const std::string& p = req.path;
    const bool get = req.method == "GET" || req.method == "HEAD";
    const bool post = req.method == "POST";
    // Open routes answer GET only: anything else is refused before httplib
    // reads a body for it.
    if (p == "/v1/health") return get ? std::optional<Route>(Route::health) : std::nullopt;
    if (p == "/metrics") return get ? std::optional<Route>(Route::metrics) : std::nullopt;
    if (p.rfind("/v1/", 0) != 0) return get ? std::optional<Route>(Route::dashboard) : std::nullopt;
    if (get && p == "/v1/whoami") return Route::whoami;
    if (get && p == "/v1/node") return Route::node;
    if (get && p == "/v1/energy") return Route::energy;
    if (get && (p == "/v1/heat" || p == "/v1/grid" || p == "/v1/history")) return Route::heat_read;
    if (post && p == "/v1/heat/try") return Route::heat_try;
    if (post && p.rfind("/v1/heat/", 0) == 0) return Route::heat_write;
    if (post && p == "/v1/node/drain") return Route::drain;
    return std::nullopt;
}

void json_reply(httplib::Response& res, const nlohmann::json& j, int status = 200) {
    res.status = status;
    res.set_content(j.dump(), "application/json");
}

void error_reply(httplib::Response& res, const Error& e) {
    json_reply(res, {{"error", e.what()}}, e.code() == ExitCode::usage ? 400 : 500);
}

// The dashboard's files: the --dashboard directory, else next to the
// executable when they are there ("" = serve the API alone).
std::string dashboard_dir(const std::string& configured) {
    if (!configured.empty()) return configured;
    std::error_code ec;
    auto dir = installed_dashboard_dir();
    return !dir.empty() && std::filesystem::is_directory(dir, ec) ? dir.string() : "";
}

}  // namespace

HttpApi::HttpApi(const AgentConfig& cfg, std::shared_ptr<const Clock> clock, Agent& agent)
    : m_cfg(cfg), m_clock(std::move(clock)), m_agent(agent) {
    if (!m_cfg.tokens.empty()) m_tokens = std::make_shared<TokenFile>(m_cfg.tokens);
}

HttpApi::~HttpApi() {
    stop();
    if (m_thread.joinable()) m_thread.join();
}

void HttpApi::stop() {
    if (m_server) m_server->stop();
}

void HttpApi::start() {
    const bool tls = !m_cfg.tls_cert.empty();
    if (tls) {
        // Both files are read now, so a bad path fails the start, not the first request.
        for (const auto& f : {m_cfg.tls_cert, m_cfg.tls_key})
            if (::access(f.c_str(), R_OK) != 0)
                throw usage_error("cannot read TLS file " + f + ": " + std::strerror(errno) +
                                  "; check --tls-cert and --tls-key");
        auto ssl =
            std::make_unique<httplib::SSLServer>(m_cfg.tls_cert.c_str(), m_cfg.tls_key.c_str());
        if (!ssl->is_valid())
            throw usage_error(
                "TLS certificate " + m_cfg.tls_cert + " or key " + m_cfg.tls_key +
                " is not valid PEM, or they do not match; make them with openssl req -x509");
        m_server = std::move(ssl);
    } else {
        m_server = std::make_unique<httplib::Server>();
    }
    add_routes();
    auto& s = *m_server;
    if (std::string dir = dashboard_dir(m_cfg.dashboard); !dir.empty()) {
        if (!s.set_mount_point("/", dir))
            throw usage_error("dashboard directory " + dir +
                              " does not exist; give --dashboard DIR");
    }
    auto [host, port] = split_listen(m_cfg.listen);
    if (!is_loopback_host(host) && !tls)
        log_line("warning: serving plain HTTP on " + m_cfg.listen +
                 " (--insecure-http): tokens and figures cross the network unencrypted");
    int bound = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
    if (bound < 0)
        throw Error("cannot listen on " + m_cfg.listen + ": " + std::strerror(errno) +
                    "; is another grid-agent running? choose another --listen");
    m_port = bound;
    m_thread = std::thread([this] { m_server->listen_after_bind(); });
}

void HttpApi::add_routes() {
    auto& s = *m_server;
    bound_json_server(s);
    // Authentication and the role check happen before any route runs.
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        auto route = route_of(req);
        if (!route) {
            json_reply(res,
                       {{"error", "no such route: " + req.method + " " + req.path.substr(0, 100) +
                                      "; see hearth-api(7)"}},
                       404);
            return httplib::Server::HandlerResponse::Handled;
        }
        // Debian's httplib 0.11 does not apply the payload limit to chunked
        // bodies; no client of this API sends one. And a POST must say it is
        // JSON, which a cross-site form cannot without a CORS preflight.
        if (req.has_header("Transfer-Encoding")) {
            json_reply(res, {{"error", "chunked bodies are not accepted; send Content-Length"}},
                       411);
            return httplib::Server::HandlerResponse::Handled;
        }
        if (req.method == "POST") {
            const std::string ct = req.get_header_value("Content-Type");
            if (ct.rfind("application/json", 0) != 0) {
                json_reply(res, {{"error", "send the body as Content-Type: application/json"}},
                           415);
                return httplib::Server::HandlerResponse::Handled;
            }
        }
        const bool given = req.has_header("Authorization");
        const auto who = caller(req);
        // A revoked or expired token is refused on every route but the open ones.
        Decision d = authorize(given || !m_tokens, who, *route, m_cfg.site, m_cfg.public_metrics);
        if (d.allowed() && route != Route::health && route != Route::dashboard && given)
            d = token_in_force(who, m_clock->unix_ms());
        if (!d.allowed()) {
            if (d.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"hearth\"");
            json_reply(res, {{"error", d.error}}, d.status);
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    s.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
        json_reply(res, {{"ok", true}, {"node", m_cfg.node}, {"site", m_cfg.site}});
    });
    s.Get("/v1/whoami", [this](const httplib::Request& req, httplib::Response& res) {
        Role r = *caller(req);
        nlohmann::json j{{"role", to_string(r)},
                         {"auth", m_tokens != nullptr},
                         {"node", m_cfg.node},
                         {"site", m_cfg.site}};
        j["kind"] = to_string(r.kind);
        if (r.kind == RoleKind::tenant) j["tenant"] = r.scope;
        if (r.kind == RoleKind::facility)
            j["scope"] = r.scope.empty() ? nlohmann::json() : nlohmann::json(r.scope);
        json_reply(res, j);
    });
    s.Get("/v1/node", [this](const httplib::Request&, httplib::Response& res) {
        json_reply(res, m_agent.node_json());
    });
    s.Get("/v1/energy", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            Role who = *caller(req);
            EnergyQuery q;
            if (who.kind == RoleKind::tenant) {
                // A tenant sees itself only, however the query is written.
                std::vector<std::pair<std::string, std::string>> params(req.params.begin(),
                                                                        req.params.end());
                Decision d = check_tenant_query(who, params);
                if (!d.allowed()) return json_reply(res, {{"error", d.error}}, d.status);
            }
            for (const auto& [name, value] : req.params)
                if (name != "tenant" && name != "job" && name != "site" && name != "node" &&
                    name != "since_ms" && name != "until_ms" && name != "by")
                    throw usage_error("unknown query parameter '" + name.substr(0, 64) +
                                      "'; use tenant, job, site, node, since_ms, until_ms or by");
            if (req.has_param("tenant")) q.tenant = req.get_param_value("tenant");
            if (req.has_param("job")) q.job = req.get_param_value("job");
            if (req.has_param("site")) q.site = req.get_param_value("site");
            if (req.has_param("node")) q.node = req.get_param_value("node");
            if (who.kind == RoleKind::tenant) q.tenant = who.scope;
            q.since_ms = int_param(req, "since_ms");
            q.until_ms = int_param(req, "until_ms");
            if (req.has_param("by")) q.by = req.get_param_value("by");
            Ledger ro(m_cfg.ledger, true);
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& r : ro.query(q)) rows.push_back(energy_row_json(r));
            json_reply(res, {{"node", m_cfg.node}, {"by", q.by}, {"rows", rows}});
        } catch (const Error& e) {
            error_reply(res, e);
        }
    });
    s.Get("/v1/heat", [this](const httplib::Request&, httplib::Response& res) {
        json_reply(res, m_agent.heat_json());
    });
    s.Get("/v1/grid", [this](const httplib::Request&, httplib::Response& res) {
        json_reply(res, grid_json());
    });
    s.Get("/v1/history", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            std::optional<int> res_s;
            if (auto r = int_param(req, "res_s")) {
                if (*r < 1 || *r > 3600) throw usage_error("res_s must be between 1 and 3600");
                res_s = static_cast<int>(*r);
            }
            if (req.has_param("site") && req.get_param_value("site") != m_cfg.site)
                throw usage_error("this agent keeps the history of site '" + m_cfg.site + "' only");
            json_reply(res,
                       history_json(int_param(req, "since_ms"), int_param(req, "until_ms"), res_s));
        } catch (const Error& e) {
            error_reply(res, e);
        }
    });
    s.Post(R"(/v1/heat/(target|schedule|measured))",
           [this](const httplib::Request& req, httplib::Response& res) {
               try {
                   json_reply(res, m_agent.heat_post(req.matches[1], req.body));
               } catch (const Error& e) {
                   error_reply(res, e);
               }
           });
    // One try at a time: a week's simulation is some milliseconds of CPU,
    // and a burst of them must not starve the heat loop.
    s.Post("/v1/heat/try", [this](const httplib::Request& req, httplib::Response& res) {
        if (m_trying.exchange(true))
            return json_reply(
                res, {{"error", "another try is running on this agent; ask again in a moment"}},
                429);
        struct Done {
            std::atomic<bool>& flag;
            ~Done() { flag = false; }
        } done{m_trying};
        try {
            json_reply(res, m_agent.heat_try(req.body));
        } catch (const Error& e) {
            json_reply(res, {{"error", e.what()}}, e.http_status());
        }
    });
    s.Post("/v1/node/drain", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            nlohmann::json body;
            try {
                body = nlohmann::json::parse(req.body);
            } catch (const std::exception&) {
                throw usage_error(
                    "the body is not JSON; send {\"drain\": true} or {\"drain\": false}");
            }
            if (!body.is_object() || body.size() != 1 || !body.contains("drain") ||
                !body["drain"].is_boolean())
                throw usage_error("send {\"drain\": true} or {\"drain\": false}");
            m_agent.set_drained(body["drain"].get<bool>());
            json_reply(res, m_agent.node_json());
        } catch (const Error& e) {
            error_reply(res, e);
        }
    });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(m_agent.metrics_text(), "text/plain; version=0.0.4");
    });
}

nlohmann::json HttpApi::grid_json() {
    nlohmann::json heat = m_agent.heat_json();
    nlohmann::json node = m_agent.node_json();
    const double power = node.value("power_w", 0.0);
    nlohmann::json site{{"site", m_cfg.site},
                        {"heat", heat.value("heat", false) ? heat : nlohmann::json()},
                        {"power_w", power},
                        {"today_kwh", heat.value("today_kwh", 0.0)},
                        {"today_useful_kwh", heat.value("today_useful_kwh", 0.0)},
                        {"alarms", nlohmann::json::array()}};
    if (auto a = heat.find("alarm");
        a != heat.end() && a->is_string() && !a->get<std::string>().empty())
        site["alarms"].push_back(*a);
    site["nodes"] = nlohmann::json::array({{{"node", m_cfg.node},
                                            {"agent", ""},
                                            {"state", m_agent.drained() ? "drained" : "up"},
                                            {"power_w", power},
                                            {"slots", heat.value("slots", 0)},
                                            {"slots_allowed", heat.value("slots_allowed", 0)},
                                            {"tasks", node["tasks"].size()}}});
    return {{"sites", nlohmann::json::array({site})}};
}

nlohmann::json HttpApi::history_json(std::optional<std::int64_t> since_ms,
                                     std::optional<std::int64_t> until_ms,
                                     std::optional<int> res_s) {
    const std::int64_t now = m_clock->unix_ms();
    const std::int64_t until = until_ms.value_or(now + 1);
    const std::int64_t since = since_ms.value_or(until - std::int64_t{24} * 3600 * 1000);
    if (since >= until) throw usage_error("since_ms must be before until_ms");
    const int step = static_cast<int>(m_cfg.history_step_s);
    int res = res_s.value_or(pick_resolution(since, until) == 10 ? step : 60);
    if (res != step && res != 60)
        throw usage_error("res_s must be " + std::to_string(step) +
                          " or 60 (the resolutions kept)");
    std::vector<HistoryPoint> points;
    {
        Ledger ro(m_cfg.ledger, true);
        points = ro.history(res, since, until, 12000);  // 8 days of minutes: 11,520
    }
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& p : points) arr.push_back(history_point_json(p));
    return {{"node", m_cfg.node}, {"site", m_cfg.site}, {"res_s", res}, {"points", arr}};
}

std::optional<Role> HttpApi::caller(const httplib::Request& req) const {
    if (!m_tokens) return Role{RoleKind::operator_, "", "no-auth"};
    if (!req.has_header("Authorization")) return std::nullopt;
    auto tok = bearer_token(req.get_header_value("Authorization"));
    if (!tok) return std::nullopt;
    return m_tokens->find(*tok);
}

}  // namespace hearth
