#include "core/heat_source.hpp"

#include "core/error.hpp"

namespace hearth {

void HeatSource::set_measured(Celsius /*t*/) {
    throw usage_error("this site's heat source is '" + type() +
                      "': its temperature comes from that source, not from set-measured; fix the "
                      "feed, or give the site a static source in the grid file");
}

}  // namespace hearth
