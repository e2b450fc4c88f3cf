#pragma once
// The local registration socket: a Unix socket any local user may connect to
// (a budget or a ping is harmless), one JSON request a line. Who may register
// and unregister tasks is decided per request from the peer's SO_PEERCRED
// credentials; what an operation does is the agent's (SocketOps).
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/api_request.hpp"
#include "core/fsroot.hpp"
#include "task_registry.hpp"

namespace hearth {

// The socket's peer, as SO_PEERCRED gives it.
struct SocketPeer {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

// What the socket's operations do to the agent (each takes the agent's lock).
class SocketOps {
public:
    virtual ~SocketOps() = default;
    virtual std::uint64_t register_task(const Registration& r) = 0;
    virtual TaskRegistry::Charged unregister_task(const UnregisterOp& op) = 0;
    // What the worker may run: {"heat": false} without heat control.
    virtual nlohmann::json budget() = 0;
};

// Refuses (usage_error) a register/unregister from a peer other than the
// worker's user or root, and a pid that peer does not own. Returns the
// verified process's start time (0 for a root peer, or no pid).
std::uint64_t check_peer(const FsRoot& fs, uid_t worker_uid, const SocketPeer& peer, pid_t pid);

class SocketServer {
public:
    // worker_uid: the workers' user, who (with root) may register tasks.
    SocketServer(std::string path, std::string node, uid_t worker_uid,
                 std::shared_ptr<const FsRoot> fs, SocketOps& ops);
    ~SocketServer();
    SocketServer(const SocketServer&) = delete;
    SocketServer& operator=(const SocketServer&) = delete;

    // Binds the socket (an Error when it cannot) and serves it on a thread.
    void start();
    // Stops accepting; open connections end within their poll period.
    void stop() { m_stop = true; }

    // One request and its reply; errors are replies ({"ok": false}).
    nlohmann::json handle(const nlohmann::json& req, const SocketPeer& peer);

private:
    void serve();
    void serve_connection(int fd, const SocketPeer& peer);

    std::string m_path, m_node;
    uid_t m_worker_uid;
    std::shared_ptr<const FsRoot> m_fs;
    SocketOps& m_ops;
    std::atomic<bool> m_stop{false};
    int m_listen_fd = -1;
    std::atomic<int> m_conns{0}, m_other_conns{0};  // open connections
    std::thread m_thread;
};

}  // namespace hearth
