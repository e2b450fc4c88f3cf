#include <iostream>

#include "commands.hpp"
#include "core/append_file.hpp"
#include "core/error.hpp"
#include "core/journal.hpp"
#include "dispatcher.hpp"
#include "job_dir.hpp"
#include "worker.hpp"

namespace hearth {

int cmd_worker(int argc, char** argv, const std::string& job_dir) {
    MpiLink link(&argc, &argv);
    try {
        return link.rank() == 0 ? run_dispatcher(link, job_dir) : run_worker(link, job_dir);
    } catch (const std::exception& e) {
        std::cerr << "hearth " << (link.rank() == 0 ? "dispatcher" : "worker") << " (rank "
                  << link.rank() << "): " << e.what() << std::endl;
        if (link.rank() == 0) {
            // Tell the supervisor this is a fault of the job, not a lost node,
            // so it reports instead of relaunching into the same fault.
            try {
                AppendFile j(JobDir{job_dir}.journal());
                j.append(nlohmann::json{{"e", "end"}, {"state", "error"}, {"error", e.what()},
                                        {"ts", unix_ms_now()}}
                             .dump() +
                         "\n");
                j.sync();
            } catch (...) {
            }
        }
        link.abort(4);
    }
}

}  // namespace hearth
