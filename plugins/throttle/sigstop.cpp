// Throttles tasks by stopping their process groups (SIGSTOP/SIGCONT): needs
// no cgroup, no RAPL and no privilege beyond signalling our own tasks, so it
// works on every node and is the fallback of the others. A task with a v2
// cgroup of its own is frozen through it instead (cgroup.freeze), which
// reaches the processes that left its group with setsid() and cannot be
// undone by the task (a SIGCONT of its own).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/text.hpp"
#include "plugins/throttle/actuator.hpp"
#include "plugins/throttle/files.hpp"

namespace hearth {
namespace {

// Above this the stopped share of a period would be too short to matter.
constexpr double k_no_limit = 0.999;

class SigstopActuator final : public Actuator {
public:
    SigstopActuator(std::shared_ptr<const Clock> clock, double period_s)
        : m_clock(std::move(clock)) {
        if (!m_clock) throw Error("throttle/sigstop: no clock given");
        if (!(period_s > 0) || !std::isfinite(period_s))
            throw usage_error("throttle/sigstop: duty-cycle period " + std::to_string(period_s) +
                              " s is not a positive number of seconds; use e.g. 1");
        m_period =
            std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(period_s));
        if (m_period.count() <= 0) m_period = Clock::Duration{1};
    }

    // A destroyed actuator must not leave tasks stopped for ever.
    ~SigstopActuator() override {
        try {
            release();
        } catch (...) {
        }
    }

    std::string name() const override { return "throttle/sigstop"; }
    std::optional<std::string> unavailable() const override { return std::nullopt; }

    void apply(double fraction, const std::vector<ThrottleTask>& tasks) override {
        const pid_t own = ::getpgrp();
        for (const auto& t : tasks)
            if (t.pgid <= 1 || t.pgid == own)
                throw Error("throttle/sigstop: task process group " + std::to_string(t.pgid) +
                            " is not a task's own group (signalling it would stop the agent or "
                            "the system); start each task in a process group of its own");
        m_fraction = std::isnan(fraction) ? 0.0 : std::clamp(fraction, 0.0, 1.0);
        // Tasks that left the list are resumed: a requeued task must not stay stopped.
        std::set<pid_t> current;
        for (const auto& t : tasks) current.insert(t.pgid);
        for (auto it = m_stopped.begin(); it != m_stopped.end();) {
            if (current.count(*it)) {
                ++it;
                continue;
            }
            resume_quietly(*it);  // gone already is as good as resumed
            it = m_stopped.erase(it);
        }
        m_tasks = tasks;
        for (const auto& t : tasks)
            if (!t.cgroup.empty() && t.cgroup_v2) m_freezer[t.pgid] = t.cgroup;
        std::erase_if(m_freezer, [&](const auto& kv) {
            return !current.count(kv.first) && !m_stopped.count(kv.first);
        });
        if (!m_active) m_anchor = m_clock->now();
        m_active = true;
        tick(m_clock->now());
    }

    void tick(Clock::TimePoint now) override {
        if (!m_active) return;
        std::set<pid_t> want = to_stop(now);
        std::set<pid_t> gone;
        for (pid_t g : want)
            if (!m_stopped.count(g)) signal(g, SIGSTOP, gone);
        for (pid_t g : m_stopped)
            if (!want.count(g) && !gone.count(g)) signal(g, SIGCONT, gone);
        for (pid_t g : want)
            if (!gone.count(g)) m_stopped.insert(g);
        std::erase_if(m_stopped, [&](pid_t g) { return !want.count(g) || gone.count(g); });
        std::erase_if(m_tasks, [&](const ThrottleTask& t) { return gone.count(t.pgid) > 0; });
    }

    void release() override {
        for (pid_t g : m_stopped) resume_quietly(g);
        m_stopped.clear();
        m_freezer.clear();
        m_tasks.clear();
        m_active = false;
    }

    std::string state() const override {
        const std::size_t n = m_tasks.size();
        const std::string of = std::to_string(n) + (n == 1 ? " task" : " tasks");
        if (!m_active || m_fraction >= k_no_limit) return "sigstop no limit (" + of + ")";
        if (m_fraction <= 0) return "sigstop all " + of + " stopped";
        if (selective())
            return "sigstop " + std::to_string(m_stopped.size()) + " of " + of +
                   " stopped (lowest IPC first)";
        return "sigstop duty cycle " + std::to_string(std::lround(m_fraction * 100)) + "% of " +
               period_text() + " over " + of + (m_stopped.empty() ? " (running)" : " (stopped)");
    }

private:
    // With any IPC known, the k = round((1 - fraction) * n) lowest-IPC tasks
    // stay stopped and the rest run freely: memory-bound tasks lose least,
    // and whole tasks stopped cost no context switches, caches stay warm for
    // those running, and nothing needs ticking between control steps (no
    // rotation: the controller's next step changes k as the heat demands).
    // Without IPC nothing tells tasks apart, so all are duty-cycled together:
    // they run for fraction * period at the start of each period.
    bool selective() const {
        return std::any_of(m_tasks.begin(), m_tasks.end(),
                           [](const ThrottleTask& t) { return t.ipc >= 0; });
    }

    std::set<pid_t> to_stop(Clock::TimePoint now) const {
        std::set<pid_t> out;
        if (m_fraction >= k_no_limit) return out;
        bool all = m_fraction <= 0;
        if (!all && selective()) {
            auto order = throttle_order(m_tasks);
            auto k = static_cast<std::size_t>(
                std::lround((1 - m_fraction) * static_cast<double>(order.size())));
            for (std::size_t i = 0; i < k && i < order.size(); ++i) out.insert(order[i].pgid);
            return out;
        }
        if (!all) {
            auto since = std::max<Clock::Duration::rep>((now - m_anchor).count(), 0);
            double phase = static_cast<double>(since % m_period.count());
            all = phase >= m_fraction * static_cast<double>(m_period.count());
        }
        if (all)
            for (const auto& t : m_tasks) out.insert(t.pgid);
        return out;
    }

    void resume_quietly(pid_t pgid) {
        if (auto it = m_freezer.find(pgid); it != m_freezer.end())
            throttle::write_text(it->second + "/cgroup.freeze", "0");
        ::kill(-pgid, SIGCONT);
    }

    void signal(pid_t pgid, int sig, std::set<pid_t>& gone) {
        if (auto it = m_freezer.find(pgid); it != m_freezer.end()) {
            // Its cgroup gone: the task ended (the worker removes it).
            if (!throttle::exists(it->second)) {
                gone.insert(pgid);
                return;
            }
            const int e =
                throttle::write_text(it->second + "/cgroup.freeze", sig == SIGSTOP ? "1" : "0");
            if (e == 0) return;
            if (e == ENOENT) {
                gone.insert(pgid);
                return;
            }
            // A kernel without cgroup.freeze (before 5.2): the group's signal.
            m_freezer.erase(it);
        }
        if (::kill(-pgid, sig) == 0) return;
        int e = errno;
        if (e == ESRCH) {  // the task ended meanwhile
            gone.insert(pgid);
            return;
        }
        throw Error("throttle/sigstop: cannot " + std::string(sig == SIGSTOP ? "stop" : "resume") +
                    " process group " + std::to_string(pgid) + ": " + errno_text(e) +
                    "; run grid-agent as the tasks' user or as root");
    }

    std::string period_text() const {
        double s = std::chrono::duration<double>(m_period).count();
        std::string t = std::to_string(s);
        t.erase(t.find_last_not_of('0') + 1);
        if (!t.empty() && t.back() == '.') t.pop_back();
        return t + " s";
    }

    std::shared_ptr<const Clock> m_clock;
    Clock::Duration m_period{};
    double m_fraction = 1;
    bool m_active = false;
    Clock::TimePoint m_anchor{};
    std::vector<ThrottleTask> m_tasks;
    std::set<pid_t> m_stopped;
    std::map<pid_t, std::string> m_freezer;  // pgid -> its task's v2 cgroup
};

}  // namespace

std::unique_ptr<Actuator> make_sigstop_actuator(std::shared_ptr<const Clock> clock,
                                                double period_s) {
    return std::make_unique<SigstopActuator>(std::move(clock), period_s);
}

}  // namespace hearth
