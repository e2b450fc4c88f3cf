#include "core/output_owner.hpp"

namespace hearth {

std::string output_clash(const std::string& path, std::optional<std::uint64_t> owner,
                         std::uint64_t task) {
    if (!owner || *owner == task) return "";
    return "output '" + path + "' was already collected from task " + std::to_string(*owner) +
           "; give each task its own output names, e.g. frame_{first:04}.png";
}

}  // namespace hearth
