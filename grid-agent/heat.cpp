#include "heat.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/error.hpp"
#include "core/slot_fraction.hpp"
#include "core/utc_time.hpp"

namespace hearth {

HeatControl::HeatControl(Site site, GridNode node, std::unique_ptr<HeatSource> source,
                         std::vector<std::unique_ptr<Actuator>> actuators,
                         std::vector<std::string> notes, std::shared_ptr<const Clock> clock)
    : m_site(std::move(site)),
      m_node(std::move(node)),
      m_source(std::move(source)),
      m_actuators(std::move(actuators)),
      m_notes(std::move(notes)),
      m_clock(std::move(clock)) {
    if (!m_site.schedule.empty()) {
        m_schedule = parse_schedule(m_site.schedule);
        m_schedule_text = format_schedule(*m_schedule);
    }
    m_target = m_site.target.value;
    roll_periods(m_clock->unix_ms() / 1000);
}

HeatControl::~HeatControl() {
    for (auto& a : m_actuators) {
        try {
            a->release();
        } catch (const std::exception&) {
            // best effort on the way out: the tasks are ending anyway
        }
    }
}

void HeatControl::roll_periods(std::int64_t unix_s) {
    const std::string day = format_utc_date(unix_s);
    const std::string month = day.substr(0, 7);
    if (day != m_day) {
        m_day = day;
        m_day_j = m_day_useful_j = 0;
    }
    if (month != m_month) {
        m_month = month;
        m_month_j = m_month_useful_j = 0;
    }
}

double HeatControl::target_now(std::int64_t unix_s) const {
    if (m_override && (!m_override_until || *m_override_until > unix_s)) return *m_override;
    if (m_schedule) {
        // Schedules are written in the site's local time (the machine's zone).
        std::time_t t = static_cast<std::time_t>(unix_s);
        std::tm tm{};
        localtime_r(&t, &tm);
        return m_schedule->target_at(minute_of_week(unix_s, tm.tm_gmtoff)).value;
    }
    if (m_reading.target) return m_reading.target->value;  // a feed that sets targets
    return m_site.target.value;
}

void HeatControl::on_interval(std::uint64_t energy_uj, double seconds) {
    const double j = heat_delivered(m_site, static_cast<double>(energy_uj) / 1e6);
    // Simulated sites are heated by the heat this node's measured energy gives them.
    if (seconds > 0) m_source->deliver(Watts{j / seconds}, seconds);
    std::lock_guard<std::mutex> lock(m_mu);
    roll_periods(m_clock->unix_ms() / 1000);
    // Useful when the site was below target + band; unknown counts as not.
    const bool wanted = m_reading.measured && m_reading.measured->value < m_target + m_site.band;
    m_day_j += j;
    m_month_j += j;
    if (wanted) {
        m_day_useful_j += j;
        m_month_useful_j += j;
    }
}

void HeatControl::control(double dt_s, const std::vector<ThrottleTask>& tasks) {
    // A feed may take its timeout to answer: poll without holding the lock
    // the API and the worker's budget requests need.
    HeatReading reading = m_source->poll();
    std::lock_guard<std::mutex> lock(m_mu);
    m_reading = reading;
    if (m_reading.target && (m_reading.target->value < m_site.min.value ||
                             m_reading.target->value > m_site.max.value)) {
        m_reading.alarm += (m_reading.alarm.empty() ? "" : "; ") +
                           std::string("the feed's target is outside the site's bounds; ignored");
        m_reading.target.reset();
    }
    const std::int64_t now_s = m_clock->unix_ms() / 1000;
    if (m_override_until && *m_override_until <= now_s) {
        m_override.reset();
        m_override_until.reset();
    }
    m_target = target_now(now_s);
    ControlInput in;
    in.target = Celsius{m_target};
    in.band = m_site.band;
    in.max = m_site.max;
    in.measured = m_reading.measured;
    in.safe = m_site.source.safe_mode;
    in.dt_s = dt_s;
    m_decision = heat_control(m_state, in);
    const double f = m_decision.mode == HeatMode::stop ? 0.0 : m_decision.fraction;
    for (auto& a : m_actuators) {
        try {
            a->apply(f, tasks);
        } catch (const std::exception& e) {
            m_reading.alarm += (m_reading.alarm.empty() ? "" : "; ") + a->name() + ": " + e.what();
        }
    }
}

void HeatControl::tick() {
    std::lock_guard<std::mutex> lock(m_mu);
    auto now = m_clock->now();
    for (auto& a : m_actuators) a->tick(now);
}

HeatBudget HeatControl::budget() const {
    std::lock_guard<std::mutex> lock(m_mu);
    HeatBudget b;
    b.slots_total = m_node.slots;
    b.mode = m_decision.mode;
    b.fraction = m_decision.mode == HeatMode::stop ? 0.0 : m_decision.fraction;
    b.slots = m_decision.mode == HeatMode::stop ? 0 : slots_for_fraction(b.fraction, m_node.slots);
    const double bottom = m_target - m_site.band;
    b.waste = m_reading.measured ? m_reading.measured->value - bottom : m_site.band * 2;
    return b;
}

nlohmann::json HeatControl::to_json(double power_w) const {
    HeatBudget b = budget();
    std::lock_guard<std::mutex> lock(m_mu);
    nlohmann::json j;
    j["heat"] = true;
    j["target"] = m_target;
    j["base_target"] = m_site.target.value;
    if (m_override) j["override"] = *m_override;
    j["target_until_unix"] = m_override_until ? nlohmann::json(*m_override_until) : nlohmann::json();
    j["schedule"] = m_schedule_text;
    j["band"] = m_site.band;
    j["min"] = m_site.min.value;
    j["max"] = m_site.max.value;
    j["measured"] = m_reading.measured ? nlohmann::json(m_reading.measured->value) : nlohmann::json();
    j["mode"] = to_string(m_decision.mode);
    j["fraction"] = b.fraction;
    j["slots"] = b.slots_total;
    j["slots_allowed"] = b.slots;
    j["power_w"] = power_w;
    j["heat_w"] = heat_delivered(m_site, Watts{power_w}).value;
    j["recovery"] = m_site.recovery;
    j["source"] = m_source->type();
    j["alarm"] = m_reading.alarm;
    j["today_kwh"] = m_day_j / 3.6e6;
    j["today_useful_kwh"] = m_day_useful_j / 3.6e6;
    j["month_kwh"] = m_month_j / 3.6e6;
    j["month_useful_kwh"] = m_month_useful_j / 3.6e6;
    auto& th = j["throttle"] = nlohmann::json::array();
    for (const auto& a : m_actuators) th.push_back({{"name", a->name()}, {"state", a->state()}});
    j["throttle_notes"] = m_notes;
    return j;
}

void HeatControl::set_target(double c, std::optional<std::int64_t> until_unix) {
    check_target(m_site, c);
    const std::int64_t now_s = m_clock->unix_ms() / 1000;
    if (until_unix && *until_unix <= now_s)
        throw usage_error("--until is in the past; give a later time or none");
    std::lock_guard<std::mutex> lock(m_mu);
    m_override = c;
    m_override_until = until_unix;
    m_target = target_now(now_s);
}

void HeatControl::set_schedule(const std::string& spec) {
    std::optional<Schedule> s;
    if (!spec.empty() && spec != "none") {
        s = parse_schedule(spec);
        for (Celsius t : s->all_targets()) check_target(m_site, t.value);
    }
    std::lock_guard<std::mutex> lock(m_mu);
    m_schedule = s;
    m_schedule_text = s ? format_schedule(*s) : "";
    // A new schedule replaces a one-off target set by hand.
    m_override.reset();
    m_override_until.reset();
    m_target = target_now(m_clock->unix_ms() / 1000);
}

std::optional<double> HeatControl::measured() const {
    std::lock_guard<std::mutex> lock(m_mu);
    if (!m_reading.measured) return std::nullopt;
    return m_reading.measured->value;
}

double HeatControl::target() const {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_target;
}

HeatPlan HeatControl::plan() const {
    std::lock_guard<std::mutex> lock(m_mu);
    HeatPlan p;
    p.base_target = m_site.target.value;
    p.schedule = m_schedule;
    p.override_c = m_override;
    p.override_until = m_override_until;
    return p;
}

void HeatControl::set_measured(double c) {
    if (!std::isfinite(c)) throw usage_error("measured temperature is not a number");
    m_source->set_measured(Celsius{c});
}

std::string HeatControl::checkpoint() const {
    std::lock_guard<std::mutex> lock(m_mu);
    nlohmann::json j{{"day", m_day},          {"day_j", m_day_j},   {"day_useful_j", m_day_useful_j},
                     {"month", m_month},      {"month_j", m_month_j},
                     {"month_useful_j", m_month_useful_j},
                     {"schedule", m_schedule_text}, {"hold", m_state.hold}};
    if (m_override) j["override"] = *m_override;
    if (m_override_until) j["override_until"] = *m_override_until;
    j["schedule_set"] = m_schedule_text != (m_site.schedule.empty() ? "" : format_schedule(parse_schedule(m_site.schedule)));
    return j.dump();
}

void HeatControl::restore(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const std::exception&) {
        return;  // an older or damaged checkpoint: start the counts afresh
    }
    std::lock_guard<std::mutex> lock(m_mu);
    if (j.value("day", "") == m_day) {
        m_day_j = j.value("day_j", 0.0);
        m_day_useful_j = j.value("day_useful_j", 0.0);
    }
    if (j.value("month", "") == m_month) {
        m_month_j = j.value("month_j", 0.0);
        m_month_useful_j = j.value("month_useful_j", 0.0);
    }
    m_state.hold = std::clamp(j.value("hold", 0.5), 0.0, 1.0);
    if (j.contains("override") && j["override"].is_number()) {
        const double o = j["override"].get<double>();
        if (std::isfinite(o) && o >= m_site.min.value && o <= m_site.max.value) {
            m_override = o;
            if (j.contains("override_until")) m_override_until = j["override_until"].get<std::int64_t>();
        }
    }
    if (j.value("schedule_set", false)) {
        const std::string s = j.value("schedule", "");
        try {
            if (s.empty()) {
                m_schedule.reset();
                m_schedule_text.clear();
            } else {
                m_schedule = parse_schedule(s);
                m_schedule_text = format_schedule(*m_schedule);
            }
        } catch (const Error&) {
            // keep the grid file's schedule
        }
    }
    m_target = target_now(m_clock->unix_ms() / 1000);
}

}  // namespace hearth
