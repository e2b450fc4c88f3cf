#pragma once
#include <memory>

#include "core/jobspec.hpp"
#include "core/split.hpp"
#include "runner/job/job_dir.hpp"

namespace hearth {

// The item source a job's spec describes (items files are read from the copy
// in the job directory, so a resume sees exactly what the run saw).
std::unique_ptr<ItemSource> make_item_source(const JobSpec& spec, const std::string& items_path);

}  // namespace hearth
