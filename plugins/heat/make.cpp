#include "core/error.hpp"
#include "plugins/heat/builtin.hpp"

namespace hearth {

const HeatRegistry& heat_sources() {
    // Priority 0 throughout: a site's spec names its source; none is guessed.
    static const HeatRegistry registry(
        "heat source type",
        {{"static", 0, nullptr,
          [](const HeatContext& c) { return make_static_source(c.site.source); }},
         {"http", 0, nullptr,
          [](const HeatContext& c) {
              const HeatSourceSpec& spec = c.site.source;
              if (spec.url.rfind("http://", 0) != 0 && spec.url.rfind("https://", 0) != 0)
                  throw usage_error("site '" + c.site.name + "': heat source url '" + spec.url +
                                    "' is not an http:// or https:// URL; give the feed's URL");
              return make_http_source(spec, c.clock, c.http ? c.http : make_curl_getter());
          }},
         {"sim-tank", 0, nullptr,
          [](const HeatContext& c) {
              return make_sim_source(SiteKind::tank, c.site.thermal, c.clock, "sim-tank");
          }},
         {"sim-room", 0, nullptr, [](const HeatContext& c) {
              return make_sim_source(SiteKind::room, c.site.thermal, c.clock, "sim-room");
          }}});
    return registry;
}

std::unique_ptr<HeatSource> make_heat_source(const Site& site, std::shared_ptr<const Clock> clock,
                                             std::shared_ptr<HttpGetter> http) {
    const auto* p = heat_sources().find(site.source.type);
    if (!p)
        throw usage_error("site '" + site.name + "': unknown heat source type '" +
                          site.source.type + "'; use " + joined_names(heat_sources().names()));
    return p->make(HeatContext{site, std::move(clock), std::move(http)});
}

}  // namespace hearth
