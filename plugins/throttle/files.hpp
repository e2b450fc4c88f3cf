#pragma once
// File helpers shared by the throttle actuators: sysfs and cgroupfs report
// failures through errno, and the actuators turn each errno into a message
// naming the file and the fix, so these return errno rather than throwing.
#include <optional>
#include <string>

namespace hearth::throttle {

// The file's contents, or nullopt with *err set to the errno.
std::optional<std::string> read_text(const std::string& path, int* err = nullptr);

// Writes `text` in one write(2) (kernel files take one value per write).
// Creates the file when missing (fake trees in tests are plain directories).
// append: for cgroup.procs, where each write adds a process. Returns 0 or errno.
int write_text(const std::string& path, const std::string& text, bool append = false);

bool exists(const std::string& path);

}  // namespace hearth::throttle
