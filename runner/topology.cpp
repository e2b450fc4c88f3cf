#include "topology.hpp"

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
    hwloc_bitmap_free(m_original);
    hwloc_topology_destroy(m_topo);
}

unsigned Topology::cores() const {
    int n = hwloc_get_nbobjs_by_type(m_topo, HWLOC_OBJ_CORE);
    if (n <= 0) n = hwloc_get_nbobjs_by_type(m_topo, HWLOC_OBJ_PU);
    return n > 0 ? static_cast<unsigned>(n) : 1;
}

bool Topology::bind_thread(const std::vector<unsigned>& cores) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    for (unsigned c : cores) {
        hwloc_obj_t obj = hwloc_get_obj_by_type(m_topo, HWLOC_OBJ_CORE, c);
        if (!obj) obj = hwloc_get_obj_by_type(m_topo, HWLOC_OBJ_PU, c);
        if (obj) hwloc_bitmap_or(set, set, obj->cpuset);
    }
    bool ok = !hwloc_bitmap_iszero(set) && hwloc_set_cpubind(m_topo, set, HWLOC_CPUBIND_THREAD) == 0;
    hwloc_bitmap_free(set);
    return ok;
}

void Topology::unbind_thread() { hwloc_set_cpubind(m_topo, m_original, HWLOC_CPUBIND_THREAD); }

}  // namespace hearth
