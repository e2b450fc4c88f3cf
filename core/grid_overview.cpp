#include "core/grid_overview.hpp"

#include <algorithm>

namespace hearth {

namespace {

constexpr std::int64_t k_day_ms = 86'400'000;
constexpr double k_uj_per_kwh = 3.6e12;

std::int64_t midnight(std::int64_t ms) {
    return ms - ((ms % k_day_ms) + k_day_ms) % k_day_ms;
}

}  // namespace

std::int64_t overview_week_start_ms(std::int64_t now_ms) {
    return midnight(now_ms) - 6 * k_day_ms;
}

GridOverview make_overview(const std::vector<AttemptEnergy>& attempts,
                           const std::vector<SiteSeen>& sites, std::int64_t now_ms,
                           double gas_kgco2_per_kwh) {
    GridOverview o;
    o.now_ms = now_ms;
    o.gas_kgco2_per_kwh = gas_kgco2_per_kwh;
    const std::int64_t start = overview_week_start_ms(now_ms);
    for (int d = 0; d < 7; ++d) o.week.push_back(DayHeat{start + d * k_day_ms, 0, 0});
    const std::int64_t today = midnight(now_ms);
    double recent_uj = 0, useful_kwh = 0;
    std::vector<double> site_today(sites.size(), 0.0);
    for (const AttemptEnergy& a : attempts) {
        if (a.ended_ms < start || a.ended_ms > now_ms) continue;
        const double kwh = static_cast<double>(a.energy_uj) / k_uj_per_kwh;
        DayHeat& day = o.week[static_cast<std::size_t>((a.ended_ms - start) / k_day_ms)];
        day.kwh += kwh;
        o.heat_week_kwh += kwh;
        if (!a.overridden) {
            day.useful_kwh += kwh;
            useful_kwh += kwh;
        }
        if (a.ended_ms >= today) {
            o.heat_today_kwh += kwh;
            for (std::size_t i = 0; i < sites.size(); ++i)
                if (sites[i].name == a.site) site_today[i] += kwh;
        }
        if (a.ended_ms > now_ms - k_overview_power_window_ms)
            recent_uj += static_cast<double>(a.energy_uj);
    }
    o.power_w = recent_uj / 1e6 / (k_overview_power_window_ms / 1000.0);
    o.useful_share = o.heat_week_kwh > 0 ? useful_kwh / o.heat_week_kwh : 0;
    o.gas_co2_kg_week = useful_kwh * gas_kgco2_per_kwh;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        const SiteSeen& s = sites[i];
        SiteOverview v;
        v.name = s.name;
        v.slots = s.slots;
        v.running = s.running;
        v.last_ms = s.last_ms;
        v.heat_today_kwh = site_today[i];
        if (s.last_ms == 0) {
            v.alarm = true;
            v.reason = "never asked for work: is its hearth site running?";
        } else if (s.lease_expires_ms < now_ms) {
            v.alarm = true;
            v.reason = "silent for " + std::to_string((now_ms - s.last_ms) / 1000) +
                       " s, past its lease: its tasks run elsewhere";
        } else if (!s.down.empty()) {
            v.alarm = true;
            v.reason = "node" + std::string(s.down.size() > 1 ? "s " : " ");
            for (std::size_t k = 0; k < s.down.size(); ++k) v.reason += (k ? ", " : "") + s.down[k];
            v.reason += " down";
        }
        o.sites.push_back(std::move(v));
    }
    std::stable_sort(o.sites.begin(), o.sites.end(),
                     [](const SiteOverview& a, const SiteOverview& b) {
                         if (a.alarm != b.alarm) return a.alarm;
                         return a.name < b.name;
                     });
    return o;
}

nlohmann::json to_json(const GridOverview& o) {
    nlohmann::json sites = nlohmann::json::array(), week = nlohmann::json::array();
    for (const SiteOverview& s : o.sites)
        sites.push_back({{"name", s.name},
                         {"alarm", s.alarm},
                         {"reason", s.reason},
                         {"slots", s.slots},
                         {"running", s.running},
                         {"last_ms", s.last_ms},
                         {"heat_today_kwh", s.heat_today_kwh}});
    for (const DayHeat& d : o.week)
        week.push_back({{"day_ms", d.day_ms}, {"kwh", d.kwh}, {"useful_kwh", d.useful_kwh}});
    return {{"now_ms", o.now_ms},
            {"power_w", o.power_w},
            {"heat_today_kwh", o.heat_today_kwh},
            {"heat_week_kwh", o.heat_week_kwh},
            {"useful_share", o.useful_share},
            {"gas_co2_kg_week", o.gas_co2_kg_week},
            {"gas_kgco2_per_kwh", o.gas_kgco2_per_kwh},
            {"sites", sites},
            {"week", week}};
}

}  // namespace hearth
