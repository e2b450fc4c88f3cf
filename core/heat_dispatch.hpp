#pragma once
// Heat-aware dispatch policy, pure: which nodes get work first, and when a
// job with a deadline needs more than the heat budgets allow, which nodes
// are overridden (those that waste least). The scheduling policy
// (core/sched_policy) calls these for `hearth serve`, `hearth sim` and the
// local `hearth run` alike.
#include <cstdint>
#include <vector>

namespace hearth {

struct NodeCapacity {
    std::uint32_t slots = 0;    // physical task slots
    std::uint32_t allowed = 0;  // slots the heat budget allows now
    // Heat wasted per unit of extra work here: the site's temperature above
    // the bottom of its band, in kelvin (negative = it wants heat anyway).
    double waste = 0;
    bool usable = true;  // false: down, or stopped above the site's hard maximum
};

struct DeadlineNeed {
    double work_s = 0;       // slot-seconds of work left (tasks x mean task time)
    double time_left_s = 0;  // until the deadline; <= 0 or urgent: as fast as possible
    double task_s = 0;       // mean task time: a task cannot finish faster
    bool urgent = false;
};

struct OverridePlan {
    std::vector<std::uint32_t> extra;  // per node: slots to open beyond `allowed`
    std::uint32_t needed = 0;          // concurrent slots the deadline needs
    std::uint32_t budgeted = 0;        // slots the budgets give (usable nodes)
    bool overridden = false;           // some extra slot was opened
    bool feasible = true;              // the whole grid can meet it
};

// Slots needed so that work_s finishes within time_left_s, with a 10%
// margin for stragglers; the extra slots come from the nodes with the least
// waste first. Urgent (or past-deadline) work asks for every usable slot.
OverridePlan plan_deadline(const DeadlineNeed& need, const std::vector<NodeCapacity>& nodes);
// The slots one deadline needs (the first half of plan_deadline): callers with
// several deadline jobs add these up and open them with plan_slots.
std::uint32_t slots_needed(const DeadlineNeed& need, std::uint64_t total_slots, bool* feasible);
// Opens extra slots, least waste first, until `needed` are available.
OverridePlan plan_slots(std::uint32_t needed, const std::vector<NodeCapacity>& nodes);

// Node indices in the order free slots are offered to work: the nodes whose
// sites want heat most (lowest waste) first; ties by index.
std::vector<std::uint32_t> heat_order(const std::vector<NodeCapacity>& nodes);

}  // namespace hearth
