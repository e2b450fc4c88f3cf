#pragma once
// A schedule as a facility manager types it for one site, checked the one
// way `hearth heat schedule`, POST /v1/heat/schedule and POST /v1/heat/try
// all check it: so each refuses a bad schedule with the same message.
#include <string>

#include "core/grid.hpp"

namespace hearth {

// Its canonical text ("" for "" or "none"). usage_error, prefixed with the
// site's name, when it does not parse or can give a target outside the
// site's bounds.
std::string checked_schedule(const Site& site, const std::string& text);

}  // namespace hearth
