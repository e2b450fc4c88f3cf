#include "papi_cycles.hpp"

#include <unistd.h>

namespace hearth {

namespace {
const std::vector<std::string> k_events = {"PAPI_TOT_CYC", "PAPI_TOT_INS"};
}

PapiCycleMeter::~PapiCycleMeter() {
    for (const auto& [id, h] : m_handles) m_api->detach(h);
}

bool PapiCycleMeter::attach(std::uint64_t id, pid_t pid) {
    std::string why;
    if (std::string e = m_api->init(); !e.empty()) {
        m_why_not = "PAPI: " + e;
        return false;
    }
    int h = m_api->attach(pid, k_events, why);
    if (h < 0) {
        m_why_not = why;
        return false;
    }
    m_handles[id] = h;
    return true;
}

std::optional<double> PapiCycleMeter::cycles(std::uint64_t id) {
    auto it = m_handles.find(id);
    if (it == m_handles.end()) return std::nullopt;
    auto v = m_api->read_attached(it->second);
    if (v.empty() || v[0] < 0) return std::nullopt;
    return static_cast<double>(v[0]);
}

void PapiCycleMeter::detach(std::uint64_t id) {
    auto it = m_handles.find(id);
    if (it == m_handles.end()) return;
    m_api->detach(it->second);
    m_handles.erase(it);
}

std::string probe_papi_cycles(PapiApi& api) {
    if (std::string e = api.init(); !e.empty()) return "PAPI: " + e;
    std::string why;
    int h = api.attach(::getpid(), k_events, why);
    if (h < 0) return why;
    api.detach(h);
    return "";
}

}  // namespace hearth
