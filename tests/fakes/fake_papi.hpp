#pragma once
// The one fake of the PAPI seam, scripted by the test: an init error, the
// components PAPI reports, which events exist (with PAPI's own error text for
// those that do not) and counter values the test advances.
#include <map>
#include <string>
#include <vector>

#include "plugins/energy/papi_api.hpp"

namespace hearth::test {

class FakePapi final : public PapiApi {
public:
    std::string init_error;  // "" = PAPI_library_init succeeds
    std::vector<Component> component_list;
    std::map<std::string, long long> counters;       // the events that exist, and their values
    std::map<std::string, std::string> open_errors;  // event -> error other than "does not exist"
    bool read_fails = false;
    int open_calls = 0;
    std::vector<std::string> opened;

    std::string init() override { return init_error; }
    std::vector<Component> components() override { return component_list; }

    // Same wording as the real wrapper: "event X: <PAPI_strerror text>".
    std::string open(const std::vector<std::string>& events) override {
        ++open_calls;
        opened.clear();
        for (const auto& e : events) {
            auto err = open_errors.find(e);
            if (err != open_errors.end()) return "event " + e + ": " + err->second;
            if (!counters.count(e)) return "event " + e + ": Event does not exist";  // PAPI_ENOEVNT
        }
        opened = events;
        return "";
    }

    std::vector<long long> read() override {
        if (read_fails || opened.empty()) return {};
        std::vector<long long> v;
        for (const auto& e : opened) v.push_back(counters.at(e));
        return v;
    }

    void advance(const std::string& event, long long by) { counters.at(event) += by; }

    // Per-process counters: attach_error, when set, fails every attach (as
    // PAPI does on a VM without hardware counters); task_counters[pid] holds
    // each attached process's values, which the test advances.
    std::string attach_error;
    std::map<pid_t, std::map<std::string, long long>> task_counters;
    std::map<int, std::pair<pid_t, std::vector<std::string>>> attached;
    int attach(pid_t pid, const std::vector<std::string>& events, std::string& why) override {
        if (!attach_error.empty()) {
            why = attach_error;
            return -1;
        }
        for (const auto& e : events) task_counters[pid].emplace(e, 0);
        int handle = m_next_handle++;
        attached[handle] = {pid, events};
        return handle;
    }
    std::vector<long long> read_attached(int handle) override {
        auto it = attached.find(handle);
        if (it == attached.end()) return {};
        std::vector<long long> v;
        for (const auto& e : it->second.second) v.push_back(task_counters[it->second.first][e]);
        return v;
    }
    void detach(int handle) override { attached.erase(handle); }

private:
    int m_next_handle = 1;

public:

    // The components of an Intel host whose PAPI has both energy components.
    static std::vector<Component> energy_components() {
        return {{"perf_event", false, ""}, {"rapl", false, ""}, {"powercap", false, ""}};
    }
};

}  // namespace hearth::test
