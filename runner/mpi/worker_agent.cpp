#include "runner/mpi/worker_agent.hpp"

#include <iostream>

namespace hearth {
namespace {

// An agent restarted by an upgrade is back within seconds; past this the
// attempt is reported without a figure (the summary counts attempts with one).
constexpr auto k_energy_wait = std::chrono::seconds(10);

void set_energy(Completion& c, const TaskEnergy& energy) {
    c.energy_uj = energy.energy_uj;
    c.energy_state = energy.estimated ? EnergyState::estimated : EnergyState::measured;
}

}  // namespace

void WorkerAgent::register_task(const JobConfig& cfg, const Assignment& a, pid_t pid,
                                unsigned cores, const std::vector<unsigned>& gpus,
                                AgentTicket& ticket) {
    auto got = m_client.register_task(cfg.tenant, cfg.job, a.task, a.attempt, pid, cores, gpus);
    if (got.reply == AgentReply::refused && !gpus.empty()) {
        // The grid file gives the node GPUs its agent does not read (no
        // NVML there, or fewer GPUs): the task is metered without them, and
        // their energy is nobody's.
        if (!m_gpus_noted)
            std::cerr << "hearth worker " << m_node << ": " << m_client.why_not()
                      << "; tasks are metered without their GPUs" << std::endl;
        m_gpus_noted = true;
        got = m_client.register_task(cfg.tenant, cfg.job, a.task, a.attempt, pid, cores, {});
    }
    ticket.retry = got.reply == AgentReply::unreachable;
    if (got.reply == AgentReply::ok) ticket.id = got.id;
    if (!ticket.id && !m_noted && !m_client.why_not().empty()) {
        std::cerr << "hearth worker " << m_node << ": " << m_client.why_not() << std::endl;
        m_noted = true;
    }
}

std::optional<Completion> WorkerAgent::finish(Completion c, std::uint64_t agent_id, double cpu_s,
                                              const std::string& tenant, bool may_wait) {
    auto got = m_client.unregister_task(agent_id, cpu_s, tenant, c.job, c.task, c.attempt);
    if (got.reply == AgentReply::unreachable && may_wait) {
        // The ledger may hold charges for this attempt: wait for the agent,
        // so that the job's total stays the ledger's.
        m_awaiting.push_back(Awaiting{std::move(c), tenant, agent_id, cpu_s,
                                      std::chrono::steady_clock::now() + k_energy_wait});
        return std::nullopt;
    }
    if (got.reply == AgentReply::ok) set_energy(c, got.energy);
    return c;
}

// The client tries to connect at most once a second, so this costs nothing
// while the agent is away.
std::vector<Completion> WorkerAgent::collect_awaited() {
    std::vector<Completion> ready;
    if (m_awaiting.empty()) return ready;
    const auto now = std::chrono::steady_clock::now();
    bool reachable = true;
    std::vector<Awaiting> still;
    for (auto& w : m_awaiting) {
        AgentReply reply = AgentReply::unreachable;
        if (reachable) {
            auto got = m_client.unregister_task(w.agent_id, w.cpu_s, w.tenant, w.c.job, w.c.task,
                                                w.c.attempt);
            reply = got.reply;
            if (reply == AgentReply::ok) set_energy(w.c, got.energy);
        }
        if (reply == AgentReply::unreachable) {
            reachable = false;
            if (now < w.give_up) {
                still.push_back(std::move(w));
                continue;
            }
        }
        ready.push_back(std::move(w.c));
    }
    m_awaiting = std::move(still);
    return ready;
}

std::vector<Completion> WorkerAgent::drain() {
    std::vector<Completion> all;
    for (auto& w : m_awaiting) all.push_back(std::move(w.c));
    m_awaiting.clear();
    return all;
}

}  // namespace hearth
