#pragma once
// The completions a worker holds back before reporting them to rank 0: they
// go when 64 wait, or once the first has waited 5 ms, so that a burst of
// short tasks costs few messages and journal syncs. Pure: the caller gives
// the time.
#include <chrono>
#include <cstddef>
#include <vector>

#include "core/protocol.hpp"

namespace hearth {

class CompletionBatch {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    static constexpr std::size_t k_max = 64;
    static constexpr std::chrono::milliseconds k_delay{5};

    void add(Completion c, TimePoint now);
    bool empty() const { return m_done.empty(); }
    std::size_t size() const { return m_done.size(); }
    // Report now: k_max wait, or the first has waited k_delay.
    bool due(TimePoint now) const;
    // When the first will have waited k_delay (meaningful when not empty).
    TimePoint due_at() const { return m_first + k_delay; }
    // Every completion held, in the order added; the batch is then empty.
    std::vector<Completion> take();

private:
    std::vector<Completion> m_done;
    TimePoint m_first{};
};

}  // namespace hearth
