#pragma once
// The built-in heat sources, constructed by make_heat_source (make.cpp) and
// by tests that want one kind without a whole Site.
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/grid.hpp"
#include "plugins/heat/source.hpp"

namespace hearth {

// Readings that are not physical for any site: a feed saying 400 C is broken.
inline constexpr double k_feed_measured_min = -50.0;
inline constexpr double k_feed_measured_max = 150.0;

std::unique_ptr<HeatSource> make_static_source(const HeatSourceSpec& spec);
std::unique_ptr<HeatSource> make_http_source(const HeatSourceSpec& spec,
                                             std::shared_ptr<const Clock> clock,
                                             std::shared_ptr<HttpGetter> http);
// kind picks the model (tank or room); type is what type() reports.
std::unique_ptr<HeatSource> make_sim_source(SiteKind kind, const ThermalParams& thermal,
                                            std::shared_ptr<const Clock> clock, std::string type);

}  // namespace hearth
