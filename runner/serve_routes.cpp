#include "serve_routes.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "blob_sink.hpp"
#include "core/api_request.hpp"
#include "core/error.hpp"
#include "core/json_server.hpp"

namespace hearth {
namespace {

using nlohmann::json;

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
    if (s[1] == "blobs" && n == 3) {
        if (get) return RouteInfo{ServeRoute::blob_read, "", 0};
        if (req.method == "PUT") return RouteInfo{ServeRoute::blob_write, "", k_max_blob_bytes};
        return std::nullopt;
    }
    if (s[1] == "sites" && n == 4 && s[3] == "work" && post)
        return RouteInfo{ServeRoute::site_work, s[2], k_max_work_body};
    return std::nullopt;
}

void json_reply(httplib::Response& res, const json& j, int status = 200) {
    res.status = status;
    res.set_content(j.dump(), "application/json");
}

void error_reply(httplib::Response& res, int status, const std::string& msg) {
    json_reply(res, {{"error", msg}}, status);
    if (status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"hearth\"");
}

json parse_body(const std::string& body, const char* what) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw usage_error(std::string("the body is not a JSON object; send ") + what + " (hearth-api(7))");
    return j;
}

// A whole number query parameter within [0, max], or fallback when absent.
std::uint64_t uint_param(const httplib::Request& req, const char* name, std::uint64_t fallback,
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

void only_params(const httplib::Request& req, std::initializer_list<const char*> names) {
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

std::string path_part(const httplib::Request& req, std::size_t i) { return req.matches[i].str(); }

json list_json(const auto& items) {
    json a = json::array();
    for (const auto& i : items) a.push_back(to_json(i));
    return a;
}

}  // namespace

ServeApi::ServeApi(Scheduler& scheduler, std::mutex& mu, std::optional<TokenTable> tokens,
                   std::string state_dir)
    : m_sched(scheduler), m_mu(mu), m_tokens(std::move(tokens)), m_state_dir(std::move(state_dir)) {}

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
        const Decision d = authorize_serve(req.has_header("Authorization") || !m_tokens, caller(req),
                                           route->route, route->site);
        if (!d.allowed()) {
            error_reply(res, d.status, d.error);
            return H::Handled;
        }
        return H::Unhandled;
    });

    // Every route: the scheduler's errors carry their own status.
    auto guarded = [](auto body) {
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
    };

    s.Get("/v1/health", [](const httplib::Request&, httplib::Response& res) {
        json_reply(res, {{"ok", true}, {"scheduler", true}});
    });
    s.Get("/v1/whoami", guarded([this](const httplib::Request& req, httplib::Response& res) {
              const Role r = *caller(req);
              json j{{"role", to_string(r)}, {"kind", to_string(r.kind)}, {"auth", m_tokens.has_value()},
                     {"scheduler", true}};
              if (r.kind == RoleKind::tenant) j["tenant"] = r.scope;
              if (r.kind == RoleKind::site) j["site"] = r.scope;
              json_reply(res, j);
          }));

    s.Post("/v1/jobs", guarded([this](const httplib::Request& req, httplib::Response& res) {
               only_params(req, {});
               const JobSubmit sub = job_submit_from_json(parse_body(req.body, "a job submission"));
               std::lock_guard lock(m_mu);
               json_reply(res, to_json(m_sched.submit(*caller(req), sub)), 201);
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
              std::lock_guard lock(m_mu);
              json_reply(res, {{"jobs", list_json(m_sched.jobs(who, f))}});
          }));
    s.Get(R"(/v1/jobs/([^/]+))", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {});
              std::lock_guard lock(m_mu);
              json_reply(res, to_json(m_sched.job(*caller(req), path_part(req, 1))));
          }));
    s.Post(R"(/v1/jobs/([^/]+)/(cancel|resume))",
           guarded([this](const httplib::Request& req, httplib::Response& res) {
               only_params(req, {});
               const Role who = *caller(req);
               const std::string id = path_part(req, 1);
               std::lock_guard lock(m_mu);
               json_reply(res, to_json(req.matches[2] == "cancel" ? m_sched.cancel(who, id) : m_sched.resume(who, id)));
               m_wake.notify_all();
           }));
    s.Get(R"(/v1/jobs/([^/]+)/tasks)", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {"from", "limit"});
              const std::uint64_t from = uint_param(req, "from", 0, ~std::uint64_t{0} >> 1);
              const std::size_t limit = uint_param(req, "limit", 100, 10000);
              std::lock_guard lock(m_mu);
              json_reply(res, {{"tasks", list_json(m_sched.tasks(*caller(req), path_part(req, 1), from, limit))}});
          }));
    s.Get(R"(/v1/jobs/([^/]+)/tasks/(\d{1,19})/log)",
          guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {"attempt"});
              std::optional<std::uint32_t> attempt;
              if (req.has_param("attempt"))
                  attempt = static_cast<std::uint32_t>(uint_param(req, "attempt", 1, 1000000));
              const std::uint64_t task = std::stoull(req.matches[2].str());
              std::lock_guard lock(m_mu);
              res.set_content(m_sched.task_log(*caller(req), path_part(req, 1), task, attempt),
                              "text/plain; charset=utf-8");
          }));
    s.Get(R"(/v1/jobs/([^/]+)/outputs)", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {});
              std::lock_guard lock(m_mu);
              json_reply(res, {{"outputs", list_json(m_sched.outputs(*caller(req), path_part(req, 1)))}});
          }));
    s.Get(R"(/v1/jobs/([^/]+)/events)", guarded([this](const httplib::Request& req, httplib::Response& res) {
              only_params(req, {});
              const Role who = *caller(req);
              const std::string id = path_part(req, 1);
              {
                  // Refused (404, 403) as a plain JSON error, before the stream starts.
                  std::lock_guard lock(m_mu);
                  m_sched.job(who, id);
              }
              if (++m_streams > k_max_event_streams) {
                  --m_streams;
                  return error_reply(res, 503, "too many event streams open; poll GET /v1/jobs/" + id + " instead");
              }
              res.set_header("Cache-Control", "no-cache");
              auto last = std::make_shared<std::string>();
              auto quiet_since = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
              res.set_chunked_content_provider(
                  "text/event-stream",
                  [this, who, id, last, quiet_since](std::size_t, httplib::DataSink& sink) {
                      std::string text;
                      bool final = false;
                      try {
                          std::lock_guard lock(m_mu);
                          const JobInfo j = m_sched.job(who, id);
                          const std::string now = to_json(j).dump();
                          final = is_final(j.state);
                          if (now != *last) text = "event: job\ndata: " + now + "\n\n";
                          *last = now;
                      } catch (const std::exception& e) {
                          text = "event: error\ndata: " + json{{"error", e.what()}}.dump() + "\n\n";
                          final = true;
                      }
                      const auto now = std::chrono::steady_clock::now();
                      // A comment now and then: proxies and clients see the stream is alive.
                      if (text.empty() && now - *quiet_since > std::chrono::seconds(15)) text = ": alive\n\n";
                      if (!text.empty()) {
                          *quiet_since = now;
                          if (!sink.write(text.data(), text.size())) return false;
                      }
                      if (final || m_stopping) {
                          sink.done();
                          return true;
                      }
                      std::unique_lock lk(m_wake_mu);
                      m_wake.wait_for(lk, std::chrono::milliseconds(500), [this] { return m_stopping.load(); });
                      return true;
                  },
                  [this](bool) { --m_streams; });
          }));

    s.Put(R"(/v1/blobs/([0-9a-f]{64}))",
          [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
              try {
                  const std::string sha = req.matches[1];
                  if (!req.has_header("Content-Length"))
                      return error_reply(res, 411, "send Content-Length with the upload");
                  bool have = false;
                  {
                      std::lock_guard lock(m_mu);
                      have = m_sched.has_blob(sha);
                  }
                  // Streamed to where the content store keeps it
                  // (STATE/blobs/ab/SHA, core/content_store.hpp, hearth-queue(5))
                  // outside the lock: Scheduler::put_blob would need the whole
                  // upload in memory.
                  const std::string path = m_state_dir + "/blobs/" + sha.substr(0, 2) + "/" + sha;
                  // Read (and drop) the body even when the blob is there already:
                  // the connection stays usable for the client's next request.
                  std::optional<BlobSink> sink;
                  if (!have) sink.emplace(path, sha, k_max_blob_bytes);
                  std::string failure;
                  reader([&](const char* data, std::size_t n) {
                      if (!sink) return true;
                      try {
                          sink->write(data, n);
                          return true;
                      } catch (const std::exception& e) {
                          failure = e.what();
                          return false;
                      }
                  });
                  if (!failure.empty()) throw usage_error(failure);
                  if (sink) {
                      sink->commit();
                      std::lock_guard lock(m_mu);
                      if (!m_sched.has_blob(sha))
                          throw Error("the content store does not see blob " + sha + " at " + path);
                  }
                  json_reply(res, {{"sha256", sha}, {"stored", !have}}, have ? 200 : 201);
              } catch (const Error& e) {
                  error_reply(res, e.http_status(), e.what());
              } catch (const std::exception& e) {
                  error_reply(res, 500, std::string("internal error: ") + e.what());
              }
          });
    s.Put(R"(/v1/blobs/(.*))", [](const httplib::Request&, httplib::Response& res, const httplib::ContentReader&) {
        error_reply(res, 400, "a blob is named by its SHA-256: 64 lowercase hex digits (sha256sum FILE)");
    });
    s.Get(R"(/v1/blobs/([^/]*))", guarded([this](const httplib::Request& req, httplib::Response& res) {
              const std::string sha = req.matches[1];
              if (!is_sha256_hex(sha))
                  throw usage_error("a blob is named by its SHA-256: 64 lowercase hex digits (sha256sum FILE)");
              std::string path;
              {
                  std::lock_guard lock(m_mu);
                  if (!m_sched.has_blob(sha)) throw not_found_error("no blob " + sha + "; upload it with PUT first");
                  path = m_sched.blob_path(sha);
              }
              // Streamed from the file: a large output never sits in memory whole.
              const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
              if (fd < 0) throw Error("cannot open blob " + path + ": " + std::strerror(errno));
              const auto size = static_cast<std::size_t>(std::filesystem::file_size(path));
              res.set_content_provider(
                  size, "application/octet-stream",
                  [fd](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                      char buf[64 * 1024];
                      const ssize_t n = ::pread(fd, buf, std::min(length, sizeof buf), static_cast<off_t>(offset));
                      if (n <= 0) return false;
                      return sink.write(buf, static_cast<std::size_t>(n));
                  },
                  [fd](bool) { ::close(fd); });
          }));

    s.Post(R"(/v1/sites/([^/]+)/work)", guarded([this](const httplib::Request& req, httplib::Response& res) {
               only_params(req, {});
               const std::string site = req.matches[1];
               const WorkRequest r = work_request_from_json(parse_body(req.body, "a work request"));
               if (r.site != site)
                   throw usage_error("the body's 'site' is '" + r.site.substr(0, 64) + "' but the URL names '" +
                                     site + "'; send each site's request to its own URL");
               std::lock_guard lock(m_mu);
               json_reply(res, to_json(m_sched.work(site, r)));
               m_wake.notify_all();
           }));
}

}  // namespace hearth
