#include "runner/mpi/topology.hpp"

#include "core/error.hpp"

namespace hearth {

Topology::Topology() {
    if (hwloc_topology_init(&m_topo) != 0 || hwloc_topology_load(m_topo) != 0)
        throw Error("hwloc could not read this node's topology; check /sys and /proc are mounted");
    m_original = hwloc_bitmap_alloc();
    if (hwloc_get_cpubind(m_topo, m_original, HWLOC_CPUBIND_THREAD) != 0)
        hwloc_bitmap_copy(m_original, hwloc_topology_get_allowed_cpuset(m_topo));
}

Topology::~Topology() {
    for (auto b : m_slots) hwloc_bitmap_free(b);
    hwloc_bitmap_free(m_original);
    hwloc_topology_destroy(m_topo);
}

unsigned Topology::cores() const {
    int n = hwloc_get_nbobjs_by_type(m_topo, HWLOC_OBJ_CORE);
    if (n <= 0) n = hwloc_get_nbobjs_by_type(m_topo, HWLOC_OBJ_PU);
    return n > 0 ? static_cast<unsigned>(n) : 1;
}

namespace {

hwloc_bitmap_t cpuset_of(hwloc_topology_t topo, const std::vector<unsigned>& cores) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    for (unsigned c : cores) {
        hwloc_obj_t obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, c);
        if (!obj) obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, c);
        if (obj) hwloc_bitmap_or(set, set, obj->cpuset);
    }
    return set;
}

}  // namespace

bool Topology::bind_thread(const std::vector<unsigned>& cores) {
    hwloc_bitmap_t set = cpuset_of(m_topo, cores);
    bool ok = !hwloc_bitmap_iszero(set) && hwloc_set_cpubind(m_topo, set, HWLOC_CPUBIND_THREAD) == 0;
    hwloc_bitmap_free(set);
    m_bound = static_cast<std::size_t>(-1);
    return ok;
}

void Topology::prepare_slots(const std::vector<std::vector<unsigned>>& plan) {
    for (auto b : m_slots) hwloc_bitmap_free(b);
    m_slots.clear();
    for (const auto& cores : plan) m_slots.push_back(cpuset_of(m_topo, cores));
}

bool Topology::bind_slot(std::size_t slot) {
    if (slot >= m_slots.size() || hwloc_bitmap_iszero(m_slots[slot])) return false;
    if (m_bound == slot) return true;
    if (hwloc_set_cpubind(m_topo, m_slots[slot], HWLOC_CPUBIND_THREAD) != 0) return false;
    m_bound = slot;
    return true;
}

void Topology::unbind_thread() {
    hwloc_set_cpubind(m_topo, m_original, HWLOC_CPUBIND_THREAD);
    m_bound = static_cast<std::size_t>(-1);
}

}  // namespace hearth
