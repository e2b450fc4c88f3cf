#include "runner/job/job_items.hpp"

#include "core/error.hpp"
#include "core/line_items.hpp"
#include "core/text.hpp"

namespace hearth {

std::unique_ptr<ItemSource> make_item_source(const JobSpec& spec, const std::string& items_path) {
    return make_items(spec.split, spec.split_text, items_path);
}

}  // namespace hearth
