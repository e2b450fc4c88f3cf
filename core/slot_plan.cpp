#include "slot_plan.hpp"

namespace hearth {

std::vector<std::vector<unsigned>> plan_slots(unsigned cores, unsigned slots) {
    std::vector<std::vector<unsigned>> plan(slots);
    if (cores == 0 || slots == 0) return plan;
    if (slots >= cores) {
        for (unsigned s = 0; s < slots; ++s) plan[s].push_back(s % cores);
        return plan;
    }
    unsigned base = cores / slots, extra = cores % slots, next = 0;
    for (unsigned s = 0; s < slots; ++s) {
        unsigned n = base + (s < extra ? 1 : 0);
        for (unsigned i = 0; i < n; ++i) plan[s].push_back(next++);
    }
    return plan;
}

}  // namespace hearth
