#pragma once
// Where a job runs: an Open MPI hostfile, a Slurm node list, or this machine.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

struct HostEntry {
    std::string name;
    std::optional<unsigned> slots;  // "slots=N" on the hostfile line, if given
};

// Parses an Open MPI hostfile: one host a line, optional "slots=N" (and
// "max_slots=N", ignored), '#' comments, blank lines. A host listed twice is an
// error. Throws usage_error with the line number and the fix.
std::vector<HostEntry> parse_hostfile(std::string_view text, std::string_view file_name);

// Expands a Slurm hostlist: "node[01-03,07],gpu1" -> node01 node02 node03 node07 gpu1.
// Keeps zero padding. Throws usage_error on malformed brackets.
std::vector<std::string> expand_slurm_hostlist(std::string_view text);

// A host name Hearth accepts: letters, digits, '.', '-', '_' (1..253 chars).
bool is_valid_host_name(std::string_view name);

}  // namespace hearth
