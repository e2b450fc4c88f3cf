#pragma once
// The grid-agent's HTTP bodies that other programs read (hearth-api(7)): a
// row of GET /v1/energy (hearth energy) and a point of GET /v1/history
// (hearth dashboard's merged site history). One JSON definition each, written
// by the agent and read by the clients, so a field added on one side cannot
// be missed on the other.
#include <optional>

#include <nlohmann/json.hpp>

#include "history.hpp"
#include "ledger.hpp"

namespace hearth {

nlohmann::json energy_row_json(const EnergyRow& r);
// A row as an agent wrote it; a usage_error naming the field when it is not
// one. An older agent's row without "estimated_uj" counts wholly estimated
// when it says estimated, which is what it meant.
EnergyRow energy_row_from_json(const nlohmann::json& j);

// {"t_ms", "power_w", "temp_c" (null: no reading), "target_c", "slots_allowed", "slots"}
nlohmann::json history_point_json(const HistoryPoint& p);
// A point as an agent wrote it, at resolution res_s (the answer's, not the
// point's); nullopt for an entry without a whole t_ms, which the merge skips
// (one bad point must not hide a site's day). Missing numbers read as 0 or
// no reading.
std::optional<HistoryPoint> history_point_from_json(const nlohmann::json& j, int res_s);

}  // namespace hearth
