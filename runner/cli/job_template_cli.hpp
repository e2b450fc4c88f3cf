#pragma once
// `--template NAME ARGS...` of hearth submit and hearth run: finds the
// template file, fills it with the words before `--` and folds it into the
// options the user gave (which win). Everything is checked before a byte is
// sent: exit 2, one line, nothing queued.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <vector>

#include "runner/cli/commands.hpp"

namespace hearth {

// Where templates are looked for, first match wins: each folder of
// HEARTH_TEMPLATES (':'-separated), $XDG_CONFIG_HOME/hearth/templates (or
// ~/.config/hearth/templates), ../share/hearth/templates beside the hearth
// executable (installed: /usr/local/share/hearth/templates).
std::vector<std::filesystem::path> template_dirs();

// When a.template_name is set: replaces a.command (the template's
// arguments) with the template's command and fills what sub's options did
// not set. has_dashes: the user also gave a command after `--` (refused).
void apply_job_template(RunArgs& a, const CLI::App& sub, bool has_dashes);

}  // namespace hearth
