#pragma once
// What /metrics shows: the energy charged to each tenant and used by the
// node, as Prometheus counters that never go back (continued from the ledger
// after a restart). The per-tenant figures and the power change once a
// metrics interval, no faster: finer figures are a side channel that tells
// co-tenants what each other runs (as RAPL's are).
#include <cstdint>
#include <map>
#include <string>

#include "core/accountant.hpp"
#include "core/ledger.hpp"

namespace hearth {

class AgentMetrics {
public:
    explicit AgentMetrics(double interval_s) : m_interval_s(interval_s) {}

    // Starts the running totals at what the ledger holds for this node.
    void load(const Ledger& ledger, const std::string& node);
    // One committed interval: adds it to the running totals, and takes a
    // snapshot when a metrics interval ended.
    void on_interval(const IntervalRecord& rec);
    // Energy the node used since the ledger began (live, not the snapshot).
    std::uint64_t node_uj() const { return m_node_uj; }

    // The labels and live gauges the text carries besides the snapshot.
    struct Labels {
        std::string site, node, source;
        bool estimated = false;
        std::size_t tasks = 0;
    };
    std::string text(const Labels& labels) const;

private:
    void tick(std::int64_t now_ms);

    double m_interval_s;
    std::map<std::string, std::uint64_t> m_tenant_uj;  // running totals, monotonic
    std::uint64_t m_node_uj = 0;
    // The totals as of the last metrics interval's end, and the mean node
    // power over that interval.
    std::map<std::string, std::uint64_t> m_shown_tenant_uj;
    std::uint64_t m_shown_node_uj = 0;
    double m_shown_power_w = 0;
    std::int64_t m_slot = -1;  // floor(t / interval) of the last snapshot
};

}  // namespace hearth
