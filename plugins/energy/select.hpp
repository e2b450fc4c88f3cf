#pragma once
// `auto` energy source selection: probe every source in the registry, take
// the best available (a node meter: redfish, hwmon, ipmi; then powercap,
// papi, model), and
// say in one line which and why not the others.
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/energy_source.hpp"
#include "core/fsroot.hpp"
#include "core/plugin_registry.hpp"
#include "ipmi.hpp"
#include "model.hpp"
#include "nvml_api.hpp"
#include "papi_api.hpp"
#include "redfish.hpp"

namespace hearth {

// What the energy sources are probed and built with. papi: null when
// Hearth runs without PAPI; the papi source takes it over when chosen.
struct EnergyContext {
    std::shared_ptr<const FsRoot> fs;
    std::shared_ptr<const Clock> clock;
    std::unique_ptr<PapiApi>& papi;
    ModelParams model;
    std::unique_ptr<NvmlApi>& nvml;  // null: not probed (tests)
    RedfishOptions redfish;          // url "": no BMC configured
    IpmiOptions ipmi;                // host "": in-band, where /dev/ipmi0 exists
};
using EnergyRegistry = PluginRegistry<EnergySource, EnergyContext>;
const EnergyRegistry& energy_sources();

// "auto" and the sources' names, for --help and errors.
std::vector<std::string> energy_source_names();

struct SourceChoice {
    std::unique_ptr<EnergySource> source;
    std::vector<ProbeResult> table;  // every source probed, in priority order
    std::string summary;             // "energy source: powercap (2 zones); papi: ...; model: ..."
};

// redfish: the BMC to read (--redfish-*), url "" when none; ipmi: the BMC
// to read with DCMI (--ipmi-*).
// wanted: "auto" or a source's name; `auto` takes only sources that measure
// the node (priority > 0), never nvml's GPUs alone. A named source that is not available
// is an Error naming why, not a silent fallback.
SourceChoice choose_energy_source(const std::string& wanted, std::shared_ptr<const FsRoot> fs,
                                  std::shared_ptr<const Clock> clock, std::unique_ptr<PapiApi> papi,
                                  ModelParams model, std::unique_ptr<NvmlApi> nvml = nullptr,
                                  RedfishOptions redfish = {}, IpmiOptions ipmi = {});

}  // namespace hearth
