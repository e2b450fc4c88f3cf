#pragma once
// Job templates (`hearth submit --template NAME ARGS...`): a TOML file that
// fills a known application's command, staged inputs, collected outputs,
// split, chunking, retries and time limit; the user gives its arguments (a
// scene file, a frame count) and may override any option. Pure: parsing and
// expansion here, finding the file and reading a file argument's first bytes
// in the runner. The format is in hearth(1), JOB TEMPLATES.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hearth {

// One positional argument of a template.
struct TemplateArg {
    std::string name;  // lower-case letters, digits and '_'
    std::string help;  // what it is, for messages: "the .blend file"
    std::optional<std::string> default_value;
    bool file = false;  // a path that must name a readable file
    // When file: the file must start with one of these (hex, e.g. "424c454e444552");
    // `what` names the kind for the message ("a Blender file").
    std::vector<std::string> header_hex;
    std::string what;
};

struct JobTemplate {
    std::string name;  // the file's name without .toml
    std::string description;
    std::vector<TemplateArg> args;
    // Texts with {{arg}} (the value as given) and {{arg:name}} (its file
    // name, which is what a staged file is called in the task's directory).
    // Hearth's own {placeholders} pass through to every task.
    std::vector<std::string> command, stage, collect;
    // A command that prints the input's own frame range (a line "FIRST
    // LAST"), run before anything is sent: --frames must lie inside it.
    std::vector<std::string> frames_probe;
    std::string split;  // "frames", "seeds" or "count"; "" = the user's choice
    std::optional<std::string> split_default;  // e.g. "0-63" for seeds
    std::optional<std::uint64_t> chunk;
    std::optional<std::uint32_t> retries;
    std::optional<std::string> timeout, job_name;
};

// Parses a template file's text; origin names it in messages
// ("~/.config/hearth/templates/blender.toml"). Unknown keys, wrong types, a
// {{variable}} no [[arg]] defines: usage_error naming the line and the fix.
JobTemplate parse_job_template(const std::string& text, const std::string& name,
                               const std::string& origin);

// A template filled in with the user's arguments.
struct TemplateJob {
    std::vector<std::string> command, stage, collect, frames_probe;
    std::vector<std::string> files;  // the values of file arguments, to check on disk
};

// Fills t's texts with args (positional, in [[arg]] order; defaults for those
// left out). Too few or too many: usage_error with the template's usage line.
TemplateJob expand_job_template(const JobTemplate& t, const std::vector<std::string>& args);

// "hearth submit --template blender SCENE [--frames SET]": for messages.
std::string template_usage(const JobTemplate& t);

// The frames probe's output: the last line that is two whole numbers
// "FIRST LAST" (programs print more around it), or nullopt when none is.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_frame_probe(const std::string& output);

// A usage_error naming set and what (e.g. "scene.blend") unless every frame
// of the frame set text lies in [first, last].
void check_frames_within(const std::string& set, std::int64_t first, std::int64_t last,
                         const std::string& what);

// Whether head (a file's first bytes) starts with one of arg's headers; an
// arg without headers accepts any file.
bool template_header_matches(const TemplateArg& arg, const std::string& head);

}  // namespace hearth
