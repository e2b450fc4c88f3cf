#pragma once
// The time seam: samplers and controllers take a Clock, so tests and
// `hearth sim` run them in virtual time (ManualClock) without sleeping.
#include <chrono>
#include <thread>

namespace hearth {

class Clock {
public:
    using Duration = std::chrono::nanoseconds;
    using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    // Wall-clock milliseconds since the epoch, for records people read.
    virtual std::int64_t unix_ms() const = 0;
    virtual void sleep_until(TimePoint t) = 0;
};

class SystemClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
    std::int64_t unix_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    void sleep_until(TimePoint t) override { std::this_thread::sleep_until(t); }
};

// Virtual time: sleep_until jumps the clock forward.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_unix_ms = 1'700'000'000'000)
        : m_unix0(start_unix_ms) {}
    TimePoint now() const override { return m_now; }
    std::int64_t unix_ms() const override {
        return m_unix0 + std::chrono::duration_cast<std::chrono::milliseconds>(
                             m_now.time_since_epoch())
                             .count();
    }
    void sleep_until(TimePoint t) override {
        if (t > m_now) m_now = t;
    }
    void advance(Duration d) { m_now += d; }

private:
    TimePoint m_now{};
    std::int64_t m_unix0;
};

}  // namespace hearth
