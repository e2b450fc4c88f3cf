#include "runner/serve/serve_routes.hpp"

#include <chrono>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/api_request.hpp"
#include "core/error.hpp"
#include "core/json_server.hpp"
#include "core/token_validity.hpp"
#include "runner/serve/serve_http.hpp"

namespace hearth {

using namespace serve_http;

namespace {

// What the pre-routing check needs to know of a request before its body is
// read: its role route, the site it names, and how large its body may be.
struct RouteInfo {
    ServeRoute route = ServeRoute::health;
    std::string site;
    std::uint64_t max_body = 0;
};

std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    std::size_t at = 1;
    while (at <= path.size()) {
        auto slash = path.find('/', at);
        if (slash == std::string::npos) slash = path.size();
        out.push_back(path.substr(at, slash - at));
        at = slash + 1;
    }
    return out;
}

std::optional<RouteInfo> route_of(const httplib::Request& req) {
    const bool get = req.method == "GET" || req.method == "HEAD";
    const bool post = req.method == "POST";
    const auto s = segments(req.path);
    if (s.size() < 2 || s[0] != "v1") return std::nullopt;
    const std::size_t n = s.size();
    if (n == 2 && s[1] == "health" && get) return RouteInfo{ServeRoute::health, "", 0};
    if (n == 2 && s[1] == "whoami" && get) return RouteInfo{ServeRoute::whoami, "", 0};
    if (n == 2 && s[1] == "overview" && get) return RouteInfo{ServeRoute::overview, "", 0};
    if (s[1] == "jobs") {
        if (n == 2 && post) return RouteInfo{ServeRoute::jobs, "", k_max_submit_body};
        if (n == 2 && get) return RouteInfo{ServeRoute::jobs, "", 0};
        if (n == 3 && get) return RouteInfo{ServeRoute::jobs, "", 0};
        if (n == 4 && post && (s[3] == "cancel" || s[3] == "resume"))
            return RouteInfo{ServeRoute::jobs, "", k_max_body_bytes};
        if (n == 4 && get && (s[3] == "tasks" || s[3] == "outputs" || s[3] == "events"))
            return RouteInfo{ServeRoute::jobs, "", 0};
        if (n == 6 && get && s[3] == "tasks" && s[5] == "log") return RouteInfo{ServeRoute::jobs, "", 0};
        return std::nullopt;
    }
    if (s[1] == "blobs" && n == 4 && s[3] == "thumb" && get)
        return RouteInfo{ServeRoute::blob_read, "", 0};
    if (s[1] == "blobs" && n == 3) {
        if (get) return RouteInfo{ServeRoute::blob_read, "", 0};
        if (req.method == "PUT") return RouteInfo{ServeRoute::blob_write, "", k_max_blob_bytes};
        return std::nullopt;
    }
    if (s[1] == "sites" && n == 4 && s[3] == "work" && post)
        return RouteInfo{ServeRoute::site_work, s[2], k_max_work_body};
    return std::nullopt;
}

}  // namespace

ServeApi::ServeApi(Scheduler& scheduler, std::mutex& mu, std::shared_ptr<TokenFile> tokens,
                   std::string state_dir)
    : m_sched(scheduler),
      m_mu(mu),
      m_tokens(std::move(tokens)),
      m_state_dir(std::move(state_dir)) {}

std::optional<Role> ServeApi::caller(const httplib::Request& req) const {
    if (!m_tokens) return Role{RoleKind::operator_, "", "no-auth"};
    auto tok = bearer_token(req.get_header_value("Authorization"));
    if (!tok) return std::nullopt;
    return m_tokens->find(*tok);
}

void ServeApi::stop() {
    m_stopping = true;
    m_wake.notify_all();
}

void ServeApi::install(httplib::Server& s) {
    bound_json_server(s);
    // Uploads and a site's results are larger than the 64 KiB of a JSON
    // request; each route's own limit is checked below, before its body is read.
    s.set_payload_max_length(k_max_blob_bytes);
    // Event streams hold a thread each: room for them and for everyone else.
    s.new_task_queue = [] { return new httplib::ThreadPool(k_max_event_streams + 16); };

    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        using H = httplib::Server::HandlerResponse;
        auto route = route_of(req);
        // The dashboard's page (cmd_serve mounts its files at /) is open, as
        // on the agents: it holds no data and asks /v1 with the user's token.
        // A file that is not there is the library's 404, JSON as every other.
        if (!route && (req.method == "GET" || req.method == "HEAD") && req.path.rfind("/v1/", 0) != 0 &&
            req.path != "/v1")
            return H::Unhandled;
        if (!route) {
            error_reply(res, 404, "no such route: " + req.method + " " + req.path.substr(0, 100) +
                                      "; see hearth-api(7)");
            return H::Handled;
        }
        // Debian's httplib 0.11 does not apply the payload limit to chunked
        // bodies; no client of this API sends one.
        if (req.has_header("Transfer-Encoding")) {
            error_reply(res, 411, "chunked bodies are not accepted; send Content-Length");
            return H::Handled;
        }
        if (req.method == "POST" && req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
            error_reply(res, 415, "send the body as Content-Type: application/json");
            return H::Handled;
        }
        const std::string length = req.get_header_value("Content-Length");
        std::uint64_t declared = 0;
        try {
            declared = length.empty() ? 0 : std::stoull(length);
        } catch (const std::exception&) {
            declared = ~std::uint64_t{0};
        }
        if (declared > route->max_body) {
            error_reply(res, 413, "request body over " + std::to_string(route->max_body) +
                                      " bytes, this route's limit (hearth-api(7))");
            return H::Handled;
        }
        const bool given = req.has_header("Authorization");
        const auto who = caller(req);
        Decision d = authorize_serve(given || !m_tokens, who, route->route, route->site);
        // A revoked or expired token: refused with its reason, without a restart.
        if (d.allowed() && given && route->route != ServeRoute::health)
            d = token_in_force(who, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
        if (!d.allowed()) {
            error_reply(res, d.status, d.error);
            return H::Handled;
        }
        return H::Unhandled;
    });

    s.Get("/v1/health", [](const httplib::Request&, httplib::Response& res) {
        json_reply(res, {{"ok", true}, {"scheduler", true}});
    });
    s.Get("/v1/whoami", guarded([this](const httplib::Request& req, httplib::Response& res) {
              const Role r = *caller(req);
              json j{{"role", to_string(r)},
                     {"kind", to_string(r.kind)},
                     {"auth", m_tokens != nullptr},
                     {"scheduler", true}};
              if (r.kind == RoleKind::tenant) j["tenant"] = r.scope;
              if (r.kind == RoleKind::site) j["site"] = r.scope;
              json_reply(res, j);
          }));

    s.Get("/v1/overview", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {});
              json_reply(res, to_json(durable([&] { return m_sched.overview(*caller(req)); })));
          }));
    s.Post("/v1/jobs", guarded([this](const httplib::Request& req, httplib::Response& res) {
               only_params(req, {});
               const JobSubmit sub = job_submit_from_json(parse_body(req.body, "a job submission"));
               json_reply(res, to_json(durable([&] { return m_sched.submit(*caller(req), sub); })),
                          201);
           }));
    s.Get("/v1/jobs", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {"tenant", "state", "limit"});
              const Role who = *caller(req);
              if (who.kind == RoleKind::tenant) {
                  // Naming another tenant is refused, not answered with an empty list.
                  std::vector<std::pair<std::string, std::string>> params(req.params.begin(), req.params.end());
                  const Decision d = check_tenant_query(who, params);
                  if (!d.allowed()) return error_reply(res, d.status, d.error);
              }
              JobFilter f;
              if (req.has_param("tenant")) f.tenant = req.get_param_value("tenant");
              if (who.kind == RoleKind::tenant) f.tenant = who.scope;
              if (req.has_param("state")) f.state = parse_job_state(req.get_param_value("state"));
              f.limit = uint_param(req, "limit", 1000, 100000);
              json_reply(res, {{"jobs", list_json(durable([&] { return m_sched.jobs(who, f); }))}});
          }));
    s.Get(R"(/v1/jobs/([^/]+))", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {});
              json_reply(
                  res,
                  to_json(durable([&] { return m_sched.job(*caller(req), path_part(req, 1)); })));
          }));
    s.Post(R"(/v1/jobs/([^/]+)/(cancel|resume))",
           guarded([this](const httplib::Request& req, httplib::Response& res) {
               only_params(req, {});
               const Role who = *caller(req);
               const std::string id = path_part(req, 1);
               json_reply(res, to_json(durable([&] {
                              return req.matches[2] == "cancel" ? m_sched.cancel(who, id)
                                                                : m_sched.resume(who, id);
                          })));
               m_wake.notify_all();
           }));
    s.Get(R"(/v1/jobs/([^/]+)/tasks)", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {"from", "limit"});
              const std::uint64_t from = uint_param(req, "from", 0, ~std::uint64_t{0} >> 1);
              const std::size_t limit = uint_param(req, "limit", 100, 10000);
              json_reply(res, {{"tasks", list_json(durable([&] {
                                    return m_sched.tasks(*caller(req), path_part(req, 1), from,
                                                         limit);
                                }))}});
          }));
    s.Get(R"(/v1/jobs/([^/]+)/tasks/(\d{1,19})/log)",
          guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {"attempt"});
              std::optional<std::uint32_t> attempt;
              if (req.has_param("attempt"))
                  attempt = static_cast<std::uint32_t>(uint_param(req, "attempt", 1, 1000000));
              const std::uint64_t task = std::stoull(req.matches[2].str());
              res.set_content(durable([&] {
                                  return m_sched.task_log(*caller(req), path_part(req, 1), task,
                                                          attempt);
                              }),
                              "text/plain; charset=utf-8");
          }));
    s.Get(R"(/v1/jobs/([^/]+)/outputs)", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {});
              json_reply(res, {{"outputs", list_json(durable([&] {
                                    return m_sched.outputs(*caller(req), path_part(req, 1));
                                }))}});
          }));
    install_event_route(s);
    install_blob_routes(s);
    s.Post(R"(/v1/sites/([^/]+)/work)", guarded([this](const httplib::Request& req, httplib::Response& res) {
               only_params(req, {});
               const std::string site = req.matches[1];
               const WorkRequest r = work_request_from_json(parse_body(req.body, "a work request"));
               if (r.site != site)
                   throw usage_error("the body's 'site' is '" + r.site.substr(0, 64) + "' but the URL names '" +
                                     site + "'; send each site's request to its own URL");
               // Group commit (core/group_sync): the lock covers the
               // scheduler's work and its COMMIT; the fsync, shared with the
               // requests that committed meanwhile, and the reply's text
               // happen outside it. The reply goes out only once durable.
               const WorkReply reply = durable([&] { return m_sched.work(site, r); });
               res.set_content(work_reply_text(reply), "application/json");
               m_wake.notify_all();
           }));
}

}  // namespace hearth
