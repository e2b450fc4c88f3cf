#include "agent_bodies.hpp"

#include <cmath>
#include <limits>

#include "json_fields.hpp"

namespace hearth {
namespace {

using nlohmann::json;

json opt_json(const std::optional<double>& v) {
    return v ? json(*v) : json();
}

double num_or(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::optional<double> opt_num(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    const double v = it->get<double>();
    return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

int whole_or_zero(const json& j, const char* key) {
    const double v = num_or(j, key);
    // Slot counts: what an int holds; anything else is a broken agent's.
    return std::isfinite(v) && v >= 0 && v <= std::numeric_limits<int>::max() ? static_cast<int>(v)
                                                                              : 0;
}

}  // namespace

json energy_row_json(const EnergyRow& r) {
    return {{"key", r.key},
            {"energy_uj", r.energy.value},
            {"static_uj", r.static_part.value},
            {"seconds", r.seconds},
            {"estimated", r.estimated},
            {"estimated_uj", r.estimated_part.value},
            {"sources", r.sources}};
}

EnergyRow energy_row_from_json(const json& j) {
    const JsonFields f(j, "energy row");
    constexpr auto k_max = std::numeric_limits<std::uint64_t>::max();
    EnergyRow row;
    row.key = f.str("key");
    row.energy = Microjoules{f.u64("energy_uj", 0, k_max)};
    row.static_part = Microjoules{f.u64("static_uj", 0, k_max)};
    row.seconds = f.num("seconds", 0, std::numeric_limits<double>::max());
    row.estimated = f.flag("estimated", false);
    row.estimated_part = f.has("estimated_uj") ? Microjoules{f.u64("estimated_uj", 0, k_max)}
                                               : (row.estimated ? row.energy : Microjoules{});
    if (f.has("sources")) row.sources = f.strs("sources", 1024, 256);
    return row;
}

json history_point_json(const HistoryPoint& p) {
    return {{"t_ms", p.t_ms},
            {"power_w", p.power_w},
            {"temp_c", opt_json(p.temp_c)},
            {"target_c", opt_json(p.target_c)},
            {"slots_allowed", p.slots_allowed},
            {"slots", p.slots}};
}

std::optional<HistoryPoint> history_point_from_json(const json& j, int res_s) {
    if (!j.is_object() || !j.contains("t_ms") || !j["t_ms"].is_number_integer())
        return std::nullopt;
    HistoryPoint h;
    h.t_ms = j["t_ms"].get<std::int64_t>();
    h.res_s = res_s;
    h.power_w = num_or(j, "power_w");
    h.temp_c = opt_num(j, "temp_c");
    h.target_c = opt_num(j, "target_c");
    h.slots_allowed = whole_or_zero(j, "slots_allowed");
    h.slots = whole_or_zero(j, "slots");
    return h;
}

}  // namespace hearth
