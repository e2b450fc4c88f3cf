#include "socket_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"

namespace hearth {

SocketServer::SocketServer(std::string path, std::string node, RegistrationPolicy policy,
                           std::shared_ptr<const FsRoot> fs, SocketOps& ops)
    : m_path(std::move(path)),
      m_node(std::move(node)),
      m_policy(policy),
      m_fs(std::move(fs)),
      m_ops(ops) {
    if (::pipe2(m_wake, O_CLOEXEC | O_NONBLOCK) != 0)
        throw Error(std::string("cannot make the socket server's stop pipe: ") +
                    std::strerror(errno));
}

SocketServer::~SocketServer() {
    stop();
    if (m_thread.joinable()) m_thread.join();
    if (m_listen_fd >= 0) ::close(m_listen_fd);
    for (int fd : m_wake)
        if (fd >= 0) ::close(fd);
}

void SocketServer::stop() {
    m_stop = true;
    // Never read: once written, the pipe stays readable and every poll
    // waiting on it returns.
    if (m_wake[1] >= 0) {
        const char c = 0;
        [[maybe_unused]] ssize_t n = ::write(m_wake[1], &c, 1);
    }
}

std::string SocketServer::handle(const std::string& line, const SocketPeer& peer) {
    return socket_reply_line(reply_to(line, peer));
}

SocketReply SocketServer::reply_to(const std::string& line, const SocketPeer& peer) {
    try {
        const SocketOp op = parse_socket_op(line);
        if (auto* reg = std::get_if<RegisterOp>(&op)) {
            Registration r;
            r.start_ticks = check_registration(*m_fs, m_policy, peer, reg->pid, reg->cores);
            r.key.tenant = reg->tenant;
            r.key.job = reg->job;
            r.key.task = reg->task;
            r.key.attempt = reg->attempt;
            r.pid = reg->pid;
            r.cores = reg->cores;
            check_gpus(m_policy, reg->gpus);
            r.gpus = reg->gpus;
            return RegisterReply{m_ops.register_task(r)};
        }
        if (auto* un = std::get_if<UnregisterOp>(&op)) {
            check_registration(*m_fs, m_policy, peer, 0, 0);
            const TaskRegistry::Charged c = m_ops.unregister_task(*un);
            return UnregisterReply{c.energy.value, c.estimated, c.from_ledger};
        }
        if (std::holds_alternative<PingOp>(op)) return PingReply{m_node, m_policy.gpus};
        return m_ops.budget();
    } catch (const std::exception& e) {
        return ErrorReply{e.what()};
    }
}

void SocketServer::start() {
    // Local only, for this node's worker.
    std::filesystem::path sp(m_path);
    if (sp.has_parent_path()) std::filesystem::create_directories(sp.parent_path());
    ::unlink(m_path.c_str());
    m_listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (m_path.size() >= sizeof addr.sun_path)
        throw usage_error("socket path " + m_path + " is too long; use a shorter --socket");
    std::strcpy(addr.sun_path, m_path.c_str());
    // Created closed (no moment at 0777 & ~umask for a task to connect in).
    const mode_t old_mask = ::umask(0177);
    const int bound = ::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old_mask);
    if (bound != 0 || ::listen(m_listen_fd, 16) != 0)
        throw Error("cannot listen on socket " + m_path + ": " + std::strerror(errno));
    // Only the workers' user (and root) may connect: a task runs as its
    // tenant's user and must not register, unregister or probe anything.
    // Connections are checked per request too, for an agent that cannot
    // chown (not root: then the socket is its own user's, as the workers').
    if (::geteuid() == 0 && m_policy.worker_uid != 0 &&
        ::chown(m_path.c_str(), m_policy.worker_uid, static_cast<gid_t>(-1)) != 0)
        throw Error("cannot give socket " + m_path + " to uid " +
                    std::to_string(m_policy.worker_uid) + ": " + std::strerror(errno));
    ::chmod(m_path.c_str(), 0600);
    m_thread = std::thread([this] { serve(); });
}

void SocketServer::serve_connection(int fd, const SocketPeer& peer) {
    std::string buf;
    char chunk[4096];
    // A worker keeps its connection open between tasks; half a line left
    // hanging for 30 s is not a worker. Between requests the thread sleeps
    // until the peer writes or the server stops: no periodic wake-up, which
    // would cost the node CPU for every idle worker.
    constexpr auto k_half_line = std::chrono::seconds(30);
    auto last = std::chrono::steady_clock::now();
    while (!m_stop) {
        pollfd p[2] = {{fd, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
        int timeout_ms = -1;
        if (!buf.empty()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                last + k_half_line - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            timeout_ms = static_cast<int>(left.count()) + 1;
        }
        const int ready = ::poll(p, 2, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0 || p[1].revents != 0) continue;  // timeout (checked above) or stop
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) break;
        last = std::chrono::steady_clock::now();
        buf.append(chunk, static_cast<std::size_t>(n));
        if (buf.size() > (1 << 16)) break;  // no request is this long
        std::size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            const std::string out = handle(line, peer) + "\n";
            if (::write(fd, out.data(), out.size()) < 0) break;
        }
    }
    ::close(fd);
}

void SocketServer::serve() {
    // Threads are detached and counted: a connection that ends frees its
    // thread at once. Peers other than root and the workers' user share a
    // small cap, so no local user can exhaust threads or crowd out workers.
    constexpr int k_max_other_conns = 16;
    while (!m_stop) {
        pollfd p[2] = {{m_listen_fd, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
        if (::poll(p, 2, -1) <= 0 || p[1].revents != 0) continue;
        int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
            ::close(fd);  // no credentials, no service
            continue;
        }
        const bool trusted = cred.uid == 0 || cred.uid == m_policy.worker_uid;
        if (!trusted && m_other_conns.load() >= k_max_other_conns) {
            ::close(fd);
            continue;
        }
        SocketPeer peer{cred.pid, cred.uid, cred.gid};
        ++m_conns;
        if (!trusted) ++m_other_conns;
        try {
            std::thread([this, fd, peer, trusted] {
                serve_connection(fd, peer);
                if (!trusted) --m_other_conns;
                --m_conns;
            }).detach();
        } catch (const std::system_error&) {
            ::close(fd);
            if (!trusted) --m_other_conns;
            --m_conns;
        }
    }
    while (m_conns.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace hearth
