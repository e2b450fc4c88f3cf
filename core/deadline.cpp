#include "deadline.hpp"

#include <vector>

#include "heat_dispatch.hpp"

namespace hearth {

void DeadlinePlanner::on_task_time(std::uint64_t wall_ms) {
    const double d = static_cast<double>(wall_ms);
    m_mean_ms = m_mean_ms < 0 ? d : 0.9 * m_mean_ms + 0.1 * d;
}

bool DeadlinePlanner::overriding() const {
    for (const auto& [rank, extra] : m_sent)
        if (extra) return true;
    return false;
}

std::map<int, std::uint32_t> DeadlinePlanner::plan(std::int64_t now_ms, std::uint64_t tasks_left) {
    std::vector<int> ranks;
    std::vector<NodeCapacity> nodes;
    for (const auto& [rank, h] : m_heat) {
        if (!h.known) continue;  // no budget there: it fills every slot anyway
        ranks.push_back(rank);
        nodes.push_back(NodeCapacity{h.slots, std::min(h.allowed, h.slots),
                                     static_cast<double>(h.waste_mk) / 1000.0, true});
    }
    DeadlineNeed need;
    // Until a task has finished, assume a task takes the time left: the
    // plan then asks for one slot a task, the safe side of a deadline.
    const double left_s =
        m_deadline_ms > 0 ? static_cast<double>(m_deadline_ms - now_ms) / 1000.0 : 0;
    need.task_s = m_mean_ms >= 0 ? m_mean_ms / 1000.0 : (left_s > 0 ? left_s : 1.0);
    need.work_s = static_cast<double>(tasks_left) * need.task_s;
    need.time_left_s = left_s;
    need.urgent = m_urgent;
    OverridePlan p = plan_deadline(need, nodes);
    std::map<int, std::uint32_t> changed;
    for (std::size_t i = 0; i < ranks.size(); ++i) {
        const std::uint32_t extra = tasks_left ? p.extra[i] : 0;
        auto it = m_sent.find(ranks[i]);
        if (it == m_sent.end() || it->second != extra) {
            m_sent[ranks[i]] = extra;
            changed[ranks[i]] = extra;
        }
    }
    return changed;
}

}  // namespace hearth
