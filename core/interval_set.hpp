#pragma once
// A set of task indices stored as disjoint half-open intervals. Tasks commit
// roughly in order, so a job of a billion committed tasks is a few intervals,
// not a billion entries: the dispatcher's memory follows tasks in flight.
#include <cstdint>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <map>

namespace hearth {

class IntervalSet {
public:
    // Returns false when x was already present. x < UINT64_MAX (runs are half-open).
    bool insert(std::uint64_t x) {
        if (x == std::numeric_limits<std::uint64_t>::max())
            throw std::out_of_range("IntervalSet holds values below UINT64_MAX");
        if (contains(x)) return false;
        auto next = m_runs.upper_bound(x);
        bool joins_next = next != m_runs.end() && next->first == x + 1;
        if (next != m_runs.begin()) {
            auto prev = std::prev(next);
            if (prev->second == x) {
                prev->second = joins_next ? next->second : x + 1;
                if (joins_next) m_runs.erase(next);
                ++m_count;
                return true;
            }
        }
        if (joins_next) {
            std::uint64_t end = next->second;
            m_runs.erase(next);
            m_runs.emplace(x, end);
        } else {
            m_runs.emplace(x, x + 1);
        }
        ++m_count;
        return true;
    }
    bool contains(std::uint64_t x) const {
        auto it = m_runs.upper_bound(x);
        if (it == m_runs.begin()) return false;
        --it;
        return x < it->second;
    }
    // Smallest y >= x that is not in the set.
    std::uint64_t next_absent(std::uint64_t x) const {
        auto it = m_runs.upper_bound(x);
        if (it == m_runs.begin()) return x;
        --it;
        return x < it->second ? it->second : x;
    }
    std::uint64_t size() const { return m_count; }
    std::size_t runs() const { return m_runs.size(); }

private:
    std::map<std::uint64_t, std::uint64_t> m_runs;  // begin -> end
    std::uint64_t m_count = 0;
};

}  // namespace hearth
