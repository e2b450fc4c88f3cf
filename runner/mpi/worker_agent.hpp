#pragma once
// A worker's side of its node's grid-agent: it registers each task attempt
// (so that the agent meters it), registers again what started while the
// agent was restarting, and fetches each ended attempt's energy figure,
// holding the attempt's completion back a while when the agent is away.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/protocol.hpp"
#include "runner/clients/agent_client.hpp"

namespace hearth {

// A running attempt's registration with the agent.
struct AgentTicket {
    std::optional<std::uint64_t> id;  // given by the agent
    bool retry = false;               // the agent was unreachable: register later
};

class WorkerAgent {
public:
    // The node's name, for the one line saying why the agent is not used.
    void set_node(std::string node) { m_node = std::move(node); }
    // What the agent's heat controller allows now (nullopt: no agent).
    std::optional<AgentClient::Budget> budget() { return m_client.budget(); }
    // The GPUs the agent reads through NVML (0 without an agent).
    unsigned gpu_count() { return m_client.gpu_count().value_or(0); }
    // Registers (or registers again) attempt a of job cfg, spawned as pid
    // on `cores` cores holding `gpus`; the outcome goes to ticket. GPUs
    // the agent refuses (it reads none, or fewer) are left out, said once.
    void register_task(const JobConfig& cfg, const Assignment& a, pid_t pid, unsigned cores,
                       const std::vector<unsigned>& gpus, AgentTicket& ticket);
    // An attempt registered as agent_id ended: c with the agent's energy
    // figure when it gives one. nullopt: the agent was unreachable and
    // may_wait, so c waits here for it (collect_awaited gives it later).
    std::optional<Completion> finish(Completion c, std::uint64_t agent_id, double cpu_s,
                                     const std::string& tenant, bool may_wait);
    // The awaited completions whose figures came now, or whose wait ran out
    // (without a figure), in the order they ended.
    std::vector<Completion> collect_awaited();
    // Every awaited completion, as it is (the worker is stopping).
    std::vector<Completion> drain();

private:
    // A finished attempt whose energy figure the agent could not give (it
    // was down): its completion waits for the agent to come back, up to a
    // limit.
    struct Awaiting {
        Completion c;
        std::string tenant;
        std::uint64_t agent_id = 0;
        double cpu_s = 0;
        std::chrono::steady_clock::time_point give_up;
    };

    AgentClient m_client;
    std::string m_node;
    bool m_noted = false;
    bool m_gpus_noted = false;  // said once that the agent refused the tasks' GPUs
    std::vector<Awaiting> m_awaiting;
};

}  // namespace hearth
