#pragma once
// hearth serve's HTTP API (hearth-api(7): /v1/jobs, /v1/blobs, /v1/sites)
// over the Scheduler: each request is authenticated and checked against the
// role policy (core/auth: authorize_serve) before any route runs, its body
// bounded by what that route may carry, and every refusal is a JSON error
// with the status the error carries (core/error: http_status()). The
// Scheduler is not thread-safe: every call into it holds one mutex; a change
// is answered once it is durable (group commit: Scheduler::wait_durable).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "core/auth.hpp"
#include "core/scheduler.hpp"
#include "core/token_file.hpp"

namespace httplib {
class Server;
struct Request;
}

namespace hearth {

// Bodies each route may carry; larger is a 413 before the body is read.
inline constexpr std::size_t k_max_submit_body = 1024 * 1024;
inline constexpr std::uint64_t k_max_blob_bytes = std::uint64_t{2} << 30;
// Event streams at once: each holds a server thread for as long as it lasts.
inline constexpr int k_max_event_streams = 16;

class ServeApi {
public:
    // tokens: nullopt with --no-auth (every caller is an operator).
    // state_dir: the Scheduler's; uploads stream into its content store.
    ServeApi(Scheduler& scheduler, std::mutex& mu, std::shared_ptr<TokenFile> tokens,
             std::string state_dir);
    // Installs the pre-routing check and the routes on s.
    void install(httplib::Server& s);
    // Ends the event streams (before the server stops: they hold its threads).
    void stop();

private:
    // Runs f on the scheduler under the lock, then waits without it until
    // every change f made or saw is synced (group commit, core/group_sync):
    // no reply, a read's included, shows what a power cut could take back.
    template <class F>
    auto durable(F&& f) {
        std::unique_lock lock(m_mu);
        auto result = f();
        const std::uint64_t commit = m_sched.last_commit();
        lock.unlock();
        m_sched.wait_durable(commit);
        return result;
    }
    std::optional<Role> caller(const httplib::Request& req) const;
    void install_event_route(httplib::Server& s);  // serve_events.cpp
    void install_blob_routes(httplib::Server& s);  // serve_blobs.cpp

    Scheduler& m_sched;
    std::mutex& m_mu;
    std::shared_ptr<TokenFile> m_tokens;  // null with --no-auth
    std::string m_state_dir;
    std::atomic<bool> m_stopping{false};
    std::atomic<int> m_streams{0};
    std::mutex m_wake_mu;
    std::condition_variable m_wake;
};

}  // namespace hearth
