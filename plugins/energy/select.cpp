#include "select.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/error.hpp"
#include "papi.hpp"
#include "powercap.hpp"

namespace hearth {
namespace {

constexpr std::array<const char*, 3> k_order = {"powercap", "papi", "model"};

std::string watts(Watts w) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g W", w.value);
    return buf;
}

std::string model_detail(const ModelParams& p) {
    return "estimated from CPU utilisation: idle " + watts(p.idle) + ", max " + watts(p.max);
}

}  // namespace

SourceChoice choose_energy_source(const std::string& wanted, std::shared_ptr<const FsRoot> fs,
                                  std::shared_ptr<const Clock> clock, std::unique_ptr<PapiApi> papi,
                                  ModelParams model) {
    if (wanted != "auto" && std::find(k_order.begin(), k_order.end(), wanted) == k_order.end())
        throw usage_error("unknown energy source '" + wanted +
                          "': valid names are auto, powercap, papi, model");

    SourceChoice c;
    c.table.push_back(probe_powercap(*fs));
    c.table.push_back(papi ? probe_papi(*papi)
                           : ProbeResult{"papi", false, "Hearth was built without PAPI"});
    c.table.push_back(probe_model(*fs));

    // Built now so the table says which figures the estimate will use (the
    // configured ones, not the defaults probe_model knows about).
    std::unique_ptr<ModelSource> model_source;
    if (c.table[2].available) {
        model_source = std::make_unique<ModelSource>(fs, clock, model);
        c.table[2].detail = model_detail(model_source->params());
    }

    std::size_t pick = c.table.size();
    for (std::size_t i = 0; i < c.table.size(); ++i) {
        if (wanted == "auto" ? c.table[i].available : c.table[i].source == wanted) {
            pick = i;
            break;
        }
    }
    if (pick == c.table.size()) {
        std::string all;
        for (const auto& p : c.table) all += "; " + p.source + ": " + p.detail;
        throw Error("no energy source is available" + all, ExitCode::no_grid);
    }
    if (!c.table[pick].available) {
        std::string others;
        for (const auto& p : c.table)
            if (p.available && p.source != wanted) others += " or " + p.source;
        throw usage_error("energy source '" + wanted + "' is unavailable: " + c.table[pick].detail +
                          (others.empty() ? "; no other energy source is available here"
                                          : "; use --energy auto" + others));
    }

    std::string chosen_detail;
    if (pick == 0) {
        auto pc = std::make_unique<PowercapSource>(fs, clock);
        for (const auto& z : pc->zones())
            chosen_detail += (chosen_detail.empty() ? "" : ", ") + z.name;
        c.source = std::move(pc);
    } else if (pick == 1) {
        chosen_detail = c.table[1].detail;
        c.source = std::make_unique<PapiSource>(std::move(papi), clock);
    } else {
        chosen_detail = c.table[2].detail;
        c.source = std::move(model_source);
    }

    c.summary = "energy source: " + c.table[pick].source + " (" + chosen_detail + ")";
    for (std::size_t i = 0; i < c.table.size(); ++i) {
        if (i == pick) continue;
        const auto& p = c.table[i];
        c.summary += "; " + p.source + ": ";
        if (!p.available)
            c.summary += "unavailable (" + p.detail + ")";
        else
            c.summary += i > pick ? "not needed" : "available, not chosen";
    }
    return c;
}

}  // namespace hearth
