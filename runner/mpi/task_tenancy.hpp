#pragma once
// A job's tenancy on this node, as its worker applies it: which user the
// job's tasks run as (core/task_identity), its scratch area given to that
// user, and the worker's one line when tenants cannot be separated here.
#include <string>

#include "core/protocol.hpp"
#include "core/task_confine.hpp"
#include "runner/mpi/scratch.hpp"

namespace hearth {

struct JobTenancy {
    TaskConfinement confine;
    std::string error;  // why its tasks cannot start here ("" = they can)
};

// noted: set once the worker has said tenants are not separated (node: its
// name in that line).
JobTenancy job_tenancy(const JobConfig& cfg, ScratchArea& scratch, bool& noted,
                       const std::string& node);

}  // namespace hearth
