#include "progress.hpp"

#include <cmath>
#include <cstdio>

namespace hearth {

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e12) return "?";
    auto s = static_cast<std::uint64_t>(seconds + 0.5);
    char buf[32];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                      static_cast<unsigned long long>(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                      static_cast<unsigned long long>((s / 60) % 60));
    return buf;
}

std::string format_energy(std::uint64_t uj) {
    double j = static_cast<double>(uj) / 1e6;
    char buf[64];
    if (j < 1000)
        std::snprintf(buf, sizeof buf, "%.1f J", j);
    else
        std::snprintf(buf, sizeof buf, "%.1f kJ (%.4f kWh)", j / 1000, j / 3.6e6);
    return buf;
}

std::string format_progress(const ProgressCounts& c, double elapsed_s,
                            std::uint64_t done_this_run, unsigned width) {
    double frac = c.total ? static_cast<double>(c.done + c.failed) / static_cast<double>(c.total)
                          : 1.0;
    if (frac > 1) frac = 1;
    unsigned filled = static_cast<unsigned>(frac * width);
    std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
    double rate = elapsed_s > 0 ? static_cast<double>(done_this_run) / elapsed_s : 0;
    std::uint64_t left = c.total - (c.done + c.failed < c.total ? c.done + c.failed : c.total);
    std::string eta = rate > 0 ? format_duration(static_cast<double>(left) / rate) : "?";
    char buf[256];
    // Rounded down: a job with one task missing never reads 100%.
    std::snprintf(buf, sizeof buf, " %3.0f%% %llu/%llu done, %llu running, %llu failed | %.1f tasks/s | ETA %s",
                  std::floor(frac * 100), static_cast<unsigned long long>(c.done),
                  static_cast<unsigned long long>(c.total),
                  static_cast<unsigned long long>(c.running),
                  static_cast<unsigned long long>(c.failed), rate, eta.c_str());
    return bar + buf;
}

}  // namespace hearth
