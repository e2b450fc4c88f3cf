#pragma once
// A meter read off the sampling loop: a BMC (IPMI, Redfish) answers in tens
// of milliseconds to seconds, and a hung one must never delay a sample. The
// poller calls fetch() once a period on a thread of its own and keeps the
// latest answer with the time it arrived; the source's read() only looks at
// it. Without a thread (tests on a manual clock) latest() fetches when a
// period has passed, on the caller's thread.
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"

namespace hearth {

struct Polled {
    bool ok = false;
    double value = 0;   // watts or kWh, as the source reads
    std::string error;  // !ok: why, one line
};

struct PollState {
    std::uint64_t good = 0;      // good answers so far (0: none yet)
    double value = 0;            // the latest good value
    Clock::TimePoint at{};       // when it arrived
    std::uint64_t failures = 0;  // failed answers since the latest good one
    std::string error;           // the latest failure's reason
};

class Poller {
public:
    using Fetch = std::function<Polled()>;
    // background: fetch on a thread of its own (the agent); false: in latest().
    Poller(Fetch fetch, std::chrono::milliseconds period, std::shared_ptr<const Clock> clock,
           bool background);
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;
    PollState latest();
    // An answer had before the poller started (the source's probe), so the
    // first sample has a base.
    void seed(const Polled& p) { store(p); }
    // Makes the next latest() (or the thread's next turn) fetch at once.
    void poll_soon();

private:
    void store(const Polled& p);
    void loop();

    Fetch m_fetch;
    std::chrono::milliseconds m_period;
    std::shared_ptr<const Clock> m_clock;
    std::mutex m_mu;
    std::condition_variable m_cv;
    PollState m_state;
    bool m_stop = false, m_soon = true;
    Clock::TimePoint m_last_fetch{};
    std::thread m_thread;
};

// Integrates a polled power: each step counts the latest good watts over the
// time since the previous step, while the latest answer was good and is no
// older than `stale`. While the BMC fails or has stopped answering, nothing
// is counted and the span waits: the next good answer covers it at its
// power, so nothing is guessed and nothing is counted twice.
class PolledPower {
public:
    explicit PolledPower(std::chrono::milliseconds stale) : m_stale(stale) {}
    // waiting: true when nothing could be counted (no answer, or a stale one).
    std::uint64_t step(const PollState& s, Clock::TimePoint now, bool& waiting);

private:
    std::chrono::milliseconds m_stale;
    bool m_have_prev = false;
    Clock::TimePoint m_prev{};
    double m_carry_uj = 0;
};

}  // namespace hearth
