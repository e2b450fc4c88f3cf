#include "history.hpp"

#include <cmath>
#include <map>
#include <string>

#include "error.hpp"

namespace hearth {

namespace {

constexpr std::int64_t k_hour_ms = 3600 * 1000;
constexpr std::int64_t k_fine_span_ms = 26 * k_hour_ms;

// Rounds down, also before 1970 (integer division rounds towards zero).
std::int64_t bucket_start(std::int64_t t_ms, int res_s) {
    const std::int64_t width = std::int64_t{res_s} * 1000;
    std::int64_t r = t_ms % width;
    if (r < 0) r += width;
    return t_ms - r;
}

}  // namespace

HistoryBuckets::HistoryBuckets(std::vector<int> tiers_s) {
    for (int res : tiers_s) {
        if (res <= 0) {
            throw Error("history: a resolution of " + std::to_string(res) +
                        " s is not positive (a Hearth bug: please report it)");
        }
        for (const auto& t : m_tiers) {
            if (t.res_s == res) {
                throw Error("history: the resolution " + std::to_string(res) +
                            " s is given twice (a Hearth bug: please report it)");
            }
        }
        Open o;
        o.res_s = res;
        m_tiers.push_back(o);
    }
}

HistoryPoint HistoryBuckets::Open::point() const {
    HistoryPoint p;
    p.t_ms = t_ms;
    p.res_s = res_s;
    p.power_w = power_n > 0 ? power_sum / power_n : 0.0;
    if (temp_n > 0) p.temp_c = temp_sum / temp_n;
    p.target_c = target_c;
    p.slots_allowed = slots_allowed;
    p.slots = slots;
    return p;
}

std::vector<HistoryPoint> HistoryBuckets::add(const HistorySample& s) {
    std::vector<HistoryPoint> closed;
    for (auto& t : m_tiers) {
        const std::int64_t start = bucket_start(s.t_ms, t.res_s);
        if (t.open && start != t.t_ms) {
            closed.push_back(t.point());
            t.open = false;
        }
        if (!t.open) {
            const int res = t.res_s;
            t = Open{};
            t.res_s = res;
            t.open = true;
            t.t_ms = start;
        }
        if (std::isfinite(s.power_w)) {
            t.power_sum += s.power_w;
            ++t.power_n;
        }
        if (s.temp_c && std::isfinite(*s.temp_c)) {
            t.temp_sum += *s.temp_c;
            ++t.temp_n;
        }
        t.target_c = s.target_c && std::isfinite(*s.target_c) ? s.target_c : std::nullopt;
        t.slots_allowed = s.slots_allowed;
        t.slots = s.slots;
    }
    return closed;
}

std::vector<HistoryPoint> HistoryBuckets::flush() {
    std::vector<HistoryPoint> out = pending();
    for (auto& t : m_tiers) t.open = false;
    return out;
}

std::vector<HistoryPoint> HistoryBuckets::pending() const {
    std::vector<HistoryPoint> out;
    for (const auto& t : m_tiers) {
        if (t.open) out.push_back(t.point());
    }
    return out;
}

std::vector<HistoryRetention> default_retention() {
    return {{10, k_fine_span_ms}, {60, 8 * 24 * k_hour_ms}};
}

int pick_resolution(std::int64_t since_ms, std::int64_t until_ms) {
    return until_ms - since_ms <= k_fine_span_ms ? 10 : 60;
}

std::vector<HistoryPoint> merge_site_history(
    const std::vector<std::vector<HistoryPoint>>& per_node) {
    struct Sum {
        HistoryPoint p;
        double temp_sum = 0;
        int temp_n = 0;
    };
    std::map<std::int64_t, Sum> by_t;
    for (const auto& node : per_node) {
        for (const auto& p : node) {
            auto [it, fresh] = by_t.try_emplace(p.t_ms);
            Sum& s = it->second;
            if (fresh) {
                s.p.t_ms = p.t_ms;
                s.p.res_s = p.res_s;
            }
            s.p.power_w += p.power_w;
            s.p.slots_allowed += p.slots_allowed;
            s.p.slots += p.slots;
            if (p.temp_c) {
                s.temp_sum += *p.temp_c;
                ++s.temp_n;
            }
            if (!s.p.target_c) s.p.target_c = p.target_c;
        }
    }
    std::vector<HistoryPoint> out;
    out.reserve(by_t.size());
    for (auto& [t, s] : by_t) {
        if (s.temp_n > 0) s.p.temp_c = s.temp_sum / s.temp_n;
        out.push_back(s.p);
    }
    return out;
}

}  // namespace hearth
