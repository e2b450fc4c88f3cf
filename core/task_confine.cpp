#include "core/task_confine.hpp"

#include <unistd.h>

#include <cstring>

namespace hearth {

ConfineResult confine_in_child(const TaskConfinement& c, const IdentityOps& ops) {
    // The cgroup first: it must be joined while still root (the worker owns
    // the cgroup, not the tenant's user).
    if (c.cgroup_procs_fd >= 0) {
        static const char self[] = "0\n";
        if (::write(c.cgroup_procs_fd, self, sizeof self - 1) < 0)
            return {ConfineStep::cgroup, errno};
    }
    if (int e = enter_task_identity(c.identity, ops)) return {ConfineStep::identity, e};
    return {};
}

std::string describe(const ConfineResult& r, const TaskConfinement& c) {
    switch (r.step) {
        case ConfineStep::none:
            return "";
        case ConfineStep::cgroup:
            return std::string("cannot put the task in its cgroup: ") + std::strerror(r.error);
        case ConfineStep::identity:
            return "cannot run the task as " + c.identity.user + ": " + std::strerror(r.error);
    }
    return "";
}

}  // namespace hearth
