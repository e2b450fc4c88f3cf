#include "poller.hpp"

namespace hearth {

Poller::Poller(Fetch fetch, std::chrono::milliseconds period, std::shared_ptr<const Clock> clock,
               bool background)
    : m_fetch(std::move(fetch)), m_period(period), m_clock(std::move(clock)) {
    if (background) m_thread = std::thread([this] { loop(); });
}

Poller::~Poller() {
    {
        std::lock_guard<std::mutex> lock(m_mu);
        m_stop = true;
    }
    m_cv.notify_all();
    // A fetch under way ends within its own time limit.
    if (m_thread.joinable()) m_thread.join();
}

void Poller::store(const Polled& p) {
    std::lock_guard<std::mutex> lock(m_mu);
    if (p.ok) {
        ++m_state.good;
        m_state.value = p.value;
        m_state.at = m_clock->now();
        m_state.failures = 0;
        m_state.error.clear();
    } else {
        ++m_state.failures;
        m_state.error = p.error;
    }
}

void Poller::loop() {
    std::unique_lock<std::mutex> lock(m_mu);
    while (!m_stop) {
        m_soon = false;
        lock.unlock();
        Polled p = m_fetch();
        store(p);
        lock.lock();
        m_cv.wait_for(lock, m_period, [this] { return m_stop || m_soon; });
    }
}

PollState Poller::latest() {
    if (!m_thread.joinable()) {
        const auto now = m_clock->now();
        bool due = false;
        {
            std::lock_guard<std::mutex> lock(m_mu);
            due = m_soon || now - m_last_fetch >= m_period;
            if (due) {
                m_soon = false;
                m_last_fetch = now;
            }
        }
        if (due) store(m_fetch());
    }
    std::lock_guard<std::mutex> lock(m_mu);
    return m_state;
}

void Poller::poll_soon() {
    {
        std::lock_guard<std::mutex> lock(m_mu);
        m_soon = true;
    }
    m_cv.notify_all();
}

std::uint64_t PolledPower::step(const PollState& s, Clock::TimePoint now, bool& waiting) {
    waiting = s.good == 0 || s.failures > 0 || now - s.at > m_stale;
    if (s.good == 0) return 0;
    if (!m_have_prev) {
        // The first answer is the base: energy counts from here.
        m_have_prev = true;
        m_prev = now;
        return 0;
    }
    if (waiting || now <= m_prev) return 0;
    const double dt = std::chrono::duration<double>(now - m_prev).count();
    const double uj = s.value * dt * 1e6 + m_carry_uj;
    const double whole = std::floor(uj);
    m_carry_uj = uj - whole;
    m_prev = now;
    return static_cast<std::uint64_t>(whole);
}

}  // namespace hearth
