#pragma once
// The node's cores, from hwloc, and binding of the thread that spawns a task
// (a child inherits its parent's binding at creation, so the task starts
// bound: no window where it runs anywhere).
#include <vector>

#include <hwloc.h>

namespace hearth {

class Topology {
public:
    Topology();
    ~Topology();
    Topology(const Topology&) = delete;
    Topology& operator=(const Topology&) = delete;

    unsigned cores() const;
    // Binds the calling thread to the given core indices (logical, 0-based).
    // Returns false (and leaves the binding as is) where binding is not supported.
    bool bind_thread(const std::vector<unsigned>& cores);
    void unbind_thread();
    // The cpusets of a slot plan, computed once; bind_slot(i) then costs one
    // system call per task start.
    void prepare_slots(const std::vector<std::vector<unsigned>>& plan);
    bool bind_slot(std::size_t slot);

private:
    hwloc_topology_t m_topo = nullptr;
    hwloc_bitmap_t m_original = nullptr;
    std::vector<hwloc_bitmap_t> m_slots;
    std::size_t m_bound = static_cast<std::size_t>(-1);  // slot the thread is bound to
};

}  // namespace hearth
