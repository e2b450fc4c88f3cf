#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/error.hpp"
#include "runner/cli/commands.hpp"
#include "runner/job/job_dir.hpp"

namespace hearth {

int cmd_cancel(const std::string& job, bool wait) {
    JobDir dir = resolve_job_dir(job);
    JobSpec spec = load_spec(dir);
    if (!job_is_running(dir)) {
        std::cout << "job " << spec.id << " is not running; nothing to cancel\n";
        return 0;
    }
    // The dispatcher polls for this file, stops every task and journals the end.
    std::ofstream(dir.cancel()).put('\n');
    if (!wait) {
        std::cout << "job " << spec.id << ": cancel requested\n";
        return 0;
    }
    for (int i = 0; i < 600 && job_is_running(dir); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (job_is_running(dir))
        throw Error("job " + spec.id + " did not stop within 60 s; its supervisor may be hung");
    std::cout << "job " << spec.id << " cancelled; 'hearth resume " << dir.path
              << "' runs what is left\n";
    return 0;
}

}  // namespace hearth
