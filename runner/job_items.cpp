#include "job_items.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "core/line_items.hpp"

namespace hearth {

std::unique_ptr<ItemSource> make_item_source(const JobSpec& spec, const std::string& items_path) {
    switch (spec.split) {
        case SplitKind::frames:
            return std::make_unique<NumberItems>(FrameSet::parse(spec.split_text));
        case SplitKind::seeds:
            return std::make_unique<NumberItems>(parse_seed_range(spec.split_text));
        case SplitKind::count: {
            const auto count = parse_u64(spec.split_text);
            if (!count)
                throw usage_error("bad --count '" + spec.split_text +
                                  "': give a whole number of items, e.g. --count 1000");
            const std::uint64_t n = *count;
            if (n == 0 || n > (std::uint64_t{1} << 62))
                throw usage_error("bad --count '" + spec.split_text +
                                  "': it must be between 1 and 2^62");
            return std::make_unique<NumberItems>(
                FrameSet::range(0, static_cast<std::int64_t>(n - 1)));
        }
        case SplitKind::items:
            return std::make_unique<LineItems>(items_path);
    }
    throw Error("unknown split kind");
}

}  // namespace hearth
