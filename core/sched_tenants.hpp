#pragma once
// The tenants the grid knows, their shares and their usage decay, as the
// scheduler sees them. The grid file's tenant table ([[tenant]] name, share,
// max_running) is not in core/grid yet: until it is, every well-formed name
// is a tenant with share 1 and no cap. This is the one place to switch when
// it lands.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "core/grid.hpp"

namespace hearth {

struct TenantTerms {
    double share = 1;
    std::uint32_t max_running = 0;  // 0 = no cap
};

// 1-64 of a-z, 0-9, '_' and '-'.
inline bool is_tenant_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
}

// nullopt: not a tenant of this grid.
inline std::optional<TenantTerms> tenant_terms(const Grid&, const std::string& name) {
    if (!is_tenant_name(name)) return std::nullopt;
    return TenantTerms{};
}

// Exponential decay with a half-life: the rule of decay_usage in
// core/sched_policy, whose definition lands with the policy; call it then.
inline double decayed_usage(double usage, double dt_s, double half_life_s) {
    if (half_life_s <= 0 || dt_s <= 0) return usage;
    return usage * std::exp2(-dt_s / half_life_s);
}

}  // namespace hearth
