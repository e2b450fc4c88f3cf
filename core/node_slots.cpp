#include "core/node_slots.hpp"

#include <algorithm>
#include <cstdlib>

namespace hearth {

std::vector<unsigned> SlotTable::first_free(unsigned n) const {
    std::vector<unsigned> got;
    for (unsigned s = 0; s < m_busy.size() && got.size() < n; ++s)
        if (!m_busy[s]) got.push_back(s);
    if (got.size() < n) got.clear();
    return got;
}

void SlotTable::take(const std::vector<unsigned>& slots) {
    for (unsigned s : slots) m_busy[s] = true;
    m_held += static_cast<unsigned>(slots.size());
}

void SlotTable::release(const std::vector<unsigned>& slots) {
    for (unsigned s : slots) m_busy[s] = false;
    m_held -= static_cast<unsigned>(slots.size());
}

unsigned node_capacity(unsigned slots, const HeatReport& heat) {
    if (!heat.known) return slots;
    return std::min(slots, heat.allowed);
}

unsigned task_slots(bool slots_are_cores, unsigned cores_per_task) {
    if (!slots_are_cores) return 1;
    return std::max(1u, cores_per_task);
}

bool may_start(const StartCheck& c) {
    if (c.gpus_need > c.gpus_free) return false;
    if (c.job_running >= c.mem_cap) return false;
    return c.held + c.need <= c.capacity || c.overridden || c.urgent;
}

bool heat_moved(const HeatReport& before, const HeatReport& now) {
    if (before.known != now.known) return true;
    if (!now.known) return false;
    return now.allowed != before.allowed || std::llabs(now.waste_mk - before.waste_mk) >= 100;
}

bool budget_read_due(long age_ms, bool starting) {
    if (age_ms < 0 || age_ms >= k_budget_period_ms) return true;
    return starting && age_ms >= k_budget_fresh_ms;
}

bool past_budget(const HeatReport& heat, unsigned held, unsigned need) {
    return heat.known && held + need > heat.allowed;
}

unsigned target_backlog(unsigned capacity, double mean_ms) {
    if (mean_ms >= 0 && mean_ms < 50) return std::min(256u, capacity * 16);
    if (mean_ms >= 0 && mean_ms < 200) return std::min(256u, capacity * 4);
    if (mean_ms >= 0 && mean_ms < 2000) return capacity + 1;
    return capacity;
}

double next_mean_ms(double mean_ms, double wall_ms) {
    return mean_ms < 0 ? wall_ms : 0.8 * mean_ms + 0.2 * wall_ms;
}

BacklogNeed backlog_need(unsigned held, std::uint64_t queued, std::uint64_t requested,
                         unsigned backlog) {
    BacklogNeed n;
    const std::uint64_t have = held + queued + requested;
    n.want = have < backlog ? static_cast<std::uint32_t>(backlog - have) : 0;
    n.low = (queued + requested) * 2 < std::max<std::uint64_t>(backlog, 2);
    return n;
}

}  // namespace hearth
