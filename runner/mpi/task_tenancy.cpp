#include "runner/mpi/task_tenancy.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "core/error.hpp"

namespace hearth {

JobTenancy job_tenancy(const JobConfig& cfg, ScratchArea& scratch, bool& noted,
                       const std::string& node) {
    JobTenancy t;
    const uid_t euid = ::geteuid();
    if (euid != 0) {
        if (!noted)
            std::cerr << "hearth worker " << node << ": " << not_separated_note(euid) << std::endl;
        noted = true;
    }
    try {
        DynamicUidRange range;
        if (const char* r = std::getenv("HEARTH_TASK_UIDS"); r && *r)
            range = parse_uid_range(r, range);
        if (const char* d = std::getenv("HEARTH_TASK_UID_DIR"); d && *d) range.dir = d;
        t.confine.identity = resolve_task_identity(UserDb{}, range, euid, cfg.tenant, cfg.user);
        scratch.set_owner(t.confine.identity);
    } catch (const Error& e) {
        t.error = e.what();
    }
    return t;
}

}  // namespace hearth
