// Grid files (hearth-grid(5)) through parse_grid, the parser of `hearth heat`,
// `hearth run --grid`, `hearth sim` and `grid-agent --grid`. A grid that
// parses must satisfy what the file format promises to its users: safe names,
// nodes on defined sites, targets and schedules within the site's bounds.
#include <cmath>
#include <set>

#include "core/grid.hpp"
#include "core/schedule.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string in = fuzz::text(data, size);
    auto grid = fuzz::parsed([&] { return parse_grid(in, "fuzz.toml"); });
    if (!grid) return 0;
    FUZZ_CHECK(!grid->sites.empty() && !grid->nodes.empty());
    FUZZ_CHECK(std::isfinite(grid->gas_kgco2_per_kwh) && grid->gas_kgco2_per_kwh >= 0);
    std::set<std::string> names;
    for (const Site& s : grid->sites) {
        FUZZ_CHECK(is_safe_name(s.name) && names.insert(s.name).second);
        FUZZ_CHECK(k_hard_min <= s.min && s.min < s.max && s.max <= k_hard_max);
        FUZZ_CHECK(s.min <= s.target && s.target <= s.max);
        FUZZ_CHECK(s.band > 0 && s.band <= 10);
        if (!s.schedule.empty())
            for (Celsius t : parse_schedule(s.schedule).all_targets())
                FUZZ_CHECK(s.min <= t && t <= s.max);
        for (const DrawPeriod& d : s.thermal.draw)
            FUZZ_CHECK(0 <= d.start_s && d.start_s < d.end_s && d.end_s <= 86400);
        if (s.source.type == "http") FUZZ_CHECK(s.source.stale_after_s >= s.source.poll_s);
    }
    names.clear();
    for (const GridNode& n : grid->nodes) {
        FUZZ_CHECK(is_safe_name(n.name) && names.insert(n.name).second);
        FUZZ_CHECK(grid->find_site(n.site) != nullptr);
        FUZZ_CHECK(!n.host.empty() && n.slots >= 1 && n.slots <= 4096);
        FUZZ_CHECK(n.agent.rfind("http://", 0) == 0 || n.agent.rfind("https://", 0) == 0);
        FUZZ_CHECK(n.max > n.idle);
    }
    return 0;
}
