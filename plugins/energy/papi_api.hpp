#pragma once
// The PAPI seam: the few calls Hearth makes, behind an interface, so tests
// exercise the PAPI code paths (events present, absent, failing) on machines
// whose PAPI has no usable events.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hearth {

class PapiApi {
public:
    virtual ~PapiApi() = default;
    // PAPI_library_init; returns "" or why it failed.
    virtual std::string init() = 0;
    // Components PAPI was built with, and for each whether it is disabled and why.
    struct Component {
        std::string name;
        bool disabled = false;
        std::string reason;
    };
    virtual std::vector<Component> components() = 0;
    // Creates an event set holding the named events; "" or why not (e.g.
    // "Event does not exist" for PAPI_ENOEVNT).
    virtual std::string open(const std::vector<std::string>& events) = 0;
    // Reads the open set's counters (same order as open()).
    virtual std::vector<long long> read() = 0;

    // Per-process counters (perf_event component): an event set attached to
    // pid. Returns a handle >= 0, or -1 with the reason in why.
    virtual int attach(pid_t pid, const std::vector<std::string>& events, std::string& why) = 0;
    // The attached set's counters; empty when the read failed (process gone).
    virtual std::vector<long long> read_attached(int handle) = 0;
    virtual void detach(int handle) = 0;
};

// The real library (libpapi).
std::unique_ptr<PapiApi> make_real_papi();

}  // namespace hearth
