// The grid-agent's request bodies through parse_heat_change (POST
// /v1/heat/target, /schedule, /measured), parse_try_request (POST
// /v1/heat/try) and parse_socket_op (the worker's socket), the functions the
// agent runs before acting on a request. Input: the first byte picks target,
// schedule, measured, a socket line or a try; the rest is the body. What parses must be what the
// agent may act on: targets and schedules within the site's bounds, plausible readings, safe names,
// a pid that names one process.
#include <cmath>
#include <variant>

#include "core/agent_socket.hpp"
#include "core/api_request.hpp"
#include "core/schedule.hpp"
#include "core/sim_try.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

namespace {

constexpr std::int64_t k_now = 1799020800;  // 2027-01-04, a Monday

const Site& site() {
    static const Grid grid = parse_grid(R"(
[[site]]
name = "pool"
kind = "room"
target = 28
min = 24
max = 32
[[node]]
name = "pool-1"
site = "pool"
)",
                                        "fuzz-grid.toml");
    return grid.sites.at(0);
}

void check_site(const std::optional<std::string>& s) {
    if (s) FUZZ_CHECK(*s == site().name);
}

void check(const HeatChange& change) {
    const Site& s = site();
    if (const auto* t = std::get_if<TargetChange>(&change)) {
        check_site(t->site);
        FUZZ_CHECK(std::isfinite(t->target) && s.min.value <= t->target && t->target <= s.max.value);
        if (t->until_unix) FUZZ_CHECK(*t->until_unix > k_now);
    } else if (const auto* c = std::get_if<ScheduleChange>(&change)) {
        check_site(c->site);
        if (c->schedule.empty()) return;
        const Schedule sched = parse_schedule(c->schedule);
        FUZZ_CHECK(format_schedule(sched) == c->schedule);
        for (Celsius t : sched.all_targets()) FUZZ_CHECK(s.min <= t && t <= s.max);
    } else if (const auto* m = std::get_if<MeasuredChange>(&change)) {
        check_site(m->site);
        FUZZ_CHECK(std::isfinite(m->measured) && m->measured >= -50 && m->measured <= 150);
    }
}

// What a try may simulate: one of a schedule or a target, within the
// site's bounds; a day or a week; a share of the slots.
void check(const TryRequest& r) {
    const Site& s = site();
    FUZZ_CHECK(r.schedule.has_value() != r.target.has_value());
    if (r.target)
        FUZZ_CHECK(std::isfinite(*r.target) && s.min.value <= *r.target &&
                   *r.target <= s.max.value);
    if (r.schedule && !r.schedule->empty()) {
        const Schedule sched = parse_schedule(*r.schedule);
        FUZZ_CHECK(format_schedule(sched) == *r.schedule);
        for (Celsius t : sched.all_targets()) FUZZ_CHECK(s.min <= t && t <= s.max);
    }
    FUZZ_CHECK(r.horizon_h == 24 || r.horizon_h == 168);
    if (r.work) FUZZ_CHECK(*r.work >= 0 && *r.work <= 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string body = fuzz::text(data + 1, size - 1);
    static const char* const k_what[] = {"target", "schedule", "measured"};
    const unsigned pick = data[0] % 5;
    if (pick < 3) {
        if (auto c = fuzz::parsed([&] { return parse_heat_change(k_what[pick], body, site(), k_now); }))
            check(*c);
    } else if (pick == 4) {
        if (auto r = fuzz::parsed([&] { return parse_try_request(body, site()); })) check(*r);
    } else {
        // Its invariants and round trip: tests/fuzz/fuzz_agent_socket.
        (void)fuzz::parsed([&] { return parse_socket_op(body); });
    }
    return 0;
}
