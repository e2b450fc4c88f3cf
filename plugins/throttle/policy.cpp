#include <algorithm>
#include <cmath>

#include "plugins/throttle/actuator.hpp"

namespace hearth {

std::uint32_t slots_for_fraction(double fraction, std::uint32_t slots) {
    if (std::isnan(fraction) || fraction <= 0) return 0;
    // Clamp before rounding: fraction * slots may be huge or infinite.
    double want = std::round(std::min(fraction, 1.0) * static_cast<double>(slots));
    return static_cast<std::uint32_t>(std::clamp(want, 0.0, static_cast<double>(slots)));
}

std::vector<ThrottleTask> throttle_order(std::vector<ThrottleTask> tasks) {
    // NaN counts as unknown, like a negative IPC.
    auto known = [](const ThrottleTask& t) { return t.ipc >= 0; };
    std::sort(tasks.begin(), tasks.end(), [&](const ThrottleTask& a, const ThrottleTask& b) {
        bool ka = known(a), kb = known(b);
        if (ka != kb) return ka;
        if (ka && a.ipc != b.ipc) return a.ipc < b.ipc;
        return a.pgid < b.pgid;
    });
    return tasks;
}

}  // namespace hearth
