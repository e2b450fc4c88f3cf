#pragma once
// The heat sources a site's spec names (the contract is core/heat_source.hpp)
// and the HTTP seam the feed source reads through.
#include <memory>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/grid.hpp"
#include "core/heat_source.hpp"
#include "core/plugin_registry.hpp"

namespace hearth {

// The HTTP seam: one GET with a timeout. The real one is libcurl.
struct HttpResult {
    long status = 0;           // 0 when no response came
    std::string content_type;  // as sent
    std::string body;
    std::string error;         // transport error text, "" when a response came
};
class HttpGetter {
public:
    virtual ~HttpGetter() = default;
    virtual HttpResult get(const std::string& url, double timeout_s) = 0;
};
std::unique_ptr<HttpGetter> make_curl_getter();

// What heat sources are built with: the site (its spec, its thermal model),
// the clock simulated sources run on, the HTTP seam (null: libcurl).
struct HeatContext {
    const Site& site;
    std::shared_ptr<const Clock> clock;
    std::shared_ptr<HttpGetter> http;
};
using HeatRegistry = PluginRegistry<HeatSource, HeatContext>;
const HeatRegistry& heat_sources();

// Builds the source a site's spec names. http sources use `http` (null: the
// libcurl getter); simulated ones run their model on `clock`'s time.
std::unique_ptr<HeatSource> make_heat_source(const Site& site, std::shared_ptr<const Clock> clock,
                                             std::shared_ptr<HttpGetter> http = nullptr);

}  // namespace hearth
