#pragma once
// PAPI_TOT_CYC (with PAPI_TOT_INS) per task, attached to the task's process,
// as the CycleMeter of attribution. Counts the root process of a task (PAPI
// inherits to threads, not to child processes).
#include <map>
#include <memory>

#include "core/cycle_meter.hpp"
#include "papi_api.hpp"

namespace hearth {

class PapiCycleMeter final : public CycleMeter {
public:
    explicit PapiCycleMeter(std::shared_ptr<PapiApi> api) : m_api(std::move(api)) {}
    ~PapiCycleMeter() override;
    bool attach(std::uint64_t id, pid_t pid) override;
    std::optional<double> cycles(std::uint64_t id) override;
    void detach(std::uint64_t id) override;
    std::string why_not() const override { return m_why_not; }

private:
    std::shared_ptr<PapiApi> m_api;
    std::map<std::uint64_t, int> m_handles;
    std::string m_why_not;
};

// "" when per-task cycles can be counted here (tried on this process), else
// one line saying why, for the agent's start-up log.
std::string probe_papi_cycles(PapiApi& api);

}  // namespace hearth
