#pragma once
// A job's collected outputs land in one folder (out/), so a name belongs to
// the first task that committed it: a second task collecting the same name
// would silently replace that task's file. The local dispatcher and the
// scheduler both refuse such an attempt, for good (a retry would collect the
// same name again), with the reason made here.
#include <cstdint>
#include <optional>
#include <string>

namespace hearth {

// "" when `task` may collect `path` (nobody owns it yet, or `task` does);
// otherwise the one-line reason, naming the owner and the fix.
std::string output_clash(const std::string& path, std::optional<std::uint64_t> owner,
                         std::uint64_t task);

}  // namespace hearth
