#pragma once
// The worker's side of task registration with the node's grid-agent, over
// its Unix socket. Optional by design: with no agent on the node, tasks run
// as before and carry no energy figure.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace hearth {

struct TaskEnergy {
    std::uint64_t energy_uj = 0;
    bool estimated = false;
};

class AgentClient {
public:
    // path: HEARTH_AGENT_SOCKET, else /run/hearth/agent.sock. Connects lazily.
    explicit AgentClient(std::string path = default_path());
    ~AgentClient();
    AgentClient(const AgentClient&) = delete;
    AgentClient& operator=(const AgentClient&) = delete;

    static std::string default_path();
    bool connected() const { return m_fd >= 0; }
    std::optional<std::uint64_t> register_task(const std::string& tenant, const std::string& job,
                                               std::uint64_t task, std::uint32_t attempt,
                                               pid_t pid, unsigned cores);
    std::optional<TaskEnergy> unregister_task(std::uint64_t id, double cpu_s);
    // What the agent's heat controller allows now; nullopt without an agent
    // (or one without heat control): then every slot may be filled.
    struct Budget {
        std::uint32_t slots = 0, slots_total = 0;
        bool stop = false;  // the site is past its maximum: hand tasks back
        std::int64_t waste_mk = 0;
    };
    std::optional<Budget> budget();
    // Why the agent is not used (empty while it is), for one log line.
    const std::string& why_not() const { return m_why_not; }

private:
    bool ensure();
    std::optional<std::string> call(const std::string& line);
    std::string m_path;
    int m_fd = -1;
    bool m_gave_up = false;
    std::string m_why_not;
};

}  // namespace hearth
