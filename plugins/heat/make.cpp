#include "core/error.hpp"
#include "plugins/heat/builtin.hpp"

namespace hearth {

std::unique_ptr<HeatSource> make_heat_source(const Site& site, std::shared_ptr<const Clock> clock,
                                             std::shared_ptr<HttpGetter> http) {
    const HeatSourceSpec& spec = site.source;
    if (spec.type == "static") return make_static_source(spec);
    if (spec.type == "http") {
        if (spec.url.rfind("http://", 0) != 0 && spec.url.rfind("https://", 0) != 0)
            throw usage_error("site '" + site.name + "': heat source url '" + spec.url +
                              "' is not an http:// or https:// URL; give the feed's URL");
        return make_http_source(spec, std::move(clock),
                                http ? std::move(http) : make_curl_getter());
    }
    if (spec.type == "sim-tank")
        return make_sim_source(SiteKind::tank, site.thermal, std::move(clock), spec.type);
    if (spec.type == "sim-room")
        return make_sim_source(SiteKind::room, site.thermal, std::move(clock), spec.type);
    throw usage_error("site '" + site.name + "': unknown heat source type '" + spec.type +
                      "'; use static, http, sim-tank or sim-room");
}

}  // namespace hearth
