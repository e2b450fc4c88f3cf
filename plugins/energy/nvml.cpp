#include "nvml.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hearth {
namespace {

// The GPUs that read, and why the others do not (the first reason).
std::vector<unsigned> readable_gpus(NvmlApi& api, std::string& why, double& joules) {
    std::vector<unsigned> out;
    auto n = api.device_count(why);
    if (!n) return out;
    if (*n == 0) why = "the NVIDIA driver sees no GPU";
    for (unsigned i = 0; i < *n; ++i) {
        std::string w;
        if (auto mj = api.total_energy_mj(i, w)) {
            out.push_back(i);
            joules += static_cast<double>(*mj) / 1e3;
        } else if (why.empty()) {
            why = w + " (energy counters need a Volta or later GPU)";
        }
    }
    return out;
}

}  // namespace

ProbeResult probe_nvml(NvmlApi& api) {
    ProbeResult r;
    r.source = "nvml";
    if (std::string why = api.init(); !why.empty()) {
        r.detail = why;
        return r;
    }
    std::string why;
    double joules = 0;
    auto gpus = readable_gpus(api, why, joules);
    if (gpus.empty()) {
        r.detail = why;
        return r;
    }
    r.available = true;
    char buf[96];
    std::snprintf(buf, sizeof buf,
                  "%zu GPU%s, %.1f J since the driver loaded (GPUs only, not the node)",
                  gpus.size(), gpus.size() == 1 ? "" : "s", joules);
    r.detail = buf;
    return r;
}

NvmlSource::NvmlSource(std::unique_ptr<NvmlApi> api, std::shared_ptr<const Clock> clock)
    : m_api(std::move(api)), m_clock(std::move(clock)) {
    std::string why;
    double joules = 0;
    if (!m_api) throw Error("energy source nvml is unavailable: Hearth was started without NVML");
    for (unsigned i : readable_gpus(*m_api, why, joules)) m_gpus.push_back(Gpu{i});
    if (m_gpus.empty()) throw Error("energy source nvml is unavailable: " + why);
}

unsigned NvmlSource::gpu_count() const {
    unsigned n = 0;
    for (const auto& g : m_gpus) n = std::max(n, g.index + 1);
    return n;
}

std::string NvmlSource::meter() const {
    std::string out;
    for (const auto& g : m_gpus) out += (out.empty() ? "GPU " : ", GPU ") + std::to_string(g.index);
    return out;
}

std::string NvmlSource::checkpoint() const {
    std::string out;
    for (const auto& g : m_gpus) {
        if (!g.have_prev) continue;
        out += (out.empty() ? "gpu" : ";gpu") + std::to_string(g.index) + "=" +
               std::to_string(g.prev_mj);
    }
    return out;
}

void NvmlSource::resume(const std::string& checkpoint, double elapsed_s) {
    (void)elapsed_s;  // the counters hold the energy used meanwhile, however long
    std::size_t start = 0;
    while (start < checkpoint.size()) {
        std::size_t end = checkpoint.find(';', start);
        if (end == std::string::npos) end = checkpoint.size();
        const std::string item = checkpoint.substr(start, end - start);
        start = end + 1;
        auto eq = item.find('=');
        if (eq == std::string::npos || item.rfind("gpu", 0) != 0) continue;
        auto idx = parse_u64(item.substr(3, eq - 3));
        auto mj = parse_u64(item.substr(eq + 1));
        for (auto& g : m_gpus)
            if (idx && mj && g.index == *idx) {
                g.have_prev = true;
                g.prev_mj = *mj;
            }
    }
}

EnergyReading NvmlSource::read() {
    EnergyReading out;
    for (auto& g : m_gpus) {
        std::string why;
        auto mj = m_api->total_energy_mj(g.index, why);
        if (!mj) {
            // The next good reading covers this interval: the counter keeps counting.
            if (!g.warned) out.warnings.push_back("nvml " + why + "; skipped this interval");
            g.warned = true;
            continue;
        }
        if (g.have_prev && *mj < g.prev_mj) {
            // The driver reloaded (a reset GPU): the counter starts again.
            out.warnings.push_back("nvml GPU " + std::to_string(g.index) + ": energy went from " +
                                   std::to_string(g.prev_mj) + " to " + std::to_string(*mj) +
                                   " mJ (driver reloaded?); counting goes on from the new value");
        } else if (g.have_prev) {
            m_total += Microjoules{(*mj - g.prev_mj) * 1000};
            g.total += Microjoules{(*mj - g.prev_mj) * 1000};
        }
        g.warned = false;
        g.have_prev = true;
        g.prev_mj = *mj;
    }
    out.total = m_total;
    out.gpus.assign(gpu_count(), Microjoules{0});
    for (const auto& g : m_gpus) out.gpus[g.index] = g.total;
    return out;
}

}  // namespace hearth
