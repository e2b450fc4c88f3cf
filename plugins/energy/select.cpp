#include "select.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "hwmon.hpp"
#include "ipmi.hpp"
#include "node_parts.hpp"
#include "nvml.hpp"
#include "papi.hpp"
#include "powercap.hpp"
#include "redfish.hpp"

namespace hearth {
namespace {

std::string watts(Watts w) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g W", w.value);
    return buf;
}

std::string model_detail(const ModelParams& p) {
    return "estimated from CPU utilisation: idle " + watts(p.idle) + ", max " + watts(p.max);
}

// What the summary says of the chosen source: the zones it reads, or what
// its probe found.
std::string chosen_detail(const EnergySource& source, const ProbeResult& probe) {
    if (const auto* hw = dynamic_cast<const HwmonSource*>(&source)) {
        std::string meters;
        for (const auto& m : hw->meters())
            meters += (meters.empty() ? "" : ", ") + m.name + " " + m.file;
        return meters;
    }
    if (dynamic_cast<const IpmiSource*>(&source)) return source.meter();
    if (const auto* rf = dynamic_cast<const RedfishSource*>(&source))
        return rf->counter() ? "EnergykWh counter" : "PowerConsumedWatts, integrated";
    const auto* pc = dynamic_cast<const PowercapSource*>(&source);
    if (!pc) return probe.detail;
    std::string zones;
    for (const auto& z : pc->zones()) zones += (zones.empty() ? "" : ", ") + z.name;
    return zones;
}

}  // namespace

const EnergyRegistry& energy_sources() {
    static const EnergyRegistry registry(
        "energy source",
        {{"redfish", 6, [](const EnergyContext& c) { return probe_redfish(c.redfish); },
          [](const EnergyContext& c) {
              return std::make_unique<RedfishSource>(c.redfish, c.clock, nullptr, true);
          }},
         {"hwmon", 5, [](const EnergyContext& c) { return probe_hwmon(*c.fs, c.model.max); },
          [](const EnergyContext& c) {
              return std::make_unique<HwmonSource>(c.fs, c.clock, c.model.max);
          }},
         // DCMI watts through a tool: a node meter, after hwmon's (a counter
         // or the same reading without a process per sample).
         {"ipmi", 4,
          [](const EnergyContext& c) {
              IpmiOptions o = c.ipmi;
              o.node_max = c.model.max;
              return probe_ipmi(o, *c.fs);
          },
          [](const EnergyContext& c) {
              IpmiOptions o = c.ipmi;
              o.node_max = c.model.max;
              return std::make_unique<IpmiSource>(o, c.fs, c.clock);
          }},
         {"powercap", 3, [](const EnergyContext& c) { return probe_powercap(*c.fs); },
          [](const EnergyContext& c) { return std::make_unique<PowercapSource>(c.fs, c.clock); }},
         {"papi", 2,
          [](const EnergyContext& c) {
              return c.papi ? probe_papi(*c.papi)
                            : ProbeResult{"papi", false, "Hearth was built without PAPI"};
          },
          [](const EnergyContext& c) {
              return std::make_unique<PapiSource>(std::move(c.papi), c.clock);
          }},
         {"model", 1,
          [](const EnergyContext& c) {
              // The figures the estimate will use (the configured ones, not
              // the defaults probe_model knows about).
              ProbeResult p = probe_model(*c.fs);
              if (p.available)
                  p.detail = model_detail(ModelSource(c.fs, c.clock, c.model).params());
              return p;
          },
          [](const EnergyContext& c) {
              return std::make_unique<ModelSource>(c.fs, c.clock, c.model);
          }},
         {"nvml", 0,
          [](const EnergyContext& c) {
              return c.nvml ? probe_nvml(*c.nvml)
                            : ProbeResult{"nvml", false, "NVML was not probed"};
          },
          [](const EnergyContext& c) {
              return std::make_unique<NvmlSource>(std::move(c.nvml), c.clock);
          }}});
    return registry;
}

std::vector<std::string> energy_source_names() {
    return energy_sources().names({"auto"});
}

SourceChoice choose_energy_source(const std::string& wanted, std::shared_ptr<const FsRoot> fs,
                                  std::shared_ptr<const Clock> clock, std::unique_ptr<PapiApi> papi,
                                  ModelParams model, std::unique_ptr<NvmlApi> nvml,
                                  RedfishOptions redfish, IpmiOptions ipmi) {
    const EnergyRegistry& sources = energy_sources();
    if (wanted != "auto" && !sources.find(wanted))
        throw usage_error("unknown energy source '" + wanted + "': valid names are " +
                          joined_names(energy_source_names(), ", "));

    const EnergyContext ctx{std::move(fs), std::move(clock),   papi,           model,
                            nvml,          std::move(redfish), std::move(ipmi)};
    SourceChoice c;
    for (const auto& p : sources.plugins()) c.table.push_back(p.probe(ctx));

    std::size_t pick = c.table.size();
    for (std::size_t i = 0; i < c.table.size(); ++i) {
        if (wanted == "auto" ? c.table[i].available && sources.plugins()[i].priority > 0
                             : c.table[i].source == wanted) {
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

    c.source = sources.plugins()[pick].make(ctx);
    c.summary = "energy source: " + c.table[pick].source + " (" +
                chosen_detail(*c.source, c.table[pick]) + ")";

    // A node meter with RAPL and/or GPU counters beside it: they split its
    // energy into parts (what they explain, and the platform overhead).
    std::vector<std::size_t> parts;
    const std::string& chosen = c.table[pick].source;
    if (chosen == "redfish" || chosen == "hwmon" || chosen == "ipmi") {
        const auto available = [&](const std::string& name) {
            for (std::size_t i = 0; i < c.table.size(); ++i)
                if (c.table[i].source == name && c.table[i].available) return i;
            return c.table.size();
        };
        std::unique_ptr<EnergySource> cpu, gpu;
        std::string split;
        for (const char* name : {"powercap", "papi"}) {
            const std::size_t i = available(name);
            if (i == c.table.size()) continue;
            cpu = sources.plugins()[i].make(ctx);
            split = std::string(name) + " (" + chosen_detail(*cpu, c.table[i]) + ")";
            parts.push_back(i);
            break;
        }
        if (const std::size_t i = available("nvml"); i != c.table.size()) {
            gpu = sources.plugins()[i].make(ctx);
            split += (split.empty() ? "" : " and ") + std::string("nvml (") +
                     chosen_detail(*gpu, c.table[i]) + ")";
            parts.push_back(i);
        }
        if (cpu || gpu) {
            c.source = std::make_unique<NodeWithParts>(std::move(c.source), std::move(cpu),
                                                       std::move(gpu));
            c.summary += ", split into parts by " + split +
                         ": they are charged by activity, the rest of the node's energy (the "
                         "platform overhead) by reservation";
        }
    }
    for (std::size_t i = 0; i < c.table.size(); ++i) {
        if (i == pick || std::find(parts.begin(), parts.end(), i) != parts.end()) continue;
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
