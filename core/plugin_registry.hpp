#pragma once
// One registry for every plugin kind (energy sources, heat sources,
// throttle actuators), after GEOPM's PluginFactory and Open MPI's
// query/priority: each plugin has a name, a priority for `auto`, a probe
// that says whether it can run here and why not, and a factory. Selection
// walks it, and every list of valid names (errors, --help, --probe) is
// generated from it, never retyped. The registries themselves live with
// their plugins (plugins/*/registry.cpp): core/ knows only the shape.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth {

// What a probe found: usable or not, and what it found (zones, events) or
// why not, with the fix.
struct ProbeResult {
    std::string source;  // the plugin's name
    bool available = false;
    std::string detail;
};

// "a, b or c" ("a, b, c" with last = ", "), for messages naming choices.
std::string joined_names(const std::vector<std::string>& names, std::string_view last = " or ");

template <class Product, class Context>
class PluginRegistry {
public:
    struct Plugin {
        std::string name;
        // `auto` tries plugins from the highest priority down; 0: only when
        // named (a heat source is named by its site, never guessed).
        int priority = 0;
        // Null: the factory decides alone (it throws an Error saying why).
        std::function<ProbeResult(const Context&)> probe;
        std::function<std::unique_ptr<Product>(const Context&)> make;
    };

    PluginRegistry(std::string kind, std::vector<Plugin> plugins)
        : m_kind(std::move(kind)), m_plugins(std::move(plugins)) {
        std::stable_sort(m_plugins.begin(), m_plugins.end(),
                         [](const Plugin& a, const Plugin& b) { return a.priority > b.priority; });
    }

    const std::string& kind() const { return m_kind; }
    // Highest priority first; equal ones in the order registered.
    const std::vector<Plugin>& plugins() const { return m_plugins; }
    const Plugin* find(std::string_view name) const {
        for (const auto& p : m_plugins)
            if (p.name == name) return &p;
        return nullptr;
    }
    // The names, after `first` (settings such as "auto" that are not plugins).
    std::vector<std::string> names(std::vector<std::string> first = {}) const {
        for (const auto& p : m_plugins) first.push_back(p.name);
        return first;
    }
    // What `auto` may choose from, in the order it tries them.
    std::vector<const Plugin*> auto_order() const {
        std::vector<const Plugin*> out;
        for (const auto& p : m_plugins)
            if (p.priority > 0) out.push_back(&p);
        return out;
    }

private:
    std::string m_kind;
    std::vector<Plugin> m_plugins;
};

}  // namespace hearth
