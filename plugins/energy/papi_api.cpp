#include "papi_api.hpp"

#include <papi.h>

namespace hearth {
namespace {

std::string papi_error(int code) {
    const char* text = PAPI_strerror(code);
    return text ? std::string(text) : "PAPI error " + std::to_string(code);
}

class RealPapi final : public PapiApi {
public:
    ~RealPapi() override { close(); }

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

    int m_set = PAPI_NULL;
    bool m_running = false;
    std::size_t m_count = 0;
};

}  // namespace

std::unique_ptr<PapiApi> make_real_papi() {
    return std::make_unique<RealPapi>();
}

}  // namespace hearth
