#include "metrics.hpp"

#include <sstream>

namespace hearth {
namespace {

std::string prom_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '\\' || c == '"') o += '\\';
        if (c == '\n') {
            o += "\\n";
            continue;
        }
        o += c;
    }
    return o;
}

}  // namespace

void AgentMetrics::load(const Ledger& ledger, const std::string& node) {
    EnergyQuery q;
    q.by = "tenant";
    q.node = node;
    for (const auto& row : ledger.query(q)) m_tenant_uj[row.key] = row.energy.value;
    m_node_uj = ledger.total_energy().value;
    m_shown_tenant_uj = m_tenant_uj;
    m_shown_node_uj = m_node_uj;
}

void AgentMetrics::on_interval(const IntervalRecord& rec) {
    m_node_uj += rec.energy.value;
    for (const auto& c : rec.charges) {
        std::string key = c.tenant.empty() ? "house" : c.tenant;
        m_tenant_uj[key] += c.static_part.value + c.dynamic_part.value;
    }
    tick(rec.t1_ms);
}

void AgentMetrics::tick(std::int64_t now_ms) {
    const auto interval_ms = static_cast<std::int64_t>(m_interval_s * 1000);
    const std::int64_t slot = now_ms / interval_ms;
    if (slot == m_slot) return;
    // The mean over the interval that just ended; the first snapshot has no
    // interval before it.
    if (m_slot >= 0)
        m_shown_power_w = static_cast<double>(m_node_uj - m_shown_node_uj) / 1e6 /
                          (static_cast<double>(interval_ms) / 1000.0);
    m_slot = slot;
    m_shown_tenant_uj = m_tenant_uj;
    m_shown_node_uj = m_node_uj;
}

std::string AgentMetrics::text(const Labels& l) const {
    std::ostringstream o;
    std::string labels =
        "site=\"" + prom_escape(l.site) + "\",node=\"" + prom_escape(l.node) + "\"";
    o << "# HELP hearth_tenant_energy_joules_total Energy charged to each tenant on this node "
         "(house: unreserved and background), updated once a metrics interval.\n"
      << "# TYPE hearth_tenant_energy_joules_total counter\n";
    for (const auto& [tenant, uj] : m_shown_tenant_uj)
        o << "hearth_tenant_energy_joules_total{tenant=\"" << prom_escape(tenant) << "\"," << labels
          << "} " << static_cast<double>(uj) / 1e6 << "\n";
    o << "# HELP hearth_node_energy_joules_total Energy this node used, as measured.\n"
      << "# TYPE hearth_node_energy_joules_total counter\n"
      << "hearth_node_energy_joules_total{" << labels << "} "
      << static_cast<double>(m_shown_node_uj) / 1e6 << "\n"
      << "# HELP hearth_node_power_watts Mean power over the last metrics interval.\n"
      << "# TYPE hearth_node_power_watts gauge\n"
      << "hearth_node_power_watts{" << labels << "} " << m_shown_power_w << "\n"
      << "# HELP hearth_node_energy_estimated 1 when the figures come from a model, not a meter.\n"
      << "# TYPE hearth_node_energy_estimated gauge\n"
      << "hearth_node_energy_estimated{" << labels << ",source=\"" << prom_escape(l.source)
      << "\"} " << (l.estimated ? 1 : 0) << "\n"
      << "# HELP hearth_node_tasks Tasks registered on this node now.\n"
      << "# TYPE hearth_node_tasks gauge\n"
      << "hearth_node_tasks{" << labels << "} " << l.tasks << "\n";
    return o.str();
}

}  // namespace hearth
