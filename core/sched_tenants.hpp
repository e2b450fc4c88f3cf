#pragma once
// The tenants the grid knows and their terms, as the scheduler sees them:
// the grid file's tenant table ([[tenant]] name, share, max_running) when it
// has one; without one, every well-formed name is a tenant with an equal
// share and no cap (hearth-grid(5)).
#include <cstdint>
#include <optional>
#include <string>

#include "core/grid.hpp"
#include "core/sched_policy.hpp"

namespace hearth {

struct TenantTerms {
    double share = 1;
    std::uint32_t max_running = 0;  // 0 = no cap
};

// nullopt: not a tenant of this grid.
inline std::optional<TenantTerms> tenant_terms(const Grid& grid, const std::string& name) {
    if (!is_tenant_name(name)) return std::nullopt;
    if (grid.tenants.empty()) return TenantTerms{};
    const TenantSpec* t = grid.find_tenant(name);
    if (!t) return std::nullopt;
    return TenantTerms{t->share, t->max_running};
}

}  // namespace hearth
