#include <algorithm>

#include "plugins/throttle/actuator.hpp"

namespace hearth {

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
