#pragma once
// Heat target schedules, as a facility manager writes them:
//   "weekdays 06:00-22:00 at 60; otherwise 55"
//   "mon-fri 06:00-09:00 at 62, 17:00-22:00 at 60; sat,sun 08:00-22:00 at 60; otherwise 55"
// Rules are separated by ';'. A rule is an optional day set (daily, weekdays,
// weekends, mon..sun, ranges "mon-fri" and lists "sat,sun"; default daily)
// followed by one or more "HH:MM-HH:MM at T" windows separated by ','.
// "otherwise T" gives the target outside every window and is required.
// "24:00" ends a window at midnight; a window may not wrap past midnight
// (write two). The first rule whose window contains the time wins.
// Parsing and evaluation are pure: the caller gives the local time.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"

namespace hearth {

struct ScheduleWindow {
    std::uint8_t days = 0x7f;  // bit 0 = Monday ... bit 6 = Sunday
    int start_min = 0;         // minutes since midnight, [0, 1440)
    int end_min = 0;           // (start_min, 1440]
    Celsius target;
    bool operator==(const ScheduleWindow&) const = default;
};

struct Schedule {
    std::vector<ScheduleWindow> windows;
    Celsius otherwise;
    // minute_of_week: 0 = Monday 00:00 ... 10079 = Sunday 23:59
    Celsius target_at(int minute_of_week) const;
    // Every target the schedule can give (for bounds checks).
    std::vector<Celsius> all_targets() const;
    bool operator==(const Schedule&) const = default;
};

// usage_error naming the offending word and the expected form.
Schedule parse_schedule(const std::string& spec);
// Canonical text that parse_schedule reads back to the same Schedule.
std::string format_schedule(const Schedule& s);
// Minute of the week of a Unix time shifted by utc_offset_s (local time).
int minute_of_week(std::int64_t unix_s, std::int64_t utc_offset_s = 0);
// "HH:MM" (or "H:MM") as minutes since midnight, 0 to 1440 ("24:00");
// nullopt for anything else. Shared with the grid file's draw periods.
std::optional<int> parse_clock_time(std::string_view text);

}  // namespace hearth
