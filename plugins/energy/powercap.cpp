#include "powercap.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>

#include "core/energy_counter.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "counter_checkpoint.hpp"

namespace hearth {
namespace {

const std::string k_base = "/sys/class/powercap";

// Longer than this between reads and the agent's intervals get too coarse to
// attribute fairly, whatever the counters would tolerate.
constexpr double k_interval_cap_s = 10.0;

enum class Domain { package, dram, psys, other };

Domain domain_of(const std::string& name) {
    if (name.rfind("package-", 0) == 0) return Domain::package;
    if (name == "dram") return Domain::dram;
    if (name == "psys") return Domain::psys;
    return Domain::other;
}

// Used when the zone reports no maximum (AMD exposes no constraints at all).
Watts default_max_power(Domain d) {
    switch (d) {
        case Domain::dram:
            return Watts{50};
        case Domain::psys:
            return Watts{500};
        default:
            return Watts{250};
    }
}

// The power the counter checks assume. constraint_*_max_power_uw is often the
// TDP, and desktop parts run at twice their TDP for long stretches (PL2): with
// that figure alone, real full-load intervals would be rejected as glitches.
Watts check_power(const PowercapZone& z) {
    return Watts{std::max(z.max_power.value, default_max_power(domain_of(z.name)).value)};
}

std::optional<std::uint64_t> read_u64(const FsRoot& fs, const std::string& abs) {
    ReadResult r = fs.read(abs);
    if (!r.text) return std::nullopt;
    return parse_u64(*r.text);
}

// "intel-rapl:0" -> 1 index, "intel-rapl:0:2" -> 2; 0 when not a zone of that
// control type (e.g. the "intel-rapl" control-type directory itself).
int zone_depth(const std::string& entry, const std::string& type) {
    if (entry.rfind(type + ":", 0) != 0) return 0;
    std::string rest = entry.substr(type.size() + 1);
    int depth = 1;
    bool digit_seen = false;
    for (char c : rest) {
        if (c == ':') {
            if (!digit_seen) return 0;
            ++depth;
            digit_seen = false;
        } else if (c >= '0' && c <= '9') {
            digit_seen = true;
        } else {
            return 0;
        }
    }
    return digit_seen ? depth : 0;
}

// PL1 is usually the only constraint carrying a maximum, but when PL2 has one
// it is the higher and truer figure.
Watts zone_max_power(const FsRoot& fs, const std::string& dir, Domain d) {
    std::uint64_t best = 0;
    for (int n = 0; n < 8; ++n) {
        std::string prefix = dir + "/constraint_" + std::to_string(n);
        if (!fs.exists(prefix + "_name") && !fs.exists(prefix + "_max_power_uw")) break;
        if (auto v = read_u64(fs, prefix + "_max_power_uw")) best = std::max(best, *v);
    }
    return best > 0 ? Watts{static_cast<double>(best) / 1e6} : default_max_power(d);
}

struct Candidate {
    PowercapZone zone;
    Domain domain = Domain::other;
    bool mmio = false;
    bool top = false;
    int error = 0;  // of the test read of energy_uj
};

std::string basename_of(const std::string& dir) {
    return dir.substr(dir.rfind('/') + 1);
}

std::string join_names(const std::vector<Candidate>& cs) {
    std::string out;
    for (const auto& c : cs) out += (out.empty() ? "" : ", ") + c.zone.name;
    return out;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

// Zones sharing a name (a dram per package) are told apart by their directory.
std::string zone_label(const std::vector<PowercapZone>& zones, std::size_t i) {
    const auto& z = zones[i];
    auto same = std::count_if(zones.begin(), zones.end(),
                              [&](const PowercapZone& o) { return o.name == z.name; });
    return same > 1 ? z.name + " (" + basename_of(z.dir) + ")" : z.name;
}

// Kinds of warning given once per zone until it reads fine again.
constexpr std::uint64_t k_warned_read = 1;
constexpr std::uint64_t k_warned_glitch = 2;

}  // namespace

std::vector<PowercapZone> find_powercap_zones(const FsRoot& fs, std::string& why_not) {
    why_not.clear();
    const std::string no_rapl =
        "no RAPL energy counters: " + k_base +
        " has no intel-rapl zone (VMs and some containers have none; containers may also mask "
        "/sys/devices/virtual/powercap); use another energy source";
    if (!fs.exists(k_base)) {
        why_not = no_rapl;
        return {};
    }
    std::vector<Candidate> found;
    for (const auto& entry : fs.list(k_base)) {
        int depth = zone_depth(entry, "intel-rapl");
        bool mmio = false;
        if (depth == 0) {
            depth = zone_depth(entry, "intel-rapl-mmio");
            mmio = true;
        }
        if (depth == 0 || (mmio && depth != 1)) continue;
        Candidate c;
        c.zone.dir = k_base + "/" + entry;
        ReadResult name = fs.read(c.zone.dir + "/name");
        if (!name.text) continue;
        c.zone.name = trimmed(*name.text);
        c.domain = domain_of(c.zone.name);
        c.mmio = mmio;
        c.top = depth == 1;
        // Sub-zones are parts of their package (core, uncore), except dram,
        // which servers place under the package yet count apart from it.
        if (c.domain == Domain::other || (!c.top && c.domain != Domain::dram)) continue;
        auto range = read_u64(fs, c.zone.dir + "/max_energy_range_uj");
        if (!range || *range == 0) continue;
        c.zone.max_range_uj = *range;
        c.zone.max_power = zone_max_power(fs, c.zone.dir, c.domain);
        ReadResult energy = fs.read(c.zone.dir + "/energy_uj");
        c.error = energy.text ? (parse_u64(*energy.text) ? 0 : EINVAL) : energy.error;
        found.push_back(std::move(c));
    }

    std::vector<Candidate> usable;
    for (const auto& c : found)
        if (c.error == 0) usable.push_back(c);

    auto psys = std::find_if(usable.begin(), usable.end(),
                             [](const Candidate& c) { return c.domain == Domain::psys && c.top; });
    std::vector<PowercapZone> zones;
    if (psys != usable.end()) {
        zones.push_back(psys->zone);
        return zones;
    }
    std::vector<const Candidate*> chosen;
    for (const auto& c : usable) {
        if (c.domain == Domain::psys) continue;
        if (c.mmio) {
            // The MMIO interface counts the same package again on client parts.
            bool twin = std::any_of(usable.begin(), usable.end(), [&](const Candidate& o) {
                return !o.mmio && o.zone.name == c.zone.name;
            });
            if (twin) continue;
        }
        chosen.push_back(&c);
    }
    std::stable_sort(chosen.begin(), chosen.end(), [](const Candidate* a, const Candidate* b) {
        return (a->domain == Domain::package) > (b->domain == Domain::package);
    });
    for (const auto* c : chosen) zones.push_back(c->zone);
    if (!zones.empty()) return zones;

    if (found.empty()) {
        why_not = no_rapl;
    } else if (std::any_of(found.begin(), found.end(),
                           [](const Candidate& c) { return c.error == EACCES; })) {
        why_not = "powercap zones found (" + join_names(found) +
                  ") but energy_uj is readable by root only since CVE-2020-8694; fix: run "
                  "grid-agent as root, or give its group read access to " +
                  k_base + "/*/energy_uj with a udev rule or a tmpfiles.d entry";
    } else {
        why_not = "powercap zones found (" + join_names(found) +
                  ") but reading energy_uj failed: " + errno_text(found.front().error) +
                  "; check the intel_rapl driver (dmesg) or use another energy source";
    }
    return zones;
}

ProbeResult probe_powercap(const FsRoot& fs) {
    ProbeResult r;
    r.source = "powercap";
    std::string why_not;
    auto zones = find_powercap_zones(fs, why_not);
    if (zones.empty()) {
        r.detail = why_not;
        return r;
    }
    r.available = true;
    for (std::size_t i = 0; i < zones.size(); ++i) {
        r.detail += (i ? ", " : "") + zone_label(zones, i) + " (wraps at " +
                    number(static_cast<double>(zones[i].max_range_uj) / 1e6) + " J, max " +
                    number(zones[i].max_power.value) + " W)";
    }
    return r;
}

PowercapSource::PowercapSource(std::shared_ptr<const FsRoot> fs, std::shared_ptr<const Clock> clock)
    : m_fs(std::move(fs)), m_clock(std::move(clock)) {
    std::string why_not;
    m_zones = find_powercap_zones(*m_fs, why_not);
    if (m_zones.empty()) throw Error("energy source powercap is unavailable: " + why_not);
    m_state.resize(m_zones.size());
    for (std::size_t i = 0; i < m_zones.size(); ++i)
        m_state[i].energy = KeptFile(m_zones[i].dir + "/energy_uj");
}

std::string PowercapSource::meter() const {
    std::string out;
    for (std::size_t i = 0; i < m_zones.size(); ++i)
        out += (out.empty() ? "" : ", ") + zone_label(m_zones, i);
    return out;
}

std::string PowercapSource::checkpoint() const {
    std::vector<std::pair<std::string, std::uint64_t>> raw;
    for (std::size_t i = 0; i < m_zones.size(); ++i)
        if (m_state[i].have_prev) raw.emplace_back(m_zones[i].dir, m_state[i].prev_raw);
    return format_counter_checkpoint(raw);
}

void PowercapSource::resume(const std::string& checkpoint, double elapsed_s) {
    if (!(elapsed_s >= 0)) return;
    const auto then = m_clock->now() - std::chrono::duration_cast<Clock::Duration>(
                                           std::chrono::duration<double>(elapsed_s));
    const auto saved = parse_counter_checkpoint(checkpoint);
    for (std::size_t i = 0; i < m_zones.size(); ++i) {
        // A zone that vanished or a value it cannot hold is not resumed:
        // its first read just starts afresh.
        auto it = saved.find(m_zones[i].dir);
        if (it == saved.end() || it->second >= m_zones[i].max_range_uj) continue;
        m_state[i].have_prev = true;
        m_state[i].prev_raw = it->second;
        m_state[i].prev_time = then;
    }
}

EnergyReading PowercapSource::read() {
    EnergyReading out;
    const auto now = m_clock->now();
    auto warned = [this](std::size_t i) -> std::uint64_t& { return m_state[i].warned; };
    auto warn_once = [&](std::size_t i, std::uint64_t kind, std::string text) {
        if (warned(i) & kind) return;
        warned(i) |= kind;
        out.warnings.push_back(std::move(text));
    };
    for (std::size_t i = 0; i < m_zones.size();) {
        const PowercapZone& zone = m_zones[i];
        // Built only for a warning: this runs every interval.
        const auto label = [&] { return "zone " + zone_label(m_zones, i); };
        const int err = m_state[i].energy.read(*m_fs, m_text);
        std::optional<std::uint64_t> cur = err == 0 ? parse_u64(m_text) : std::nullopt;
        // A value the counter cannot hold is a bad read, not a new base.
        std::string bad_value;
        if (err == 0 && !cur) bad_value = "unparsable value '" + trimmed(m_text) + "'";
        if (cur && *cur >= zone.max_range_uj) {
            bad_value = "value " + std::to_string(*cur) + " is not below max_energy_range_uj " +
                        std::to_string(zone.max_range_uj);
            cur.reset();
        }
        if (!cur) {
            if (err != 0 && !m_fs->exists(zone.dir)) {
                out.warnings.push_back(label() + ": " + zone.dir + " disappeared; zone dropped" +
                                       (m_zones.size() > 1
                                            ? ", sampling goes on with the other zones"
                                            : ", no powercap zone is left to sample"));
                m_state.erase(m_state.begin() + static_cast<std::ptrdiff_t>(i));
                m_zones.erase(m_zones.begin() + static_cast<std::ptrdiff_t>(i));
                continue;
            }
            // State untouched: the next good read spans this interval too.
            if (!(warned(i) & k_warned_read))
                warn_once(i, k_warned_read,
                          label() + ": energy_uj read failed: " +
                              (err == 0 ? bad_value : errno_text(err)) + "; skipped this interval");
            ++i;
            continue;
        }
        ZoneState& st = m_state[i];
        bool glitch = false;
        if (st.have_prev) {
            double dt = std::chrono::duration<double>(now - st.prev_time).count();
            CounterDelta d =
                counter_delta(st.prev_raw, *cur, zone.max_range_uj, dt, check_power(zone));
            glitch = d.glitch;
            if (glitch) {
                if (!(warned(i) & k_warned_glitch))
                    warn_once(i, k_warned_glitch,
                              label() + ": energy_uj jumped from " + std::to_string(st.prev_raw) +
                                  " to " + std::to_string(*cur) + " in " + number(dt) +
                                  " s, more than twice the zone's maximum power (" +
                                  number(check_power(zone).value) +
                                  " W); interval rejected as a counter glitch");
            } else {
                m_total += d.energy;
            }
        }
        if (!glitch) warned(i) = 0;
        // After a glitch the new reading is the base, so one bad value does
        // not poison every later delta.
        st.have_prev = true;
        st.prev_raw = *cur;
        st.prev_time = now;
        ++i;
    }
    out.total = m_total;
    return out;
}

std::chrono::milliseconds PowercapSource::max_interval() const {
    double s = k_interval_cap_s;
    for (const auto& z : m_zones)
        s = std::min(s, max_sample_interval_s(z.max_range_uj, check_power(z)));
    auto ms = static_cast<std::int64_t>(s * 1000.0);
    return std::chrono::milliseconds(std::max<std::int64_t>(ms, 1));
}

Watts PowercapSource::max_power() const {
    double w = 0;
    for (const auto& z : m_zones) w += z.max_power.value;
    return Watts{w};
}

}  // namespace hearth
