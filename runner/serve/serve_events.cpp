// GET /v1/jobs/ID/events: a job's changes as server-sent events, until it
// ends. Each stream holds one server thread, so their number is capped.
#include <chrono>
#include <memory>

#include <httplib.h>

#include "core/error.hpp"
#include "runner/serve/serve_http.hpp"
#include "runner/serve/serve_routes.hpp"

namespace hearth {

using namespace serve_http;

void ServeApi::install_event_route(httplib::Server& s) {
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
                          // An event shows only what is synced (group commit).
                          const JobInfo j = durable([&] { return m_sched.job(who, id); });
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

}

}  // namespace hearth
