#include "core/site_schedule.hpp"

#include "core/error.hpp"
#include "core/schedule.hpp"

namespace hearth {

std::string checked_schedule(const Site& site, const std::string& text) {
    if (text.empty() || text == "none") return "";
    Schedule s;
    try {
        s = parse_schedule(text);
    } catch (const Error& e) {
        throw usage_error("site '" + site.name + "': " + e.what());
    }
    for (Celsius t : s.all_targets()) check_target(site, t.value);
    return format_schedule(s);
}

}  // namespace hearth
