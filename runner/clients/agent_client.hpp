#pragma once
// The worker's side of task registration with the node's grid-agent, over
// its Unix socket. Optional by design: with no agent on the node, tasks run
// as before and carry no energy figure. An agent that goes away (killed,
// restarted by an upgrade) is looked for again, at most once a second.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/agent_socket.hpp"

namespace hearth {

struct TaskEnergy {
    std::uint64_t energy_uj = 0;
    bool estimated = false;
};

// What became of a request: answered; refused by the agent (final); or no
// agent could be reached in time (it may come back: ask again later).
enum class AgentReply { ok, refused, unreachable };

class AgentClient {
public:
    using SteadyClock = std::chrono::steady_clock;
    // path: HEARTH_AGENT_SOCKET, else /run/hearth/agent.sock. Connects lazily.
    explicit AgentClient(std::string path = default_path());
    ~AgentClient();
    AgentClient(const AgentClient&) = delete;
    AgentClient& operator=(const AgentClient&) = delete;

    static std::string default_path();
    bool connected() const { return m_fd >= 0; }

    struct Registered {
        AgentReply reply = AgentReply::unreachable;
        std::uint64_t id = 0;
    };
    // Safe to send again for the same attempt and pid: the agent gives the
    // same id.
    // gpus: the GPU indices the task was given (the agent charges their
    // energy to it).
    Registered register_task(const std::string& tenant, const std::string& job, std::uint64_t task,
                             std::uint32_t attempt, pid_t pid, unsigned cores,
                             const std::vector<unsigned>& gpus = {});
    struct Unregistered {
        AgentReply reply = AgentReply::unreachable;
        TaskEnergy energy;
    };
    // Names the attempt too, so that an agent which no longer knows the id
    // (restarted, or it committed the unregister but its reply was lost)
    // answers with what its ledger charged the attempt. Safe to send again.
    Unregistered unregister_task(std::uint64_t id, double cpu_s, const std::string& tenant,
                                 const std::string& job, std::uint64_t task, std::uint32_t attempt);
    // What the agent's heat controller allows now; nullopt without an agent
    // (or one without heat control): then every slot may be filled.
    struct Budget {
        std::uint32_t slots = 0, slots_total = 0;
        bool stop = false;  // the site is past its maximum: hand tasks back
        std::int64_t waste_mk = 0;
    };
    std::optional<Budget> budget();
    // The GPUs the agent's energy source reads (its ping); nullopt without
    // an agent.
    std::optional<unsigned> gpu_count();
    // Why the agent is not used (empty while it is), for one log line.
    const std::string& why_not() const { return m_why_not; }

private:
    bool ensure();
    void drop(const std::string& why);
    std::optional<std::string> call(const std::string& line);
    // One request and its reply, parsed once (core/agent_socket); nullopt
    // when no agent answered, an ErrorReply when its reply was refused or
    // unreadable.
    std::optional<SocketReply> ask(const SocketOp& op);
    std::string m_path;
    int m_fd = -1;
    // No connection attempt before this: at most one a second, and a hung
    // agent (one that accepts but does not answer) is asked less and less
    // often, since each try costs the worker a timeout.
    SteadyClock::time_point m_next_connect{};
    std::chrono::seconds m_hung_wait{1};
    std::string m_why_not;
};

}  // namespace hearth
