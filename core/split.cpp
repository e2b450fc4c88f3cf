#include "core/split.hpp"

#include <stdexcept>

namespace hearth {

std::vector<std::string> task_items(ItemSource& source, const ChunkPlan& plan, std::uint64_t t) {
    if (t >= plan.tasks()) {
        throw std::out_of_range("task_items: task " + std::to_string(t) + " >= task count " +
                                std::to_string(plan.tasks()));
    }
    const std::uint64_t begin = plan.begin(t);
    const std::uint64_t end = plan.end(t);
    std::vector<std::string> items;
    items.reserve(static_cast<std::size_t>(end - begin));
    for (std::uint64_t i = begin; i < end; ++i) items.push_back(source.item(i));
    return items;
}

}  // namespace hearth
