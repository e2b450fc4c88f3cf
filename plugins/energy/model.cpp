#include "model.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "core/error.hpp"
#include "core/proc_stat.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

// A plain estimate for a small board, not a measurement: about what a
// mainboard, RAM and an idling CPU draw, plus a few watts per busy core.
constexpr double k_idle_base_w = 10;
constexpr double k_idle_per_core_w = 2;
constexpr double k_dynamic_per_core_w = 10;

std::string watts(Watts w) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g W", w.value);
    return buf;
}

// The probe's reason when /proc/stat cannot be used, "" when it can.
std::string proc_stat_problem(const FsRoot& fs, std::optional<CpuTicks>& ticks) {
    int err = 0;
    ticks = read_proc_stat(fs, &err);
    if (ticks) return "";
    if (err) return "cannot read /proc/stat: " + errno_text(err) + "; is /proc mounted?";
    return "/proc/stat has no aggregate \"cpu\" line; is /proc mounted?";
}

}  // namespace

ModelParams derive_model_params(unsigned cores, ModelParams given) {
    const double n = std::max(1u, cores);
    ModelParams p = given;
    if (p.idle.value <= 0) p.idle = Watts{k_idle_base_w + k_idle_per_core_w * n};
    if (p.max.value <= 0) p.max = Watts{p.idle.value + k_dynamic_per_core_w * n};
    if (p.max.value < p.idle.value)
        throw usage_error("energy model: max power " + watts(p.max) + " is below idle power " +
                          watts(p.idle) + "; give a max power at least the idle power");
    return p;
}

ProbeResult probe_model(const FsRoot& fs) {
    ProbeResult r;
    r.source = "model";
    std::optional<CpuTicks> ticks;
    r.detail = proc_stat_problem(fs, ticks);
    if (!r.detail.empty()) return r;
    r.available = true;
    ModelParams p = derive_model_params(ticks->cores, {});
    r.detail = "estimated from CPU utilisation (/proc/stat, " + std::to_string(ticks->cores) +
               " cores): idle " + watts(p.idle) + ", max " + watts(p.max) +
               " unless configured (a plain estimate: 10 W + 2 W per core idle, 10 W more per "
               "busy core)";
    return r;
}

ModelSource::ModelSource(std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
                         ModelParams params)
    : m_fs(std::move(fs)), m_clock(std::move(clock)) {
    std::optional<CpuTicks> ticks;
    std::string problem = proc_stat_problem(*m_fs, ticks);
    if (!problem.empty()) throw Error("energy source model is unavailable: " + problem);
    m_params = derive_model_params(ticks->cores, params);
}

EnergyReading ModelSource::read() {
    EnergyReading out;
    out.estimated = true;
    const auto now = m_clock->now();
    int err = 0;
    std::optional<CpuTicks> t = read_proc_stat(*m_fs, &err);
    if (!t) {
        // State untouched: the next good read spans this interval at its
        // average utilisation.
        out.warnings.push_back(
            "model: /proc/stat " +
            (err ? "read failed: " + errno_text(err) : std::string("has no \"cpu\" line")) +
            "; skipped this interval");
        out.total = Microjoules{static_cast<std::uint64_t>(m_total_uj)};
        return out;
    }
    if (m_have_prev) {
        double share = 0;
        // Counters only go back when something reset them: count idle power
        // rather than guess.
        if (t->busy >= m_prev_busy && t->total > m_prev_total)
            share = static_cast<double>(t->busy - m_prev_busy) /
                    static_cast<double>(t->total - m_prev_total);
        share = std::clamp(share, 0.0, 1.0);
        const double dt = std::chrono::duration<double>(now - m_prev_time).count();
        const double power =
            m_params.idle.value + share * (m_params.max.value - m_params.idle.value);
        if (dt > 0) m_total_uj += power * dt * 1e6;
    }
    m_have_prev = true;
    m_prev_busy = t->busy;
    m_prev_total = t->total;
    m_prev_time = now;
    out.total = Microjoules{static_cast<std::uint64_t>(m_total_uj)};
    return out;
}

}  // namespace hearth
