#include "runner/clients/agent_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace hearth {

namespace {
constexpr std::chrono::seconds k_reconnect_gap{1};
constexpr std::chrono::seconds k_hung_wait_max{30};
constexpr std::chrono::seconds k_call_timeout{2};
}  // namespace

std::string AgentClient::default_path() {
    const char* p = std::getenv("HEARTH_AGENT_SOCKET");
    return p && *p ? p : "/run/hearth/agent.sock";
}

AgentClient::AgentClient(std::string path) : m_path(std::move(path)) {}

AgentClient::~AgentClient() {
    if (m_fd >= 0) ::close(m_fd);
}

bool AgentClient::ensure() {
    if (m_fd >= 0) return true;
    // An absent agent costs one failed connect a second, not one per task.
    auto now = SteadyClock::now();
    if (now < m_next_connect) return false;
    m_next_connect = now + k_reconnect_gap;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, m_path.c_str(), sizeof addr.sun_path - 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        m_why_not = "no grid-agent at " + m_path + " (" + std::strerror(errno) +
                    "): tasks run without energy accounting until one answers";
        if (fd >= 0) ::close(fd);
        return false;
    }
    m_fd = fd;
    m_why_not.clear();
    return true;
}

void AgentClient::drop(const std::string& why) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
    m_why_not = why;
}

std::optional<std::string> AgentClient::call(const std::string& line) {
    // The agent answers after closing an interval: milliseconds. Past 2 s it
    // is hung, and the task must not wait for it: one deadline for the whole
    // call, a reconnection included.
    const auto deadline = SteadyClock::now() + k_call_timeout;
    const std::string out = line + "\n";
    // Two rounds: a connection the agent closed (it was restarted since the
    // last call) is only found broken when used; then connect once more.
    // Sending again is safe: both registration ops are idempotent.
    for (int round = 0; round < 2; ++round) {
        const bool fresh = m_fd < 0;
        if (!ensure()) return std::nullopt;
        bool broken =
            ::send(m_fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size());
        std::string reply;
        char buf[1024];
        while (!broken) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now())
                    .count();
            pollfd p{m_fd, POLLIN, 0};
            int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) {
                drop("the grid-agent at " + m_path + " did not answer within 2 s");
                m_next_connect = SteadyClock::now() + m_hung_wait;
                m_hung_wait = std::min(m_hung_wait * 2, k_hung_wait_max);
                return std::nullopt;
            }
            ssize_t n = ::read(m_fd, buf, sizeof buf);
            if (n <= 0) {
                broken = true;
                break;
            }
            reply.append(buf, static_cast<std::size_t>(n));
            auto nl = reply.find('\n');
            if (nl != std::string::npos) {
                m_hung_wait = k_reconnect_gap;
                return reply.substr(0, nl);
            }
        }
        drop("lost the grid-agent at " + m_path);
        if (fresh) return std::nullopt;
    }
    return std::nullopt;
}

std::optional<SocketReply> AgentClient::ask(const SocketOp& op) {
    auto line = call(socket_op_line(op));
    if (!line) return std::nullopt;
    try {
        return parse_socket_reply(*line, op);
    } catch (const std::exception& e) {
        return ErrorReply{std::string("its reply was unreadable: ") + e.what()};
    }
}

AgentClient::Registered AgentClient::register_task(const std::string& tenant,
                                                   const std::string& job, std::uint64_t task,
                                                   std::uint32_t attempt, pid_t pid, unsigned cores,
                                                   const std::vector<unsigned>& gpus) {
    if (!ensure()) return {};  // no agent: nothing to build per task
    RegisterOp op;
    op.tenant = tenant;
    op.job = job;
    op.task = static_cast<std::int64_t>(task);
    op.attempt = attempt;
    op.pid = pid;
    op.cores = cores;
    op.gpus = gpus;
    auto reply = ask(op);
    if (!reply) return {};
    if (const auto* r = std::get_if<RegisterReply>(&*reply)) return {AgentReply::ok, r->id};
    if (const auto* e = std::get_if<ErrorReply>(&*reply))
        m_why_not = "grid-agent refused a task: " + e->error;
    return {AgentReply::refused, 0};
}

AgentClient::Unregistered AgentClient::unregister_task(std::uint64_t id, double cpu_s,
                                                       const std::string& tenant,
                                                       const std::string& job, std::uint64_t task,
                                                       std::uint32_t attempt) {
    if (!ensure()) return {};
    UnregisterOp op;
    op.id = id;
    op.cpu_s = cpu_s;
    op.attempt.emplace();
    op.attempt->tenant = tenant;
    op.attempt->job = job;
    op.attempt->task = static_cast<std::int64_t>(task);
    op.attempt->attempt = attempt;
    auto reply = ask(op);
    if (!reply) return {};
    if (const auto* u = std::get_if<UnregisterReply>(&*reply))
        return {AgentReply::ok, TaskEnergy{u->energy_uj, u->estimated}};
    return {AgentReply::refused, {}};
}

std::optional<unsigned> AgentClient::gpu_count() {
    if (!ensure()) return std::nullopt;
    auto reply = ask(PingOp{});
    if (!reply) return std::nullopt;
    const auto* p = std::get_if<PingReply>(&*reply);
    if (!p) return std::nullopt;
    return p->gpus;
}

std::optional<AgentClient::Budget> AgentClient::budget() {
    if (!ensure()) return std::nullopt;
    auto reply = ask(BudgetOp{});
    if (!reply) return std::nullopt;
    const auto* b = std::get_if<BudgetReply>(&*reply);
    // Refused, or an older agent: no heat control.
    if (!b || !b->heat) return std::nullopt;
    Budget out;
    out.slots = b->slots;
    out.slots_total = b->slots_total;
    out.stop = b->mode == "stop";
    out.waste_mk = static_cast<std::int64_t>(b->waste * 1000.0);
    return out;
}

}  // namespace hearth
