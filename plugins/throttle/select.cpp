#include "plugins/throttle/select.hpp"

#include "core/error.hpp"
#include "plugins/throttle/actuator.hpp"

namespace hearth {
namespace {

// A built actuator, or null with the reason it cannot run in notes.
std::unique_ptr<Actuator> try_make(const ThrottleRegistry::Plugin& p, const ThrottleContext& ctx,
                                   std::vector<std::string>& notes) {
    std::unique_ptr<Actuator> a;
    try {
        a = p.make(ctx);
    } catch (const Error& e) {
        notes.push_back(p.name + ": " + e.what());
        return nullptr;
    }
    if (auto why = a->unavailable()) {
        notes.push_back(p.name + ": " + *why);
        return nullptr;
    }
    return a;
}

}  // namespace

const ThrottleRegistry& throttle_actuators() {
    // Priority: a RAPL limit holds power without touching the tasks; a
    // cgroup quota slows them evenly; SIGSTOP duty cycling works anywhere.
    static const ThrottleRegistry registry(
        "throttle", {{"powercap", 3, nullptr,
                      [](const ThrottleContext& c) {
                          return make_powercap_actuator(c.fsroot, c.node.idle, c.node.max);
                      }},
                     {"cgroup", 2, nullptr,
                      [](const ThrottleContext& c) {
                          // Agents sharing one kernel (test grids) must not share a quota.
                          return make_cgroup_actuator(c.fsroot, c.cpus, "hearth-" + c.node.name);
                      }},
                     {"sigstop", 1, nullptr,
                      [](const ThrottleContext& c) { return make_sigstop_actuator(c.clock); }}});
    return registry;
}

std::vector<std::string> throttle_names() {
    return throttle_actuators().names({"auto", "slots"});
}

std::vector<ProbeResult> probe_actuators(const ThrottleContext& ctx) {
    std::vector<ProbeResult> out;
    for (const auto& p : throttle_actuators().plugins()) {
        std::vector<std::string> why;
        // Built and dropped: an actuator acts only in apply() (powercap's
        // constructor writes back the limit in force), so probing changes
        // nothing on the node.
        if (auto a = try_make(p, ctx, why))
            out.push_back({p.name, true, a->state()});
        else
            out.push_back({p.name, false, why.back().substr(p.name.size() + 2)});
    }
    return out;
}

std::vector<std::unique_ptr<Actuator>> make_actuators(const std::string& setting,
                                                      const ThrottleContext& ctx,
                                                      std::vector<std::string>& notes) {
    std::vector<std::unique_ptr<Actuator>> out;
    if (setting == "slots") return out;
    const ThrottleRegistry& actuators = throttle_actuators();
    if (setting == "auto") {
        for (const auto* p : actuators.auto_order())
            if (auto a = try_make(*p, ctx, notes)) {
                out.push_back(std::move(a));
                break;
            }
        return out;
    }
    const auto* p = actuators.find(setting);
    if (!p)
        throw usage_error("unknown throttle '" + setting + "'; use " +
                          joined_names(throttle_names()));
    auto a = try_make(*p, ctx, notes);
    if (!a) throw usage_error("throttle '" + setting + "' cannot run here: " + notes.back());
    out.push_back(std::move(a));
    return out;
}

}  // namespace hearth
