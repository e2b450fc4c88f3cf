#pragma once
// Which cores each task slot of a node is bound to. Pure: the worker asks hwloc
// for the cores and binds with hwloc; this decides the mapping.
#include <cstdint>
#include <vector>

namespace hearth {

// Splits `cores` cores into `slots` groups as evenly as possible, contiguous
// so that a slot's cores share caches. With more slots than cores, slots share
// cores round-robin. Returns, per slot, the core indices (0-based).
std::vector<std::vector<unsigned>> plan_slots(unsigned cores, unsigned slots);

}  // namespace hearth
