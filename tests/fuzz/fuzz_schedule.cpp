// Heat schedules through parse_schedule, as `hearth heat schedule`, the grid
// file and the agent's POST /v1/heat/schedule read them. A schedule that
// parses must format to canonical text that parses back to the same schedule
// (format_schedule's promise), and every target it gives must be one of
// all_targets().
#include <algorithm>

#include "core/schedule.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string in = fuzz::text(data, size);
    if (auto t = parse_clock_time(in)) FUZZ_CHECK(*t >= 0 && *t <= 1440);

    auto s = fuzz::parsed([&] { return parse_schedule(in); });
    if (!s) return 0;
    for (const ScheduleWindow& w : s->windows) {
        FUZZ_CHECK(w.days != 0 && (w.days & ~0x7f) == 0);
        FUZZ_CHECK(0 <= w.start_min && w.start_min < w.end_min && w.end_min <= 1440);
    }
    const std::string text = format_schedule(*s);
    const Schedule again = parse_schedule(text);
    FUZZ_CHECK(again == *s);
    FUZZ_CHECK(format_schedule(again) == text);

    const std::vector<Celsius> all = s->all_targets();
    for (int minute = -1440; minute < 7 * 1440 + 1440; minute += 97) {
        const Celsius t = s->target_at(minute);
        FUZZ_CHECK(std::find(all.begin(), all.end(), t) != all.end());
    }
    return 0;
}
