#pragma once
// The local registration socket, one request a line (core/agent_socket): owned by the
// workers' user and closed to everyone else (mode 0600), so a task, which
// runs as its tenant's user, cannot reach it. Who may register which process
// is checked again per request from the peer's SO_PEERCRED credentials
// (core/registration_check); what an operation does is the agent's (SocketOps).
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/agent_socket.hpp"
#include "core/fsroot.hpp"
#include "core/registration_check.hpp"
#include "task_registry.hpp"

namespace hearth {

// The socket's peer, as SO_PEERCRED gives it.
using SocketPeer = PeerCred;

// What the socket's operations do to the agent (each takes the agent's lock).
class SocketOps {
public:
    virtual ~SocketOps() = default;
    virtual std::uint64_t register_task(const Registration& r) = 0;
    virtual TaskRegistry::Charged unregister_task(const UnregisterOp& op) = 0;
    // What the worker may run: heat false without heat control.
    virtual BudgetReply budget() = 0;
};

class SocketServer {
public:
    // policy: who may register tasks (the workers' user, and root), and how
    // many cores one may have.
    SocketServer(std::string path, std::string node, RegistrationPolicy policy,
                 std::shared_ptr<const FsRoot> fs, SocketOps& ops);
    ~SocketServer();
    SocketServer(const SocketServer&) = delete;
    SocketServer& operator=(const SocketServer&) = delete;

    // Binds the socket (an Error when it cannot) and serves it on a thread.
    void start();
    // Stops accepting and ends the open connections (their threads wake at
    // once). Async-signal-safe.
    void stop();

    // One request line and its reply line (core/agent_socket), each parsed
    // or written once; errors are replies (ErrorReply).
    std::string handle(const std::string& line, const SocketPeer& peer);

private:
    SocketReply reply_to(const std::string& line, const SocketPeer& peer);
    void serve();
    void serve_connection(int fd, const SocketPeer& peer);

    std::string m_path, m_node;
    RegistrationPolicy m_policy;
    std::shared_ptr<const FsRoot> m_fs;
    SocketOps& m_ops;
    std::atomic<bool> m_stop{false};
    int m_listen_fd = -1;
    int m_wake[2] = {-1, -1};  // a pipe written once by stop(): wakes every poll
    std::atomic<int> m_conns{0}, m_other_conns{0};  // open connections
    std::thread m_thread;
};

}  // namespace hearth
