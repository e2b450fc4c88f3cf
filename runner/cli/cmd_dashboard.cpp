// hearth dashboard: the grid-agent dashboard's page and API for a whole grid
// file. It holds no token: each request's Authorization header goes on to
// the agents, which decide; their refusals (401, 403, 400) come back as they
// are. Plain HTTP, so loopback only (a facility manager uses ssh -L).
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/api_request.hpp"
#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/grid_view.hpp"
#include "core/json_server.hpp"
#include "core/text.hpp"
#include "core/token_route.hpp"
#include "runner/cli/commands.hpp"
#include "runner/cli/heat_change.hpp"
#include "runner/clients/heat_api.hpp"
#include "runner/clients/http_client.hpp"

namespace hearth {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Call {
    std::string node, agent, path;
    std::string site;  // the node's site: a scoped token goes to its sites' agents only
};

// Why the caller's token (in auth) must not go to c's agent; "" when it may.
std::string forward_refusal(const Call& c, const std::string& auth) {
    if (auth.empty()) return "";
    return token_route_refusal(bearer_token(auth).value_or(auth), c.agent, c.site);
}

// The caller's Authorization header, to pass on; "" (send none) without one,
// so that no token of this process's environment is ever sent in its place.
std::string authorization_of(const httplib::Request& req) {
    return req.has_header("Authorization") ? req.get_header_value("Authorization") : "";
}

// body: POST it (JSON) instead of a GET.
AgentAnswer fetch(const Call& c, const std::string& auth, long timeout_ms,
                  const std::optional<std::string>& body = std::nullopt) {
    AgentAnswer a;
    a.node = c.node;
    a.agent = c.agent;
    // The caller's token goes only where the network cannot read it, and
    // only to the agents of the sites it is for.
    if (std::string why = forward_refusal(c, auth); !why.empty()) {
        a.failure = why;
        return a;
    }
    HttpReply r;
    try {
        r = http_request(std::string(trim_end(c.agent, "/")) + c.path, body, timeout_ms, auth);
    } catch (const std::exception& e) {  // an unusable HEARTH_CACERT, say
        a.failure = e.what();
        return a;
    }
    if (!r.answered()) {
        a.failure = r.failure;
        return a;
    }
    a.status = r.status;
    a.body = json::parse(r.body, nullptr, false);
    if (a.body.is_discarded()) a.body = json();
    return a;
}

// The calls in parallel: a dead agent costs its timeout once, not once each.
std::vector<AgentAnswer> fetch_all(const std::vector<Call>& calls, const std::string& auth,
                                   long timeout_ms) {
    std::vector<AgentAnswer> out(calls.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next++) < calls.size();) out[i] = fetch(calls[i], auth, timeout_ms);
    };
    std::vector<std::thread> threads;
    const std::size_t n = std::min<std::size_t>(16, calls.size());
    for (std::size_t i = 1; i < n; ++i) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    return out;
}

void reply(httplib::Response& res, const json& j, int status = 200) {
    res.status = status;
    res.set_content(j.dump(), "application/json");
}

void error_reply(httplib::Response& res, int status, const std::string& msg) {
    reply(res, {{"error", msg}}, status);
}

// An agent's refusal, passed on as it came.
void pass_on(httplib::Response& res, const AgentAnswer& a) {
    if (a.body.is_object() && a.body.contains("error"))
        reply(res, a.body, static_cast<int>(a.status));
    else
        error_reply(res, static_cast<int>(a.status), "node " + a.node + ": " + a.reason());
    if (a.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"hearth\"");
}

// Errors of a change on a site's agents, as HTTP.
void change_error(httplib::Response& res, const Error& e) {
    if (const auto* r = dynamic_cast<const AgentRefusal*>(&e)) {
        error_reply(res, static_cast<int>(r->http_status()), e.what());
        if (r->http_status() == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"hearth\"");
        return;
    }
    const int status = e.code() == ExitCode::usage     ? 400
                       : e.code() == ExitCode::no_grid ? 502
                                                       : 500;
    error_reply(res, status, e.what());
}

std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name) {
    if (!req.has_param(name)) return std::nullopt;
    const std::string v = req.get_param_value(name);
    std::size_t used = 0;
    std::int64_t n = 0;
    try {
        n = std::stoll(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (v.empty() || used != v.size())
        throw usage_error(std::string(name) + " '" + v.substr(0, 40) + "' is not an integer");
    return n;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string dashboard_dir(const std::string& given) {
    if (!given.empty()) {
        if (!fs::is_regular_file(fs::path(given) / "index.html"))
            throw usage_error("--dashboard " + given +
                              " has no index.html; give the directory of the dashboard's files");
        return given;
    }
    fs::path dir = installed_dashboard_dir();
    if (dir.empty() || !fs::is_regular_file(dir / "index.html"))
        throw usage_error("no dashboard files in " + dir.string() +
                          "; run make (or make install), or give --dashboard DIR");
    return dir.string();
}

class Dashboard {
public:
    Dashboard(const DashboardArgs& a) : m_args(a), m_grid(load_grid(a.grid)) {
        for (const auto& n : m_grid.nodes)
            if (std::none_of(m_agents.begin(), m_agents.end(),
                             [&](const Call& c) { return c.agent == n.agent; }))
                m_agents.push_back(Call{n.name, n.agent, "", n.site});
        if (m_agents.empty())
            throw usage_error(a.grid + " names no node; add [[node]] entries (hearth-grid(5))");
    }

    void routes(httplib::Server& s) {
        s.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
            reply(res, {{"ok", true}, {"dashboard", true}, {"sites", m_grid.sites.size()},
                        {"nodes", m_grid.nodes.size()}});
        });
        s.Get("/v1/whoami", [this](const auto& req, auto& res) { whoami(req, res); });
        s.Get("/v1/grid", [this](const auto& req, auto& res) { grid(req, res); });
        s.Get("/v1/history", [this](const auto& req, auto& res) { history(req, res); });
        s.Get("/v1/energy", [this](const auto& req, auto& res) { energy(req, res); });
        s.Post("/v1/heat/try", [this](const auto& req, auto& res) { try_site(req, res); });
        s.Post(R"(/v1/heat/(target|schedule))",
               [this](const auto& req, auto& res) { change(req, res); });
    }

private:
    // The first agent that answers at all speaks for the grid: every agent
    // holds the same tokens file.
    void whoami(const httplib::Request& req, httplib::Response& res) {
        std::string why;
        for (auto c : m_agents) {
            c.path = "/v1/whoami";
            AgentAnswer a = fetch(c, authorization_of(req), m_args.timeout_ms);
            if (a.status != 0 && a.body.is_object()) {
                json body = a.body;
                if (a.ok()) body["dashboard"] = true;
                return reply(res, body, static_cast<int>(a.status));
            }
            why += (why.empty() ? "" : "; ") + c.node + ": " + a.reason();
        }
        error_reply(res, 502, "no grid-agent of " + m_args.grid + " answered (" + why +
                                  "); start them or fix their agent URLs");
    }

    void grid(const httplib::Request& req, httplib::Response& res) {
        std::vector<Call> calls;
        for (const auto& n : m_grid.nodes)
            calls.push_back(Call{n.name, n.agent, "/v1/grid", n.site});
        auto answers = fetch_all(calls, authorization_of(req), m_args.timeout_ms);
        if (const AgentAnswer* r = common_refusal(answers)) return pass_on(res, *r);
        reply(res, merge_grid(m_grid, answers));
    }

    void history(const httplib::Request& req, httplib::Response& res) {
        try {
            if (!req.has_param("site"))
                throw usage_error("give ?site=NAME: the site whose history to show");
            const Site& site = known_site(m_grid, req.get_param_value("site"), m_args.grid);
            // One span for every node, so that their buckets line up.
            const std::int64_t until = int_param(req, "until_ms").value_or(now_ms() + 1);
            const std::int64_t since =
                int_param(req, "since_ms").value_or(until - std::int64_t{24} * 3600 * 1000);
            const auto res_s = int_param(req, "res_s");
            std::string query = "/v1/history?site=" + url_escape(site.name) +
                                "&since_ms=" + std::to_string(since) +
                                "&until_ms=" + std::to_string(until);
            if (res_s) query += "&res_s=" + std::to_string(*res_s);
            std::vector<Call> calls;
            for (const auto& n : m_grid.nodes)
                if (n.site == site.name) calls.push_back(Call{n.name, n.agent, query, n.site});
            auto answers = fetch_all(calls, authorization_of(req), m_args.timeout_ms);
            if (const AgentAnswer* r = common_refusal(answers)) return pass_on(res, *r);
            reply(res, merge_history(site.name,
                                     res_s ? std::optional<int>(static_cast<int>(*res_s))
                                           : std::nullopt,
                                     answers));
        } catch (const Error& e) {
            error_reply(res, e.code() == ExitCode::usage ? 400 : 500, e.what());
        }
    }

    // The query goes to every agent as it came (repeated parameters too: the
    // agents refuse a tenant's); their rows are summed by key.
    void energy(const httplib::Request& req, httplib::Response& res) {
        std::string query;
        for (const auto& [k, v] : req.params)
            query += (query.empty() ? "?" : "&") + url_escape(k) + "=" + url_escape(v);
        std::vector<Call> calls = m_agents;
        for (auto& c : calls) c.path = "/v1/energy" + query;
        auto answers = fetch_all(calls, authorization_of(req), m_args.timeout_ms);
        // The agents judge a query alike: one refusal speaks for all.
        for (const auto& a : answers)
            if (a.status == 400 || a.status == 401 || a.status == 403) return pass_on(res, a);
        if (std::none_of(answers.begin(), answers.end(), [](const auto& a) { return a.ok(); })) {
            std::string why;
            for (const auto& a : answers) why += (why.empty() ? "" : "; ") + a.node + ": " + a.reason();
            return error_reply(res, 502, "no grid-agent answered (" + why + "); start them");
        }
        reply(res, merge_energy(req.has_param("by") ? req.get_param_value("by") : "tenant", answers));
    }

    // POST /v1/heat/target or /schedule with {"site": S, ...}: to every agent
    // of S, all or nothing, as `hearth heat set` and `schedule` do.
    void change(const httplib::Request& req, httplib::Response& res) {
        const std::string what = req.matches[1];
        try {
            json body = json::parse(req.body, nullptr, false);
            if (body.is_discarded() || !body.is_object())
                throw usage_error("the body is not a JSON object; send {\"site\": NAME, \"" + what +
                                  "\": ...}");
            if (!body.contains("site") || !body["site"].is_string())
                throw usage_error("name the site: send {\"site\": NAME, \"" + what + "\": ...}");
            const Site& site = known_site(m_grid, body["site"].get<std::string>(), m_args.grid);
            // The value is checked by the agents' own parser, once they have
            // accepted the caller's token (a tenant learns nothing from it).
            std::function<void()> check = [&] {
                parse_heat_change(what, req.body, site, now_ms() / 1000);
            };
            for (const auto& n : m_grid.nodes)
                if (n.site == site.name)
                    if (std::string why = forward_refusal(Call{n.name, n.agent, "", n.site},
                                                          authorization_of(req));
                        !why.empty())
                        throw Error(why, ExitCode::usage, 502);
            SiteChange done = apply_to_site(m_grid, site, m_args.grid, what, body,
                                            authorization_of(req), check);
            json out = done.heat.is_object() ? done.heat : json::object();
            out["nodes"] = done.nodes;
            reply(res, out);
        } catch (const Error& e) {
            change_error(res, e);
        }
    }

    // POST /v1/heat/try with {"site": S, ...}: the first agent of S that
    // answers simulates it (each has the site's model and plan); its answer,
    // refusals included, comes back as it is.
    void try_site(const httplib::Request& req, httplib::Response& res) {
        try {
            json body = json::parse(req.body, nullptr, false);
            if (body.is_discarded() || !body.is_object())
                throw usage_error(
                    "the body is not a JSON object; send {\"site\": NAME, \"schedule\": ...} or "
                    "{\"site\": NAME, \"target\": ...}");
            if (!body.contains("site") || !body["site"].is_string())
                throw usage_error("name the site: send {\"site\": NAME, \"schedule\": ...}");
            const Site& site = known_site(m_grid, body["site"].get<std::string>(), m_args.grid);
            std::string why;
            for (const auto& n : m_grid.nodes) {
                if (n.site != site.name) continue;
                AgentAnswer a = fetch(Call{n.name, n.agent, "/v1/heat/try", n.site},
                                      authorization_of(req), m_args.timeout_ms, req.body);
                if (a.status == 0) {
                    why += (why.empty() ? "" : "; ") + n.name + ": " + a.reason();
                    continue;
                }
                if (a.ok()) return reply(res, a.body);
                return pass_on(res, a);
            }
            error_reply(res, 502,
                        "no grid-agent of site '" + site.name + "' answered (" + why +
                            "); start them or fix their agent URLs");
        } catch (const Error& e) {
            error_reply(res, e.code() == ExitCode::usage ? 400 : 500, e.what());
        }
    }

    DashboardArgs m_args;
    Grid m_grid;
    std::vector<Call> m_agents;  // one call per distinct agent URL
};

}  // namespace

int cmd_dashboard(const DashboardArgs& a) {
    const ListenAddress where = parse_loopback_listen(a.listen);
    if (a.timeout_ms <= 0) throw usage_error("--timeout-ms must be a positive number of ms");
    const std::string dir = dashboard_dir(a.dashboard);
    Dashboard dash(a);
    httplib::Server s;
    bound_json_server(s);
    dash.routes(s);
    if (!s.set_mount_point("/", dir))
        throw usage_error("cannot serve the dashboard's files from " + dir + "; give --dashboard DIR");
    const int port = where.port == 0 ? s.bind_to_any_port(where.host)
                                     : (s.bind_to_port(where.host, where.port) ? where.port : -1);
    if (port < 0)
        throw Error("cannot listen on " + a.listen + ": " + std::strerror(errno) +
                        "; is another hearth dashboard running? choose another --listen",
                    ExitCode::usage);
    // SIGTERM and SIGINT are taken by one thread with sigwait, so the server
    // stops from ordinary code, not inside a handler.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread waiter([&s, set] {
        int sig = 0;
        sigwait(&set, &sig);
        s.stop();
    });
    waiter.detach();
    const std::string host = where.host.find(':') != std::string::npos ? "[" + where.host + "]" : where.host;
    std::cerr << "hearth dashboard: http://" << host << ":" << port << "/ for " << a.grid
              << " (files from " << dir << ")" << std::endl;
    s.listen_after_bind();
    return 0;
}

}  // namespace hearth
