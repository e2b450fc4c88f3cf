// Throttles the whole node through the RAPL package power limit (PL1): the
// hardware lowers frequency to meet it, so tasks keep running, only slower.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "plugins/throttle/actuator.hpp"
#include "plugins/throttle/files.hpp"

namespace hearth {
namespace {

using throttle::exists;
using throttle::read_text;
using throttle::write_text;

const std::string k_other = "use the cgroup or sigstop actuator";

struct Zone {
    std::string dir;
    std::string name;
    std::string limit_file;     // constraint_N_power_limit_uw of the long_term constraint
    long long original_uw = 0;  // restored by release()
    long long max_uw = 0;       // 0: the zone states no maximum
    std::optional<long long> original_enabled;
};

// "intel-rapl:0" is a top-level zone, "intel-rapl:0:1" a subzone, and
// "intel-rapl-mmio:0" a second door to the same package limit: never both.
bool top_level_zone(const std::string& entry) {
    const std::string type = "intel-rapl:";
    if (entry.rfind(type, 0) != 0) return false;
    std::string idx = entry.substr(type.size());
    return !idx.empty() && std::all_of(idx.begin(), idx.end(),
                                       [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// The PL1 constraint: named long_term, or constraint_0 when names are absent.
std::optional<std::string> long_term_limit(const std::string& dir) {
    for (int n = 0; n < 4; ++n) {
        const std::string c = dir + "/constraint_" + std::to_string(n);
        auto name = read_text(c + "_name");
        if (name && trimmed(*name) == "long_term" && exists(c + "_power_limit_uw"))
            return c + "_power_limit_uw";
    }
    if (!exists(dir + "/constraint_0_name") && exists(dir + "/constraint_0_power_limit_uw"))
        return dir + "/constraint_0_power_limit_uw";
    return std::nullopt;
}

std::string watts_text(long long uw) {
    std::ostringstream o;
    o.precision(1);
    o << std::fixed << static_cast<double>(uw) / 1e6 << " W";
    return o.str();
}

class PowercapActuator final : public Actuator {
public:
    PowercapActuator(const std::string& fsroot, Watts idle, Watts max)
        : m_base(fsroot + "/sys/class/powercap"), m_idle(idle), m_max(max) {
        if (!(idle.value >= 0) || !(max.value > idle.value) || !std::isfinite(max.value))
            throw usage_error("throttle/powercap: idle " + std::to_string(idle.value) +
                              " W and max " + std::to_string(max.value) +
                              " W do not make a power range; set 0 <= idle < max");
        find_zones();
        if (m_zones.empty()) {
            m_unavailable = "no writable RAPL power limit under " + m_base +
                            " (VMs and AMD parts have none); " + k_other;
            return;
        }
        // Writing back the limit in force changes nothing, and is the only
        // way to learn of a BIOS lock before the first real step needs it.
        for (const auto& z : m_zones)
            if (int e = write_text(z.limit_file, std::to_string(z.original_uw))) {
                note_failure(z.limit_file, e);
                return;
            }
    }

    ~PowercapActuator() override {
        try {
            release();
        } catch (...) {
        }
    }

    std::string name() const override { return "throttle/powercap"; }
    std::optional<std::string> unavailable() const override { return m_unavailable; }

    void apply(double fraction, const std::vector<ThrottleTask>& /*tasks*/) override {
        if (m_unavailable) throw Error("throttle/powercap: " + *m_unavailable);
        if (std::isnan(fraction)) fraction = 0;
        // "No limit" is the limit the node had before us, not the node's max:
        // the operator may have set a lower one on purpose.
        if (fraction >= 1) {
            restore();
            return;
        }
        fraction = std::max(fraction, 0.0);
        double total_w = m_idle.value + fraction * (m_max.value - m_idle.value);
        auto per_zone = static_cast<long long>(
            std::llround(total_w * 1e6 / static_cast<double>(m_zones.size())));
        for (const auto& z : m_zones) {
            long long uw = z.max_uw > 0 ? std::min(per_zone, z.max_uw) : per_zone;
            if (z.original_enabled && *z.original_enabled == 0) write(z.dir + "/enabled", "1");
            write(z.limit_file, std::to_string(uw));
        }
        m_applied = true;
    }

    void release() override {
        if (m_applied) restore();
    }

    // Read back, not remembered: the hardware quantises the limit, and the
    // applied value is what the node runs under.
    std::string state() const override {
        if (m_unavailable) return "powercap unavailable";
        long long sum = 0;
        for (const auto& z : m_zones) {
            auto v = parse_i64(read_text(z.limit_file).value_or(""));
            if (!v) return "powercap limit unreadable (" + z.limit_file + ")";
            sum += *v;
        }
        std::string where = watts_text(sum) + " over " + std::to_string(m_zones.size()) +
                            (m_zones.size() == 1 ? " package" : " packages");
        if (m_applied) return "powercap limit " + where;
        return "powercap no limit set (" + where + " in force)";
    }

private:
    void find_zones() {
        std::error_code ec;
        std::vector<std::string> entries;
        for (const auto& e : std::filesystem::directory_iterator(m_base, ec))
            entries.push_back(e.path().filename().string());
        std::sort(entries.begin(), entries.end());
        for (const auto& entry : entries) {
            if (!top_level_zone(entry)) continue;
            Zone z;
            z.dir = m_base + "/" + entry;
            z.name = trimmed(read_text(z.dir + "/name").value_or(""));
            if (z.name.rfind("package-", 0) != 0) continue;  // psys, or not a package
            auto limit = long_term_limit(z.dir);
            if (!limit) continue;  // AMD: energy counters, no limits
            auto original = parse_i64(read_text(*limit).value_or(""));
            if (!original) continue;
            z.limit_file = *limit;
            z.original_uw = *original;
            const std::string max_file =
                limit->substr(0, limit->size() - std::string("power_limit_uw").size()) +
                "max_power_uw";
            z.max_uw = parse_i64(read_text(max_file).value_or("")).value_or(0);
            z.original_enabled = parse_i64(read_text(z.dir + "/enabled").value_or(""));
            m_zones.push_back(z);
        }
    }

    void note_failure(const std::string& file, int e) {
        if (e == EACCES || e == EPERM)
            m_unavailable = "RAPL power limit " + file + " is not writable (" + errno_text(e) +
                            "): locked by the BIOS or not root; run grid-agent as root or " +
                            k_other;
    }

    void write(const std::string& file, const std::string& value) {
        if (int e = write_text(file, value)) {
            note_failure(file, e);
            throw Error("throttle/powercap: cannot write " + value + " to " + file + ": " +
                        errno_text(e) + "; run grid-agent as root or " + k_other);
        }
    }

    void restore() {
        for (const auto& z : m_zones) {
            write(z.limit_file, std::to_string(z.original_uw));
            if (z.original_enabled && *z.original_enabled == 0) write(z.dir + "/enabled", "0");
        }
        m_applied = false;
    }

    std::string m_base;
    Watts m_idle, m_max;
    std::vector<Zone> m_zones;
    std::optional<std::string> m_unavailable;
    bool m_applied = false;
};

}  // namespace

std::unique_ptr<Actuator> make_powercap_actuator(const std::string& fsroot, Watts idle, Watts max) {
    return std::make_unique<PowercapActuator>(fsroot, idle, max);
}

}  // namespace hearth
