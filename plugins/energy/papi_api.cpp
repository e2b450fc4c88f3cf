#include "papi_api.hpp"

#include <papi.h>

#include <map>

namespace hearth {
namespace {

std::string papi_error(int code) {
    const char* text = PAPI_strerror(code);
    return text ? std::string(text) : "PAPI error " + std::to_string(code);
}

class RealPapi final : public PapiApi {
public:
    ~RealPapi() override {
        close();
        while (!m_attached.empty()) detach(m_attached.begin()->first);
    }

    std::string init() override {
        // The library is process-wide: a second source or a probe before the
        // source must not re-initialise it.
        if (PAPI_is_initialized() != PAPI_NOT_INITED) return "";
        int v = PAPI_library_init(PAPI_VER_CURRENT);
        if (v == PAPI_VER_CURRENT) return "";
        if (v > 0) return "libpapi version does not match the headers Hearth was built with";
        return papi_error(v);
    }

    std::vector<Component> components() override {
        std::vector<Component> out;
        for (int i = 0, n = PAPI_num_components(); i < n; ++i) {
            const PAPI_component_info_t* info = PAPI_get_component_info(i);
            if (!info) continue;
            out.push_back({info->name, info->disabled != 0, info->disabled_reason});
        }
        return out;
    }

    std::string open(const std::vector<std::string>& events) override {
        close();
        int rc = PAPI_create_eventset(&m_set);
        if (rc != PAPI_OK) {
            m_set = PAPI_NULL;
            return "PAPI_create_eventset: " + papi_error(rc);
        }
        for (const auto& e : events) {
            rc = PAPI_add_named_event(m_set, e.c_str());
            if (rc != PAPI_OK) {
                close();
                return "event " + e + ": " + papi_error(rc);
            }
        }
        rc = PAPI_start(m_set);
        if (rc != PAPI_OK) {
            close();
            return "PAPI_start: " + papi_error(rc);
        }
        m_count = events.size();
        m_running = true;
        return "";
    }

    std::vector<long long> read() override {
        if (!m_running) return {};
        std::vector<long long> v(m_count);
        if (PAPI_read(m_set, v.data()) != PAPI_OK) return {};
        return v;
    }

    int attach(pid_t pid, const std::vector<std::string>& events, std::string& why) override {
        int set = PAPI_NULL;
        int rc = PAPI_create_eventset(&set);
        if (rc != PAPI_OK) {
            why = "PAPI_create_eventset: " + papi_error(rc);
            return -1;
        }
        auto fail = [&](const std::string& what) {
            why = what;
            PAPI_cleanup_eventset(set);
            PAPI_destroy_eventset(&set);
            return -1;
        };
        // Attaching needs the set bound to a component first: perf_event (0).
        rc = PAPI_assign_eventset_component(set, 0);
        if (rc != PAPI_OK) return fail("PAPI_assign_eventset_component: " + papi_error(rc));
        rc = PAPI_attach(set, static_cast<unsigned long>(pid));
        if (rc != PAPI_OK) return fail("PAPI_attach: " + papi_error(rc));
        for (const auto& e : events) {
            rc = PAPI_add_named_event(set, e.c_str());
            if (rc != PAPI_OK) return fail("event " + e + ": " + papi_error(rc));
        }
        rc = PAPI_start(set);
        if (rc != PAPI_OK) return fail("PAPI_start: " + papi_error(rc));
        m_attached[set] = events.size();
        return set;
    }

    std::vector<long long> read_attached(int handle) override {
        auto it = m_attached.find(handle);
        if (it == m_attached.end()) return {};
        std::vector<long long> v(it->second);
        if (PAPI_read(handle, v.data()) != PAPI_OK) return {};
        return v;
    }

    void detach(int handle) override {
        auto it = m_attached.find(handle);
        if (it == m_attached.end()) return;
        std::vector<long long> v(it->second);
        PAPI_stop(handle, v.data());
        PAPI_cleanup_eventset(handle);
        int set = handle;
        PAPI_destroy_eventset(&set);
        m_attached.erase(it);
    }

private:
    void close() {
        if (m_set == PAPI_NULL) return;
        if (m_running) {
            std::vector<long long> v(m_count);
            PAPI_stop(m_set, v.data());
        }
        PAPI_cleanup_eventset(m_set);
        PAPI_destroy_eventset(&m_set);
        m_set = PAPI_NULL;
        m_running = false;
        m_count = 0;
    }

    std::map<int, std::size_t> m_attached;  // handle -> number of events
    int m_set = PAPI_NULL;
    bool m_running = false;
    std::size_t m_count = 0;
};

}  // namespace

std::unique_ptr<PapiApi> make_real_papi() {
    return std::make_unique<RealPapi>();
}

}  // namespace hearth
