#pragma once
// `auto` energy source selection: probe every source, take the best available
// (powercap, then papi, then model), and say in one line which and why not
// the others.
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/fsroot.hpp"
#include "model.hpp"
#include "papi_api.hpp"
#include "source.hpp"

namespace hearth {

struct SourceChoice {
    std::unique_ptr<EnergySource> source;
    std::vector<ProbeResult> table;  // every source probed, in priority order
    std::string summary;             // "energy source: powercap (2 zones); papi: ...; model: ..."
};

// wanted: "auto", "powercap", "papi" or "model". A named source that is not
// available is an Error naming why, not a silent fallback.
SourceChoice choose_energy_source(const std::string& wanted, std::shared_ptr<const FsRoot> fs,
                                  std::shared_ptr<const Clock> clock,
                                  std::unique_ptr<PapiApi> papi, ModelParams model);

}  // namespace hearth
