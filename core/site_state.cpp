#include "core/site_state.hpp"

#include <algorithm>

#include "core/node_slots.hpp"
#include "core/prefetch.hpp"

namespace hearth {

void SiteState::add_node(int rank, const std::string& node, const std::string& host,
                         std::uint32_t slots, std::uint64_t mem_total) {
    Node& n = m_nodes[rank];
    n.name = node;
    n.host = host;
    n.slots = slots;
    n.mem_total = mem_total;
}

void SiteState::on_ended(int rank, AttemptStatus status, std::uint64_t wall_ms) {
    auto it = m_nodes.find(rank);
    if (it == m_nodes.end()) return;
    if (status == AttemptStatus::cancelled || status == AttemptStatus::spawn_failed) return;
    it->second.mean_ms = next_mean_ms(it->second.mean_ms, static_cast<double>(wall_ms));
}

void SiteState::on_round_trip(double ms) {
    m_rtt_ms = next_mean_ms(m_rtt_ms, ms);
}

void SiteState::set_gpus(int rank, std::uint32_t gpus) {
    if (auto it = m_nodes.find(rank); it != m_nodes.end()) it->second.gpus = gpus;
}

void SiteState::set_job_cores(const std::string& job, std::uint32_t cores) {
    m_job_cores[job] = std::max<std::uint32_t>(1, cores);
}

std::uint32_t SiteState::cores_of(const std::string& job) const {
    auto it = m_job_cores.find(job);
    return it == m_job_cores.end() ? 1 : it->second;
}

std::string SiteState::node_of(int rank) const {
    auto it = m_nodes.find(rank);
    return it != m_nodes.end() ? it->second.name : "rank" + std::to_string(rank);
}

void SiteState::on_report(int rank, std::uint32_t more, const HeatReport& heat,
                          std::uint64_t mem_available) {
    auto it = m_nodes.find(rank);
    if (it == m_nodes.end()) return;
    it->second.want += more;
    if (mem_available > 0) it->second.mem_available = mem_available;
    if (heat.known || it->second.heat.known) it->second.heat = heat;
}

SiteState::Placement SiteState::place(const std::vector<TaskGrant>& grants) {
    Placement p;
    std::map<std::string, int> by_name;
    for (const auto& [rank, n] : m_nodes) by_name.emplace(n.name, rank);
    for (const auto& g : grants) {
        if (m_held.count(g.key)) continue;  // granted twice: already running here
        auto it = by_name.find(g.node);
        if (it == by_name.end()) {
            p.unplaced.push_back(g.key);
            continue;
        }
        Node& n = m_nodes[it->second];
        const std::uint32_t cores = cores_of(g.key.job);
        n.want = n.want > cores ? n.want - cores : 0;
        m_held.emplace(g.key, it->second);
        p.by_rank[it->second].push_back(g);
    }
    return p;
}

bool SiteState::release(const AttemptKey& key) {
    return m_held.erase(key) > 0;
}

int SiteState::rank_of(const AttemptKey& key) const {
    auto it = m_held.find(key);
    return it != m_held.end() ? it->second : -1;
}

bool SiteState::job_sent(int rank, const std::string& job) const {
    auto it = m_nodes.find(rank);
    return it != m_nodes.end() && it->second.jobs.count(job);
}

void SiteState::mark_job_sent(int rank, const std::string& job) {
    auto it = m_nodes.find(rank);
    if (it != m_nodes.end()) it->second.jobs.insert(job);
}

std::vector<std::string> SiteState::idle_jobs(int rank) const {
    auto it = m_nodes.find(rank);
    if (it == m_nodes.end()) return {};
    std::set<std::string> busy;
    for (const auto& [key, r] : m_held)
        if (r == rank) busy.insert(key.job);
    std::vector<std::string> idle;
    for (const auto& j : it->second.jobs)
        if (!busy.count(j)) idle.push_back(j);
    return idle;
}

void SiteState::forget_job(int rank, const std::string& job) {
    auto it = m_nodes.find(rank);
    if (it != m_nodes.end()) it->second.jobs.erase(job);
}

std::vector<AttemptKey> SiteState::held() const {
    std::vector<AttemptKey> v;
    v.reserve(m_held.size());
    for (const auto& [k, r] : m_held) v.push_back(k);
    return v;
}

std::vector<NodeReport> SiteState::nodes(bool take_work) const {
    std::map<int, std::uint32_t> running;
    for (const auto& [k, r] : m_held) running[r] += cores_of(k.job);
    std::vector<NodeReport> v;
    for (const auto& [rank, n] : m_nodes) {
        NodeReport r;
        r.node = n.name;
        r.host = n.host;
        r.slots = n.slots;
        r.running = running[rank];
        r.heat = n.heat;
        r.up = true;
        r.prefetch = prefetch_depth(allowed_cores(r), n.mean_ms, m_rtt_ms);
        // The worker asks by its own backlog rule, the depth without the
        // round trip, and asks only once its queue is below that: too late
        // when the round trip is the longer. Then the site asks for what
        // keeps the node at the deeper depth (all it holds counts, queued
        // or running; the scheduler grants no more than that room).
        std::uint32_t want = n.want;
        if (r.prefetch > prefetch_depth(allowed_cores(r), n.mean_ms)) {
            const std::uint32_t limit = allowed_cores(r) + r.prefetch;
            want = std::max(want, limit > r.running ? limit - r.running : 0);
        }
        r.want = take_work ? want : 0;
        if (n.mem_total > 0) {
            r.mem_total = n.mem_total;
            r.mem_available = n.mem_available > 0 ? n.mem_available : n.mem_total;
        }
        r.gpus = n.gpus;
        v.push_back(std::move(r));
    }
    return v;
}

std::vector<AttemptKey> lost_attempts(const std::vector<AttemptKey>& held_before,
                                      const std::set<AttemptKey>& finished) {
    std::vector<AttemptKey> lost;
    for (const auto& k : held_before)
        if (!finished.count(k)) lost.push_back(k);
    return lost;
}

std::string held_to_text(const std::string& run, const std::vector<AttemptKey>& held) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& k : held) a.push_back(to_json(k));
    return nlohmann::json{{"run", run}, {"held", a}}.dump() + "\n";
}

std::vector<AttemptKey> held_from_text(const std::string& text) {
    std::vector<AttemptKey> v;
    try {
        // Named: a range-for over parse(text).at(...) would walk a destroyed temporary.
        const nlohmann::json j = nlohmann::json::parse(text);
        for (const auto& k : j.at("held")) v.push_back(attempt_key_from_json(k));
    } catch (const std::exception&) {
        return {};
    }
    return v;
}

}  // namespace hearth
