#pragma once
// The dispatcher's side of heat-aware deadlines: from what each worker's
// agent allows and how long tasks take, decide how many slots past the heat
// budgets each worker must open so the job finishes by its deadline (the
// policy itself is core/heat_dispatch, shared with `hearth sim`).
#include <cstdint>
#include <map>

#include "protocol.hpp"

namespace hearth {

class DeadlinePlanner {
public:
    // deadline_ms: Unix ms (0 = none); urgent: every slot, at once.
    DeadlinePlanner(std::int64_t deadline_ms, bool urgent)
        : m_deadline_ms(deadline_ms), m_urgent(urgent) {}
    bool active() const { return m_deadline_ms > 0 || m_urgent; }
    void on_heat(int rank, const HeatReport& h) { m_heat[rank] = h; }
    void on_task_time(std::uint64_t wall_ms);
    void remove(int rank) { m_heat.erase(rank); }
    // Extra slots per rank for the work left; only ranks whose value changed
    // since the last call are returned.
    std::map<int, std::uint32_t> plan(std::int64_t now_ms, std::uint64_t tasks_left);
    bool overriding() const;

private:
    std::int64_t m_deadline_ms;
    bool m_urgent;
    double m_mean_ms = -1;
    std::map<int, HeatReport> m_heat;
    std::map<int, std::uint32_t> m_sent;
};

}  // namespace hearth
