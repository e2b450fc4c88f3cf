#include "agent_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

namespace hearth {

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
    if (m_gave_up) return false;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, m_path.c_str(), sizeof addr.sun_path - 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        m_why_not = "no grid-agent at " + m_path + " (" + std::strerror(errno) +
                    "): tasks run without energy accounting";
        if (fd >= 0) ::close(fd);
        m_gave_up = true;  // one try per worker: an absent agent costs nothing per task
        return false;
    }
    m_fd = fd;
    m_why_not.clear();
    return true;
}

std::optional<std::string> AgentClient::call(const std::string& line) {
    if (!ensure()) return std::nullopt;
    std::string out = line + "\n";
    if (::send(m_fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
        ::close(m_fd);
        m_fd = -1;
        m_why_not = "lost the grid-agent at " + m_path;
        return std::nullopt;
    }
    std::string reply;
    char buf[1024];
    // The agent answers after closing an interval: milliseconds. Past 2 s it
    // is hung, and the task must not wait for it.
    for (;;) {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) break;
        ssize_t n = ::read(m_fd, buf, sizeof buf);
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
        auto nl = reply.find('\n');
        if (nl != std::string::npos) return reply.substr(0, nl);
    }
    ::close(m_fd);
    m_fd = -1;
    m_why_not = "the grid-agent at " + m_path + " did not answer";
    return std::nullopt;
}

std::optional<std::uint64_t> AgentClient::register_task(const std::string& tenant,
                                                        const std::string& job, std::uint64_t task,
                                                        std::uint32_t attempt, pid_t pid,
                                                        unsigned cores) {
    if (!ensure()) return std::nullopt;  // no agent: nothing to build per task
    nlohmann::json req = {{"op", "register"}, {"tenant", tenant}, {"job", job},
                          {"task", task},     {"attempt", attempt}, {"pid", pid},
                          {"cores", cores}};
    auto reply = call(req.dump());
    if (!reply) return std::nullopt;
    try {
        auto j = nlohmann::json::parse(*reply);
        if (j.value("ok", false)) return j.at("id").get<std::uint64_t>();
        m_why_not = "grid-agent refused a task: " + j.value("error", std::string("?"));
    } catch (const std::exception& e) {
        m_why_not = std::string("bad reply from grid-agent: ") + e.what();
    }
    return std::nullopt;
}

std::optional<TaskEnergy> AgentClient::unregister_task(std::uint64_t id, double cpu_s) {
    if (!ensure()) return std::nullopt;
    nlohmann::json req = {{"op", "unregister"}, {"id", id}, {"cpu_s", cpu_s}};
    auto reply = call(req.dump());
    if (!reply) return std::nullopt;
    try {
        auto j = nlohmann::json::parse(*reply);
        if (!j.value("ok", false)) return std::nullopt;
        return TaskEnergy{j.at("energy_uj").get<std::uint64_t>(), j.value("estimated", false)};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<AgentClient::Budget> AgentClient::budget() {
    if (!ensure()) return std::nullopt;
    auto reply = call(R"({"op":"budget"})");
    if (!reply) return std::nullopt;
    try {
        auto j = nlohmann::json::parse(*reply);
        if (!j.value("ok", false) || !j.value("heat", false)) return std::nullopt;
        Budget b;
        b.slots = j.at("slots").get<std::uint32_t>();
        b.slots_total = j.at("slots_total").get<std::uint32_t>();
        b.stop = j.value("mode", std::string()) == "stop";
        b.waste_mk = static_cast<std::int64_t>(j.value("waste", 0.0) * 1000.0);
        return b;
    } catch (const std::exception&) {
        return std::nullopt;  // an older agent: no heat control
    }
}

}  // namespace hearth
