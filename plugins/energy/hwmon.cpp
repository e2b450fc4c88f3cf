#include "hwmon.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "core/energy_counter.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "counter_checkpoint.hpp"

namespace hearth {
namespace {

const std::string k_base = "/sys/class/hwmon";

// The ACPI 4.0 power meter (drivers/hwmon/acpi_power_meter.c) is the
// platform's own meter of the whole node. Other hwmon drivers with power or
// energy attributes measure a part (a GPU, a CPU's cores, one rail): adding
// them would count a part as the node.
const std::string k_node_meter = "power_meter";

// Used when neither the grid file nor the meter gives a maximum: above any
// one- or two-socket node, so only nonsense is rejected.
constexpr double k_default_max_w = 2000.0;

// A meter averaging over a long window still changes slowly: reads further
// apart than this make the intervals too coarse to attribute fairly.
constexpr double k_interval_cap_s = 10.0;

constexpr std::uint64_t k_wrap32 = std::uint64_t{1} << 32;
constexpr std::uint64_t k_wrap63 = std::uint64_t{1} << 63;

std::optional<std::uint64_t> read_u64(const FsRoot& fs, const std::string& abs) {
    ReadResult r = fs.read(abs);
    if (!r.text) return std::nullopt;
    return parse_u64(trimmed(*r.text));
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string basename_of(const std::string& dir) {
    auto hw = dir.find("/hwmon/");
    std::string rest = hw == std::string::npos ? dir : dir.substr(hw + 7);
    return rest;
}

// hwmonN, in numeric order (hwmon10 after hwmon9).
bool is_hwmon_entry(const std::string& e) {
    if (e.rfind("hwmon", 0) != 0 || e.size() == 5) return false;
    return std::all_of(e.begin() + 5, e.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The directory holding the attributes: hwmonN itself, or hwmonN/device
// where older kernels (and the ACPI power meter before 3.x) put them.
std::optional<std::string> attr_dir(const FsRoot& fs, const std::string& hw) {
    for (const std::string& d : {hw, hw + "/device"})
        if (fs.exists(d + "/name")) return d;
    return std::nullopt;
}

bool has_any(const FsRoot& fs, const std::string& d) {
    for (const char* f : {"energy1_input", "power1_average", "power1_input"})
        if (fs.exists(d + "/" + f)) return true;
    return false;
}

Watts meter_max(const FsRoot& fs, const std::string& d, Watts node_max) {
    if (node_max.value > 0) return node_max;
    for (const char* f : {"power1_cap_max", "power1_cap"})
        if (auto v = read_u64(fs, d + "/" + f); v && *v > 0)
            return Watts{static_cast<double>(*v) / 1e6};
    return Watts{k_default_max_w};
}

std::string meter_label(const HwmonMeter& m) {
    return m.name + " (" + basename_of(m.dir) + ")";
}

}  // namespace

std::vector<HwmonMeter> find_hwmon_meters(const FsRoot& fs, std::string& why_not, Watts node_max) {
    why_not.clear();
    std::vector<std::string> entries;
    if (fs.exists(k_base))
        for (auto& e : fs.list(k_base))
            if (is_hwmon_entry(e)) entries.push_back(e);
    std::sort(entries.begin(), entries.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    });

    std::vector<HwmonMeter> meters;
    std::vector<std::string> parts;   // power/energy devices that measure a part
    std::vector<std::string> broken;  // node meters whose reading failed
    for (const auto& e : entries) {
        auto d = attr_dir(fs, k_base + "/" + e);
        if (!d) continue;
        ReadResult nm = fs.read(*d + "/name");
        if (!nm.text) continue;
        const std::string name = trimmed(*nm.text);
        if (!has_any(fs, *d)) continue;
        if (name != k_node_meter) {
            parts.push_back(name);
            continue;
        }
        HwmonMeter m;
        m.dir = *d;
        m.name = name;
        m.max_power = meter_max(fs, *d, node_max);
        // The counter where the driver has one; else the average, which
        // covers the whole averaging window, before the instantaneous input.
        std::string fail;
        for (const char* f : {"energy1_input", "power1_average", "power1_input"}) {
            if (!fs.exists(*d + "/" + f)) continue;
            ReadResult r = fs.read(*d + "/" + f);
            if (!r.text) {
                fail = std::string(f) + ": " + errno_text(r.error);
                continue;
            }
            if (!parse_u64(trimmed(*r.text))) {
                fail = std::string(f) + ": unparsable value '" + trimmed(*r.text) + "'";
                continue;
            }
            m.file = f;
            break;
        }
        if (m.file.empty()) {
            broken.push_back(meter_label(m) + " " + fail);
            continue;
        }
        m.counter = m.file == "energy1_input";
        if (auto iv = read_u64(fs, *d + "/power1_average_interval")) m.average_interval_ms = *iv;
        meters.push_back(std::move(m));
    }
    if (!meters.empty()) return meters;

    if (!broken.empty()) {
        why_not = "node power meter found but unreadable: " + broken.front() +
                  "; check the acpi_power_meter driver (dmesg) or use another energy source";
    } else if (!parts.empty()) {
        std::string list;
        for (const auto& p : parts) list += (list.empty() ? "" : ", ") + p;
        why_not = "hwmon has power readings of parts only (" + list +
                  "), no node meter; load acpi_power_meter if the platform has one, or use "
                  "ipmi/redfish";
    } else {
        why_not = "no node power meter under " + k_base +
                  " (no ACPI power_meter device); load acpi_power_meter if the platform has "
                  "one, or use another energy source";
    }
    return {};
}

ProbeResult probe_hwmon(const FsRoot& fs, Watts node_max) {
    ProbeResult r;
    r.source = "hwmon";
    std::string why_not;
    auto meters = find_hwmon_meters(fs, why_not, node_max);
    if (meters.empty()) {
        r.detail = why_not;
        return r;
    }
    r.available = true;
    for (std::size_t i = 0; i < meters.size(); ++i) {
        const auto& m = meters[i];
        std::string what;
        const double raw = static_cast<double>(read_u64(fs, m.dir + "/" + m.file).value_or(0));
        if (m.counter) {
            what = "energy counter, now " + number(raw / 1e6) + " J";
        } else {
            what = number(raw / 1e6) + " W from " + m.file;
            if (m.file == "power1_average" && m.average_interval_ms > 0)
                what += " (averaged over " +
                        number(static_cast<double>(m.average_interval_ms) / 1e3) + " s)";
            what += ", integrated between reads";
        }
        r.detail += (i ? ", " : "") + meter_label(m) + ": " + what;
    }
    return r;
}

HwmonSource::HwmonSource(std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock,
                         Watts node_max)
    : m_fs(std::move(fs)), m_clock(std::move(clock)) {
    std::string why_not;
    m_meters = find_hwmon_meters(*m_fs, why_not, node_max);
    if (m_meters.empty()) throw Error("energy source hwmon is unavailable: " + why_not);
    m_state.resize(m_meters.size());
    for (std::size_t i = 0; i < m_meters.size(); ++i)
        m_state[i].file = KeptFile(m_meters[i].dir + "/" + m_meters[i].file);
}

std::string HwmonSource::meter() const {
    std::string out;
    for (const auto& m : m_meters)
        out += (out.empty() ? "" : ", ") + meter_label(m) + " " + m.file +
               (m.counter ? "" : " (integrated)");
    return out;
}

std::string HwmonSource::checkpoint() const {
    std::vector<std::pair<std::string, std::uint64_t>> raw;
    for (std::size_t i = 0; i < m_meters.size(); ++i)
        if (m_meters[i].counter && m_state[i].have_prev)
            raw.emplace_back(m_meters[i].dir, m_state[i].prev_raw);
    return format_counter_checkpoint(raw);
}

void HwmonSource::resume(const std::string& checkpoint, double elapsed_s) {
    if (!(elapsed_s >= 0)) return;
    const auto then = m_clock->now() - std::chrono::duration_cast<Clock::Duration>(
                                           std::chrono::duration<double>(elapsed_s));
    const auto saved = parse_counter_checkpoint(checkpoint);
    for (std::size_t i = 0; i < m_meters.size(); ++i) {
        auto it = saved.find(m_meters[i].dir);
        if (!m_meters[i].counter || it == saved.end()) continue;
        m_state[i].have_prev = true;
        m_state[i].prev_raw = it->second;
        m_state[i].prev_time = then;
    }
}

EnergyReading HwmonSource::read() {
    EnergyReading out;
    const auto now = m_clock->now();
    for (std::size_t i = 0; i < m_meters.size(); ++i) {
        const HwmonMeter& m = m_meters[i];
        MeterState& st = m_state[i];
        // The text is built only when a warning is given: this runs every interval.
        auto warn = [&](auto&& text) {
            if (st.warned) return;
            st.warned = true;
            out.warnings.push_back("hwmon " + meter_label(m) + ": " + text());
        };
        const int err = st.file.read(*m_fs, m_text);
        std::optional<std::uint64_t> cur = err == 0 ? parse_u64(m_text) : std::nullopt;
        if (!cur) {
            // State untouched: the next good read spans this interval too.
            warn([&] {
                return m.file + " read failed: " +
                       (err == 0 ? "unparsable value '" + trimmed(m_text) + "'" : errno_text(err)) +
                       "; skipped this interval, the next reading covers it";
            });
            continue;
        }
        const double dt =
            st.have_prev ? std::chrono::duration<double>(now - st.prev_time).count() : 0;
        if (m.counter) {
            if (st.have_prev) {
                const std::uint64_t range =
                    st.prev_raw < k_wrap32 && *cur < k_wrap32 ? k_wrap32 : k_wrap63;
                CounterDelta d = counter_delta(st.prev_raw, *cur, range, dt, m.max_power);
                if (d.glitch) {
                    warn([&] {
                        return m.file + " went from " + std::to_string(st.prev_raw) + " to " +
                               std::to_string(*cur) + " uJ in " + number(dt) +
                               " s, more than twice the node's maximum power (" +
                               number(m.max_power.value) +
                               " W) or backwards; interval rejected as a counter reset, counting "
                               "goes on from the new value";
                    });
                } else {
                    m_total += d.energy;
                    st.warned = false;
                }
            }
            st.have_prev = true;
            st.prev_raw = *cur;
            st.prev_time = now;
            continue;
        }
        const double watts = static_cast<double>(*cur) / 1e6;
        if (watts > 2 * m.max_power.value) {
            // Not a new base either: the next sane reading covers this span.
            warn([&] {
                return m.file + " reads " + number(watts) +
                       " W, more than twice the node's maximum (" + number(m.max_power.value) +
                       " W); reading ignored (set the node's max power in the grid file if it is "
                       "right)";
            });
            continue;
        }
        if (st.have_prev && dt > 0) {
            // Each reading stands for the interval that ends with it: an
            // average covers the window just past.
            const double uj = watts * dt * 1e6 + st.carry_uj;
            const double whole = std::floor(uj);
            m_total += Microjoules{static_cast<std::uint64_t>(whole)};
            st.carry_uj = uj - whole;
        }
        st.warned = false;
        st.have_prev = true;
        st.prev_time = now;
    }
    out.total = m_total;
    return out;
}

std::chrono::milliseconds HwmonSource::max_interval() const {
    double s = k_interval_cap_s;
    for (const auto& m : m_meters) {
        if (m.counter)
            s = std::min(s,
                         max_sample_interval_s(m.max_power.value > 0 ? k_wrap32 : 0, m.max_power));
        else if (m.average_interval_ms > 0)
            // Reading less often than the meter averages would miss changes.
            s = std::min(s, std::max(1.0, static_cast<double>(m.average_interval_ms) / 1e3));
    }
    auto ms = static_cast<std::int64_t>(s * 1000.0);
    return std::chrono::milliseconds(std::max<std::int64_t>(ms, 1));
}

Watts HwmonSource::max_power() const {
    double w = 0;
    for (const auto& m : m_meters) w += m.max_power.value;
    return Watts{w};
}

}  // namespace hearth
