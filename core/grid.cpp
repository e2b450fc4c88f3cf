#include "core/grid.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <set>
#include <string_view>

#include "core/error.hpp"
#include "core/jobspec.hpp"
#include "core/plugin_registry.hpp"
#include "core/schedule.hpp"
#include "core/task_memory.hpp"
#include "core/toml.hpp"

namespace hearth {

const std::vector<std::string>& heat_source_types() {
    static const std::vector<std::string> types{"static", "http", "sim-tank", "sim-room"};
    return types;
}

const char* to_string(SiteKind k) {
    switch (k) {
        case SiteKind::tank:
            return "tank";
        case SiteKind::room:
            return "room";
        case SiteKind::loop:
            return "loop";
    }
    return "?";
}

const char* to_string(SafeMode m) {
    switch (m) {
        case SafeMode::min_power:
            return "min";
        case SafeMode::hold:
            return "hold";
    }
    return "?";
}

bool is_safe_name(const std::string& s) {
    if (s.empty() || s.size() > 64 || s[0] == '.' || s[0] == '-') return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

const Site* Grid::find_site(const std::string& name) const {
    for (const auto& s : sites)
        if (s.name == name) return &s;
    return nullptr;
}

const GridNode* Grid::find_node(const std::string& name) const {
    for (const auto& n : nodes)
        if (n.name == name) return &n;
    return nullptr;
}

const TenantSpec* Grid::find_tenant(const std::string& name) const {
    for (const auto& t : tenants)
        if (t.name == name) return &t;
    return nullptr;
}

// Tenant names are also token subjects and database keys: lower case only,
// so that "Bank" and "bank" are never two tenants.
bool is_tenant_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
}

namespace {

// Numbers in messages as people write them: 55, 60.5, nan.
std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

const char* const k_name_rule =
    "use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'";

// Outside this no sensor or model of a heated site makes sense.
constexpr double k_plausible_min_c = -60;
constexpr double k_plausible_max_c = 150;

const char* type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        default:
            return "nothing";
    }
}

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

// One table of the file being read: its entry's name for messages, and
// typed access to its keys that refuses wrong types with the fix.
class Scope {
public:
    Scope(const std::string& origin, std::string where, const toml::table& table)
        : m_origin(origin), m_where(std::move(where)), m_table(table) {}

    const std::string& where() const { return m_where; }
    void set_where(std::string w) { m_where = std::move(w); }
    const toml::table& table() const { return m_table; }

    // origin:line: entry: message
    [[noreturn]] void fail(const toml::node* at, const std::string& msg) const {
        throw usage_error(prefix(at) + (m_where.empty() ? "" : m_where + ": ") + msg);
    }
    // For messages that name their entry themselves (check_target's).
    [[noreturn]] void fail_raw(const toml::node* at, const std::string& msg) const {
        throw usage_error(prefix(at) + msg);
    }

    void check_keys(std::initializer_list<const char*> valid) const {
        for (const auto& [k, v] : m_table) {
            bool known = false;
            for (const char* name : valid) known = known || k.str() == name;
            if (known) continue;
            std::string list;
            for (const char* name : valid) list += (list.empty() ? "" : " ") + std::string(name);
            fail(&v, "unknown key '" + std::string(k.str()) + "'; valid keys: " + list);
        }
    }

    const toml::node* get(const char* key) const { return m_table.get(key); }

    std::optional<std::string> string(const char* key) const {
        const toml::node* n = get(key);
        if (!n) return std::nullopt;
        if (!n->is_string())
            fail(n, "'" + std::string(key) + "' must be a string, not " + type_name(*n) +
                        "; quote it");
        return n->as_string()->get();
    }

    std::string required_string(const char* key, const std::string& example) const {
        auto v = string(key);
        if (!v) fail(nullptr, "missing '" + std::string(key) + "'; add " + example);
        return *v;
    }

    std::optional<double> number(const char* key) const {
        const toml::node* n = get(key);
        if (!n) return std::nullopt;
        if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
        if (n->is_floating_point()) return n->as_floating_point()->get();
        fail(n, "'" + std::string(key) + "' must be a number, not " + type_name(*n));
    }

    std::optional<double> finite(const char* key) const {
        auto v = number(key);
        if (v && !std::isfinite(*v))
            fail(get(key), "'" + std::string(key) + "' is " + num(*v) + "; give a finite number");
        return v;
    }

    // A number that must be > 0 (or >= 0 when zero_ok).
    std::optional<double> positive(const char* key, bool zero_ok, const char* what) const {
        auto v = finite(key);
        if (v && (*v < 0 || (!zero_ok && *v == 0)))
            fail(get(key), "'" + std::string(key) + "' " + num(*v) + " is " +
                               (*v < 0 ? "negative" : "zero") + "; give " + what + " (" +
                               (zero_ok ? "0 or more" : "above 0") + ")");
        return v;
    }

    std::optional<Celsius> temperature(const char* key) const {
        auto v = finite(key);
        if (!v) return std::nullopt;
        if (*v < k_plausible_min_c || *v > k_plausible_max_c)
            fail(get(key), "'" + std::string(key) + "' " + num(*v) +
                               " C is not a plausible temperature; give one from " +
                               num(k_plausible_min_c) + " to " + num(k_plausible_max_c) + " C");
        return Celsius{*v};
    }

    const toml::table* subtable(const char* key) const {
        const toml::node* n = get(key);
        if (!n) return nullptr;
        if (!n->is_table())
            fail(n, "'" + std::string(key) + "' must be a table, not " + type_name(*n) +
                        "; write it as a [site." + key + "] section");
        return n->as_table();
    }

private:
    std::string prefix(const toml::node* at) const {
        // Without a key to point at, an entry's own line; the file has none.
        if (!at && m_where.empty()) return m_origin + ": ";
        const toml::node& n = at ? *at : static_cast<const toml::node&>(m_table);
        const auto line = n.source().begin.line;
        return m_origin + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
    }

    const std::string& m_origin;
    std::string m_where;
    const toml::table& m_table;
};

// The name of an entry, checked first so that later messages can use it.
std::string entry_name(Scope& s, const char* what, std::size_t index) {
    s.set_where(std::string(what) + " #" + std::to_string(index + 1));
    std::string name = s.required_string("name", "name = \"...\" to name it");
    if (!is_safe_name(name))
        s.fail(s.get("name"),
               std::string(what) + " name '" + name + "' is not allowed; " + k_name_rule);
    s.set_where(std::string(what) + " '" + name + "'");
    return name;
}

void read_bounds(const Scope& s, Site& site) {
    if (auto v = s.finite("min")) {
        if (*v < k_hard_min.value || *v > k_hard_max.value)
            s.fail(s.get("min"), "'min' " + num(*v) + " C is outside the hard limits " +
                                     num(k_hard_min.value) + "-" + num(k_hard_max.value) +
                                     " C; set min within them");
        site.min = Celsius{*v};
    }
    if (auto v = s.finite("max")) {
        if (*v < k_hard_min.value || *v > k_hard_max.value)
            s.fail(s.get("max"), "'max' " + num(*v) + " C is outside the hard limits " +
                                     num(k_hard_min.value) + "-" + num(k_hard_max.value) +
                                     " C; set max within them");
        site.max = Celsius{*v};
    }
    if (site.min >= site.max)
        s.fail(s.get("min") ? s.get("min") : s.get("max"),
               "'min' " + num(site.min.value) + " C is not below 'max' " + num(site.max.value) +
                   " C; set min below max");
}

void read_schedule(const Scope& s, Site& site) {
    auto text = s.string("schedule");
    if (!text || text->empty()) return;
    Schedule sched;
    try {
        sched = parse_schedule(*text);
    } catch (const Error& e) {
        s.fail(s.get("schedule"), e.what());
    }
    for (Celsius t : sched.all_targets())
        if (t < site.min || t > site.max)
            s.fail(s.get("schedule"), "schedule target " + num(t.value) +
                                          " C is outside the site's bounds " + num(site.min.value) +
                                          "-" + num(site.max.value) +
                                          " C; change the schedule or the bounds");
    site.schedule = *text;
}

void read_source(const std::string& origin, const Scope& parent, Site& site) {
    const toml::table* t = parent.subtable("source");
    if (!t) return;
    Scope s(origin, parent.where() + " source", *t);
    s.check_keys({"type", "measured", "url", "timeout_s", "poll_s", "stale_after_s",
                  "measured_field", "target_field", "safe_mode"});
    HeatSourceSpec& src = site.source;
    if (auto type = s.string("type")) {
        const auto& types = heat_source_types();
        if (std::find(types.begin(), types.end(), *type) == types.end())
            s.fail(s.get("type"),
                   "unknown source type '" + *type + "'; use " + joined_names(types));
        src.type = *type;
    }
    if (src.type == "sim-tank" && site.kind != SiteKind::tank)
        s.fail(s.get("type"), "source type 'sim-tank' simulates a tank but the site is a " +
                                  std::string(to_string(site.kind)) + "; use sim-room");
    if (src.type == "sim-room" && site.kind == SiteKind::tank)
        s.fail(s.get("type"),
               "source type 'sim-room' simulates a room but the site is a tank; "
               "use sim-tank");

    // A key of another type is a mistake (url without type = "http" would
    // silently leave a static source), so it is refused, not ignored.
    const bool http = src.type == "http";
    for (const char* key :
         {"url", "timeout_s", "poll_s", "stale_after_s", "measured_field", "target_field"})
        if (!http && s.get(key))
            s.fail(s.get(key), "'" + std::string(key) +
                                   "' applies to http sources only; set "
                                   "type = \"http\" or remove it");
    if (src.type != "static" && s.get("measured"))
        s.fail(s.get("measured"), "'measured' applies to static sources only; remove it (a " +
                                      src.type + " source measures by itself)");

    if (auto v = s.temperature("measured")) src.measured = *v;
    if (http) {
        auto url = s.string("url");
        if (!url) s.fail(nullptr, "an http source needs 'url'; add url = \"http://HOST/PATH\"");
        if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)
            s.fail(s.get("url"),
                   "'url' " + *url + " is not an HTTP URL; write it as http://... or https://...");
        src.url = *url;
        if (auto v = s.positive("timeout_s", false, "a timeout in seconds")) src.timeout_s = *v;
        if (auto v = s.positive("poll_s", false, "a poll period in seconds")) src.poll_s = *v;
        if (auto v = s.positive("stale_after_s", false, "an age in seconds"))
            src.stale_after_s = *v;
        if (src.stale_after_s < src.poll_s)
            s.fail(s.get("stale_after_s") ? s.get("stale_after_s") : s.get("poll_s"),
                   "'stale_after_s' " + num(src.stale_after_s) + " is below 'poll_s' " +
                       num(src.poll_s) +
                       "; every reading would be stale, set stale_after_s to "
                       "poll_s or more");
        if (auto v = s.string("measured_field")) {
            if (v->empty())
                s.fail(s.get("measured_field"),
                       "'measured_field' is empty; name the JSON member of the temperature");
            src.measured_field = *v;
        }
        if (auto v = s.string("target_field")) src.target_field = *v;
    }
    if (auto mode = s.string("safe_mode")) {
        if (*mode == "min")
            src.safe_mode = SafeMode::min_power;
        else if (*mode == "hold")
            src.safe_mode = SafeMode::hold;
        else
            s.fail(s.get("safe_mode"), "unknown safe_mode '" + *mode + "'; use min or hold");
    }
}

DrawPeriod read_draw(const std::string& origin, const std::string& where, const toml::node& n,
                     std::size_t index) {
    const std::string me = where + " draw #" + std::to_string(index + 1);
    if (!n.is_table()) {
        toml::table empty;
        Scope(origin, me, empty)
            .fail(&n, std::string("must be a table, not ") + type_name(n) +
                          "; write { start = \"06:00\", end = \"08:00\", watts = 3000 }");
    }
    Scope s(origin, me, *n.as_table());
    s.check_keys({"start", "end", "watts"});
    auto clock = [&s](const char* key) {
        const std::string text = s.required_string(key, std::string(key) + " = \"HH:MM\"");
        auto m = parse_clock_time(text);
        if (!m)
            s.fail(s.get(key), "'" + std::string(key) + "' '" + text +
                                   "' is not a time; write HH:MM from 00:00 to 24:00");
        return *m;
    };
    DrawPeriod d;
    const int start = clock("start");
    const int end = clock("end");
    if (end <= start)
        s.fail(s.get("end"),
               "'end' is not after 'start'; a period may not wrap past midnight, "
               "so write two (e.g. 22:00-24:00 and 00:00-06:00)");
    d.start_s = start * 60;
    d.end_s = end * 60;
    auto watts = s.positive("watts", true, "the heat drawn in W");
    if (!watts) s.fail(nullptr, "missing 'watts'; add watts = 2000 (the heat drawn, W)");
    d.power = Watts{*watts};
    return d;
}

void read_thermal(const std::string& origin, const Scope& parent, Site& site) {
    const toml::table* t = parent.subtable("thermal");
    if (!t) return;
    Scope s(origin, parent.where() + " thermal", *t);
    s.check_keys({"volume_litres", "loss_w_per_k", "ambient", "capacity_j_per_k",
                  "resistance_k_per_w", "outside", "initial", "draw"});
    ThermalParams& p = site.thermal;
    if (auto v = s.positive("volume_litres", false, "the tank's volume in litres"))
        p.volume_litres = *v;
    if (auto v = s.positive("loss_w_per_k", true, "the standing loss in W/K")) p.loss_w_per_k = *v;
    if (auto v = s.temperature("ambient")) p.ambient = *v;
    if (auto v = s.positive("capacity_j_per_k", false, "the heat capacity in J/K"))
        p.capacity_j_per_k = *v;
    if (auto v = s.positive("resistance_k_per_w", false, "the thermal resistance in K/W"))
        p.resistance_k_per_w = *v;
    if (auto v = s.temperature("outside")) p.outside = *v;
    if (auto v = s.temperature("initial")) p.initial = *v;
    if (const toml::node* n = s.get("draw")) {
        if (!n->is_array())
            s.fail(n,
                   std::string("'draw' must be an array, not ") + type_name(*n) +
                       "; write draw = [ { start = \"06:00\", end = \"08:00\", watts = 3000 } ]");
        const toml::array& a = *n->as_array();
        for (std::size_t i = 0; i < a.size(); ++i)
            p.draw.push_back(read_draw(origin, s.where(), *a.get(i), i));
    }
}

Site read_site(const std::string& origin, const toml::table& t, std::size_t index) {
    Scope s(origin, "", t);
    Site site;
    site.name = entry_name(s, "site", index);
    s.check_keys({"name", "kind", "target", "min", "max", "band", "recovery", "schedule", "source",
                  "thermal"});

    const std::string kind = s.required_string("kind", "kind = \"tank\", \"room\" or \"loop\"");
    if (kind == "tank")
        site.kind = SiteKind::tank;
    else if (kind == "room")
        site.kind = SiteKind::room;
    else if (kind == "loop")
        site.kind = SiteKind::loop;
    else
        s.fail(s.get("kind"), "unknown kind '" + kind + "'; use tank, room or loop");

    read_bounds(s, site);
    auto target = s.number("target");
    if (!target) s.fail(nullptr, "missing 'target'; add target = T in degrees C");
    try {
        check_target(site, *target);
    } catch (const Error& e) {
        s.fail_raw(s.get("target"), e.what());
    }
    site.target = Celsius{*target};

    if (auto band = s.finite("band")) {
        if (!(*band > 0 && *band <= 10))
            s.fail(s.get("band"), "'band' " + num(*band) +
                                      " K is out of range; give a deadband half-width above 0 "
                                      "and up to 10 K");
        site.band = *band;
    }
    if (auto rec = s.finite("recovery")) {
        if (!(*rec >= k_min_recovery && *rec <= 1.0))
            s.fail(s.get("recovery"),
                   "'recovery' " + num(*rec) +
                       " is out of range; give the share of the node's energy the site receives "
                       "as heat, from 0.5 to 1.0 (e.g. recovery = 0.95)");
        site.recovery = *rec;
    }
    read_schedule(s, site);
    read_source(origin, s, site);
    read_thermal(origin, s, site);
    return site;
}

std::string url_host(const std::string& host) {
    // An IPv6 literal needs brackets in a URL.
    if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
    return host;
}

GridNode read_node(const std::string& origin, const toml::table& t, std::size_t index,
                   const Grid& grid) {
    Scope s(origin, "", t);
    GridNode node;
    node.name = entry_name(s, "node", index);
    s.check_keys(
        {"name", "site", "host", "slots", "memory", "gpus", "agent", "idle_watts", "max_watts"});

    node.site = s.required_string("site", "site = \"NAME\", the site this node heats");
    if (!grid.find_site(node.site)) {
        std::vector<std::string> names;
        for (const auto& site : grid.sites) names.push_back(site.name);
        s.fail(s.get("site"),
               "site '" + node.site + "' is not defined; defined sites: " + join(names, ", "));
    }

    node.host = s.string("host").value_or(node.name);
    bool host_ok = !node.host.empty();
    for (char c : node.host)
        host_ok = host_ok && c > ' ' && c != 0x7f && c != '/' && c != '@' && c != '?' && c != '#';
    if (!host_ok)
        s.fail(s.get("host"), "'host' '" + node.host +
                                  "' is not a host name or address; write e.g. node1.example.org "
                                  "or 198.18.0.2");

    if (const toml::node* n = s.get("slots")) {
        if (!n->is_integer())
            s.fail(n, std::string("'slots' must be a whole number, not ") + type_name(*n));
        const std::int64_t v = n->as_integer()->get();
        if (v < 1 || v > 4096)
            s.fail(n, "'slots' " + std::to_string(v) +
                          " is out of range; give the task slots of the node, 1 to 4096");
        node.slots = static_cast<std::uint32_t>(v);
    }

    if (const toml::node* n = s.get("gpus")) {
        const std::int64_t v = n->is_integer() ? n->as_integer()->get() : -1;
        if (v < 0 || v > k_max_node_gpus)
            s.fail(n, "'gpus' must be a whole number from 0 to " + std::to_string(k_max_node_gpus) +
                          ": the GPUs tasks may use on the node, e.g. gpus = 2");
        node.gpus = static_cast<std::uint32_t>(v);
    }

    if (auto m = s.string("memory")) {
        try {
            node.memory = parse_byte_size(*m, "'memory'");
        } catch (const Error& e) {
            s.fail(s.get("memory"),
                   std::string(e.what()) + "; give the node's memory for tasks, e.g. \"64G\"");
        }
    }

    if (auto agent = s.string("agent")) {
        if (agent->rfind("http://", 0) != 0 && agent->rfind("https://", 0) != 0)
            s.fail(s.get("agent"), "'agent' " + *agent + " is not an HTTP URL; write e.g. http://" +
                                       url_host(node.host) + ":9750");
        node.agent = *agent;
    } else {
        node.agent = "http://" + url_host(node.host) + ":9750";
    }

    if (auto v = s.positive("idle_watts", true, "the node's idle power in W"))
        node.idle = Watts{*v};
    if (auto v = s.finite("max_watts")) node.max = Watts{*v};
    if (!(node.max > node.idle))
        s.fail(s.get("max_watts") ? s.get("max_watts") : s.get("idle_watts"),
               "'max_watts' " + num(node.max.value) + " W is not above 'idle_watts' " +
                   num(node.idle.value) + " W; set max_watts to the node's full-load power");
    return node;
}

// A Unix user name as useradd(8) takes it; never root: a tenant's tasks do
// not run with every right on the node.
bool is_unix_user(const std::string& s) {
    if (s.empty() || s.size() > 32 || s == "root") return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
}

TenantSpec read_tenant(const std::string& origin, const toml::table& t, std::size_t index) {
    Scope s(origin, "tenant #" + std::to_string(index + 1), t);
    TenantSpec tenant;
    tenant.name = s.required_string("name", "name = \"bank\" to name it");
    if (!is_tenant_name(tenant.name))
        s.fail(s.get("name"), "tenant name '" + tenant.name +
                                  "' is not allowed; use 1-64 lower-case letters, digits, '_' or '-'");
    s.set_where("tenant '" + tenant.name + "'");
    s.check_keys({"name", "share", "max_running", "user"});
    if (auto v = s.finite("share")) {
        if (!(*v > 0 && *v <= k_max_tenant_share))
            s.fail(s.get("share"), "'share' " + num(*v) +
                                       " is out of range; give the tenant's relative weight, above 0 "
                                       "and at most 1e6 (e.g. 2 for twice an equal share)");
        tenant.share = *v;
    }
    if (const toml::node* n = s.get("max_running")) {
        if (!n->is_integer())
            s.fail(n, std::string("'max_running' must be a whole number, not ") + type_name(*n));
        const std::int64_t v = n->as_integer()->get();
        if (v < 0 || v > 1'000'000'000)
            s.fail(n, "'max_running' " + std::to_string(v) +
                          " is out of range; give the most slots the tenant may hold at once, "
                          "0 for no limit, up to 1e9");
        tenant.max_running = static_cast<std::uint32_t>(v);
    }
    if (auto user = s.string("user")) {
        if (!is_unix_user(*user))
            s.fail(s.get("user"), "'user' '" + *user +
                                      "' is not a Unix user a tenant's tasks may run as; give a "
                                      "user name such as hearth-bank (not root)");
        tenant.user = *user;
    }
    return tenant;
}

// The [[site]] or [[node]] entries, refusing a single [site] table and the like.
const toml::array* entries(const Scope& top, const char* key) {
    const toml::node* n = top.get(key);
    if (!n || (n->is_array() && n->as_array()->empty())) return nullptr;
    if (!n->is_array_of_tables())
        top.fail(n, "'" + std::string(key) + "' must be [[" + key + "]] entries, not " +
                        type_name(*n) + "; write each as a [[" + key + "]] section");
    return n->as_array();
}

std::vector<TenantSpec> read_tenants(const std::string& origin, const Scope& top);

toml::table parse_document(const std::string& toml_text, const std::string& origin) {
    try {
        return toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        throw usage_error(origin + ":" + std::to_string(e.source().begin.line) +
                          ": TOML syntax error: " + std::string(e.description()) +
                          "; fix the syntax at that line");
    } catch (const Error& e) {  // one of toml++'s own checks (core/toml.hpp)
        throw usage_error(origin + ": " + e.what());
    }
}

}  // namespace

void check_target(const Site& site, double celsius) {
    const std::string who = "site '" + site.name + "': ";
    if (!std::isfinite(celsius))
        throw usage_error(who + "target " + num(celsius) +
                          " is not a temperature; give a finite number of degrees C");
    if (celsius < site.min.value || celsius > site.max.value)
        throw usage_error(who + "target " + num(celsius) + " C is outside its safety bounds " +
                          num(site.min.value) + "-" + num(site.max.value) +
                          " C; choose a target within them");
}

Grid parse_grid(const std::string& toml_text, const std::string& origin) {
    const toml::table doc = parse_document(toml_text, origin);
    Scope top(origin, "", doc);
    top.check_keys({"gas_kgco2_per_kwh", "site", "node", "tenant"});

    Grid grid;
    if (auto v = top.positive("gas_kgco2_per_kwh", true, "kg CO2e per kWh of gas heat"))
        grid.gas_kgco2_per_kwh = *v;

    std::set<std::string> names;
    if (const toml::array* sites = entries(top, "site")) {
        for (std::size_t i = 0; i < sites->size(); ++i) {
            const toml::table& t = *sites->get(i)->as_table();
            Site site = read_site(origin, t, i);
            if (!names.insert(site.name).second)
                Scope(origin, "", t)
                    .fail(t.get("name"), "site '" + site.name +
                                             "' is defined twice; give each "
                                             "[[site]] its own name");
            grid.sites.push_back(std::move(site));
        }
    }
    if (grid.sites.empty())
        top.fail(nullptr, "no sites; describe at least one [[site]] (see hearth-grid(5))");

    names.clear();
    if (const toml::array* nodes = entries(top, "node")) {
        for (std::size_t i = 0; i < nodes->size(); ++i) {
            const toml::table& t = *nodes->get(i)->as_table();
            GridNode node = read_node(origin, t, i, grid);
            if (!names.insert(node.name).second)
                Scope(origin, "", t)
                    .fail(t.get("name"), "node '" + node.name +
                                             "' is defined twice; give each "
                                             "[[node]] its own name");
            grid.nodes.push_back(std::move(node));
        }
    }
    if (grid.nodes.empty())
        top.fail(nullptr, "no nodes; describe at least one [[node]] (see hearth-grid(5))");
    grid.tenants = read_tenants(origin, top);
    return grid;
}

namespace {

std::vector<TenantSpec> read_tenants(const std::string& origin, const Scope& top) {
    std::vector<TenantSpec> tenants;
    std::set<std::string> names;
    if (const toml::array* entries_ = entries(top, "tenant")) {
        for (std::size_t i = 0; i < entries_->size(); ++i) {
            const toml::table& t = *entries_->get(i)->as_table();
            TenantSpec tenant = read_tenant(origin, t, i);
            if (!names.insert(tenant.name).second)
                Scope(origin, "", t)
                    .fail(t.get("name"), "tenant '" + tenant.name +
                                             "' is defined twice; give each "
                                             "[[tenant]] its own name");
            tenants.push_back(std::move(tenant));
        }
    }
    return tenants;
}

}  // namespace

std::vector<TenantSpec> parse_tenant_table(const std::string& toml_text, const std::string& origin) {
    const toml::table doc = parse_document(toml_text, origin);
    return read_tenants(origin, Scope(origin, "", doc));
}

Grid load_grid(const std::string& path) {
    auto fail = [&path]() -> Error {
        return usage_error("cannot read grid file " + path + ": " + std::strerror(errno) +
                           "; give the path of a readable grid file (hearth-grid(5))");
    };
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
    if (!f) throw fail();
    std::string text;
    char buf[65536];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, got);
    // A directory opens fine and fails here, with EISDIR.
    if (std::ferror(f.get())) throw fail();
    return parse_grid(text, path);
}

}  // namespace hearth
