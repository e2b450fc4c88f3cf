#include "job_template.hpp"

#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/frameset.hpp"
#include "core/toml.hpp"

namespace hearth {
namespace {

std::string line_of(const std::string& origin, const toml::node* n) {
    const auto line = n ? n->source().begin.line : 0;
    return origin + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
}

[[noreturn]] void fail(const std::string& origin, const toml::node* at, const std::string& msg) {
    throw usage_error(line_of(origin, at) + msg);
}

void check_keys(const std::string& origin, const toml::table& t,
                std::initializer_list<const char*> valid, const std::string& where) {
    for (const auto& [k, v] : t) {
        bool known = false;
        for (const char* name : valid) known = known || k.str() == name;
        if (known) continue;
        std::string list;
        for (const char* name : valid) list += (list.empty() ? "" : " ") + std::string(name);
        fail(origin, &v,
             where + "unknown key '" + std::string(k.str()) + "' (a typo?); valid keys: " + list);
    }
}

std::optional<std::string> string_of(const std::string& origin, const toml::table& t,
                                     const char* key) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(origin, n, "'" + std::string(key) + "' must be a string; quote it");
    return n->as_string()->get();
}

std::vector<std::string> strings_of(const std::string& origin, const toml::table& t,
                                    const char* key) {
    const toml::node* n = t.get(key);
    std::vector<std::string> out;
    if (!n) return out;
    if (!n->is_array())
        fail(origin, n,
             "'" + std::string(key) + "' must be an array of strings, e.g. " + key +
                 " = [\"a\", \"b\"]");
    for (const auto& e : *n->as_array()) {
        if (!e.is_string())
            fail(origin, &e, "'" + std::string(key) + "' must hold strings only; quote each");
        out.push_back(e.as_string()->get());
    }
    return out;
}

std::optional<std::int64_t> int_of(const std::string& origin, const toml::table& t, const char* key,
                                   std::int64_t lo, std::int64_t hi) {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(origin, n, "'" + std::string(key) + "' must be a whole number");
    const std::int64_t v = n->as_integer()->get();
    if (v < lo || v > hi)
        fail(origin, n,
             "'" + std::string(key) + "' " + std::to_string(v) + " is out of range; use " +
                 std::to_string(lo) + " to " + std::to_string(hi));
    return v;
}

bool is_arg_name(const std::string& s) {
    if (s.empty() || s.size() > 32 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

bool is_hex(const std::string& s) {
    if (s.empty() || s.size() % 2 != 0 || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    return true;
}

// Replaces every {{var}} and {{var:name}} of text with lookup(var, modifier);
// lookup throws for what it does not know.
template <class Lookup>
std::string fill(const std::string& text, Lookup&& lookup) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t open = text.find("{{", i);
        if (open == std::string::npos) break;
        const std::size_t close = text.find("}}", open + 2);
        if (close == std::string::npos)
            throw usage_error("'" + text + "' opens {{ without closing }}");
        out.append(text, i, open - i);
        const std::string inner = text.substr(open + 2, close - open - 2);
        const auto colon = inner.find(':');
        out += lookup(inner.substr(0, colon),
                      colon == std::string::npos ? "" : inner.substr(colon + 1));
        i = close + 2;
    }
    out.append(text, i);
    return out;
}

std::string file_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

JobTemplate parse_job_template(const std::string& text, const std::string& name,
                               const std::string& origin) {
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        throw usage_error(origin + ":" + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()) + "; fix the TOML syntax");
    }
    check_keys(origin, root,
               {"description", "command", "stage", "collect", "frames_probe", "split", "frames",
                "seeds", "count", "chunk", "retries", "timeout", "name", "arg"},
               "");
    JobTemplate t;
    t.name = name;
    t.description = string_of(origin, root, "description").value_or("");
    t.command = strings_of(origin, root, "command");
    if (t.command.empty())
        fail(origin, nullptr, "no command; add command = [\"program\", \"{{arg}}\", \"{items}\"]");
    t.stage = strings_of(origin, root, "stage");
    t.collect = strings_of(origin, root, "collect");
    t.frames_probe = strings_of(origin, root, "frames_probe");
    t.split = string_of(origin, root, "split").value_or("");
    if (!t.split.empty() && t.split != "frames" && t.split != "seeds" && t.split != "count")
        fail(origin, root.get("split"),
             "split '" + t.split + "' is not one; use frames, seeds or count");
    for (const char* kind : {"frames", "seeds", "count"}) {
        auto v = string_of(origin, root, kind);
        if (!v) continue;
        if (t.split != kind)
            fail(origin, root.get(kind),
                 std::string("a default '") + kind + "' needs split = \"" + kind +
                     "\"; set it or drop the default");
        t.split_default = *v;
    }
    if (!t.frames_probe.empty() && t.split != "frames")
        fail(origin, root.get("frames_probe"),
             "frames_probe needs split = \"frames\"; set it or drop the probe");
    if (auto c = int_of(origin, root, "chunk", 1, 1'000'000'000))
        t.chunk = static_cast<std::uint64_t>(*c);
    if (auto r = int_of(origin, root, "retries", 0, 100))
        t.retries = static_cast<std::uint32_t>(*r);
    t.timeout = string_of(origin, root, "timeout");
    t.job_name = string_of(origin, root, "name");

    if (const toml::node* a = root.get("arg")) {
        if (!a->is_array_of_tables())
            fail(origin, a, "'arg' must be [[arg]] tables, one per argument");
        for (const auto& e : *a->as_array()) {
            const toml::table& at = *e.as_table();
            check_keys(origin, at, {"name", "help", "default", "file", "header", "what"},
                       "[[arg]]: ");
            TemplateArg arg;
            arg.name = string_of(origin, at, "name").value_or("");
            if (!is_arg_name(arg.name))
                fail(origin, &e,
                     "[[arg]] needs name = \"...\": lower-case letters, digits and '_', from a "
                     "letter");
            for (const auto& prev : t.args)
                if (prev.name == arg.name)
                    fail(origin, &e, "two [[arg]] named '" + arg.name + "'; rename one");
            arg.help = string_of(origin, at, "help").value_or(arg.name);
            arg.default_value = string_of(origin, at, "default");
            if (!arg.default_value && !t.args.empty() && t.args.back().default_value)
                fail(origin, &e,
                     "[[arg]] '" + arg.name + "' has no default but comes after one that has; " +
                         "put the arguments with defaults last");
            if (const toml::node* f = at.get("file")) {
                if (!f->is_boolean()) fail(origin, f, "'file' must be true or false");
                arg.file = f->as_boolean()->get();
            }
            arg.header_hex = strings_of(origin, at, "header");
            for (const auto& h : arg.header_hex)
                if (!is_hex(h))
                    fail(origin, at.get("header"),
                         "header '" + h +
                             "' is not hex bytes; write the file's first bytes as hex, e.g. "
                             "\"424c454e444552\"");
            if (!arg.header_hex.empty() && !arg.file)
                fail(origin, at.get("header"), "'header' needs file = true");
            arg.what = string_of(origin, at, "what").value_or("the right kind of file");
            t.args.push_back(std::move(arg));
        }
    }
    // Every {{variable}} must be an argument's: caught here, not at a submit.
    const auto check = [&](const char* key, const std::vector<std::string>& texts) {
        for (const auto& s : texts) {
            try {
                fill(s, [&](const std::string& var, const std::string& mod) -> std::string {
                    bool known = false;
                    for (const auto& a : t.args) known = known || a.name == var;
                    if (!known)
                        throw usage_error(std::string(key) + " uses {{" + var +
                                          "}}, which no [[arg]] defines; " +
                                          "add [[arg]] name = \"" + var + "\" or fix the name");
                    if (!mod.empty() && mod != "name")
                        throw usage_error(
                            std::string(key) + " uses {{" + var + ":" + mod +
                            "}}; the only modifier is :name (the file name without its folder)");
                    return "";
                });
            } catch (const Error& e) {
                fail(origin, root.get(key), e.what());
            }
        }
    };
    check("command", t.command);
    check("stage", t.stage);
    check("collect", t.collect);
    check("frames_probe", t.frames_probe);
    return t;
}

std::string template_usage(const JobTemplate& t) {
    std::string u = "hearth submit --template " + t.name;
    for (const auto& a : t.args) {
        std::string up;
        for (char c : a.name) up += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        u += a.default_value ? " [" + up + "]" : " " + up;
    }
    const std::string what = t.split == "frames" ? " SET" : t.split == "seeds" ? " A-B" : " N";
    if (!t.split.empty())
        u += " " + std::string(t.split_default ? "[" : "") + "--" + t.split + what;
    if (t.split_default) u += "]";
    return u;
}

TemplateJob expand_job_template(const JobTemplate& t, const std::vector<std::string>& args) {
    if (args.size() > t.args.size())
        throw usage_error("template " + t.name + " takes " + std::to_string(t.args.size()) +
                          " argument" + (t.args.size() == 1 ? "" : "s") + ", got " +
                          std::to_string(args.size()) + " ('" + args[t.args.size()] +
                          "' is one too many); usage: " + template_usage(t));
    std::map<std::string, std::string> values;
    TemplateJob out;
    for (std::size_t i = 0; i < t.args.size(); ++i) {
        const TemplateArg& a = t.args[i];
        if (i < args.size())
            values[a.name] = args[i];
        else if (a.default_value)
            values[a.name] = *a.default_value;
        else
            throw usage_error("template " + t.name + " needs " + a.name + " (" + a.help +
                              "); usage: " + template_usage(t));
        if (values[a.name].empty())
            throw usage_error("template " + t.name + ": " + a.name + " (" + a.help +
                              ") is empty; give a value");
        if (a.file) out.files.push_back(values[a.name]);
    }
    const auto lookup = [&](const std::string& var, const std::string& mod) {
        const std::string& v = values.at(var);
        return mod == "name" ? file_name(v) : v;
    };
    for (const auto& s : t.command) out.command.push_back(fill(s, lookup));
    for (const auto& s : t.stage) out.stage.push_back(fill(s, lookup));
    for (const auto& s : t.collect) out.collect.push_back(fill(s, lookup));
    for (const auto& s : t.frames_probe) out.frames_probe.push_back(fill(s, lookup));
    return out;
}

std::optional<std::pair<std::int64_t, std::int64_t>> parse_frame_probe(const std::string& output) {
    std::istringstream in(output);
    std::optional<std::pair<std::int64_t, std::int64_t>> found;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::int64_t a = 0, b = 0;
        std::string rest;
        if (words >> a >> b && !(words >> rest) && a <= b) found = std::make_pair(a, b);
    }
    return found;
}

void check_frames_within(const std::string& set, std::int64_t first, std::int64_t last,
                         const std::string& what) {
    const FrameSet f = FrameSet::parse(set);
    std::int64_t lo = 0, hi = 0;
    bool any = false;
    for (const auto& r : f.ranges()) {
        if (!any || r.first < lo) lo = r.first;
        if (!any || r.last > hi) hi = r.last;
        any = true;
    }
    if (any && (lo < first || hi > last))
        throw usage_error("--frames " + set + " is outside " + what + "'s frames " +
                          std::to_string(first) + "-" + std::to_string(last) +
                          "; pick frames in that range (or change the file's frame range)");
}

bool template_header_matches(const TemplateArg& arg, const std::string& head) {
    if (arg.header_hex.empty()) return true;
    for (const auto& h : arg.header_hex) {
        std::string bytes;
        for (std::size_t i = 0; i + 1 < h.size(); i += 2)
            bytes += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
        if (head.compare(0, bytes.size(), bytes) == 0 && head.size() >= bytes.size()) return true;
    }
    return false;
}

}  // namespace hearth
