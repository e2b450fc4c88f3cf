#pragma once
// How a job's items become tasks. Items come from an ItemSource (a frame set,
// a seed range, a count, the lines of a file); tasks are consecutive chunks of
// K items. Nothing is materialised: task t's items are computed on demand.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "frameset.hpp"

namespace hearth {

class ItemSource {
public:
    virtual ~ItemSource() = default;
    virtual std::uint64_t size() const = 0;
    // The i-th item as text; i < size(). Not const: a file source keeps a cursor.
    virtual std::string item(std::uint64_t i) = 0;
};

// Frames, seeds and counts: items are the numbers of a FrameSet.
class NumberItems final : public ItemSource {
public:
    explicit NumberItems(FrameSet set) : m_set(std::move(set)) {}
    std::uint64_t size() const override { return m_set.size(); }
    std::string item(std::uint64_t i) override { return std::to_string(m_set.at(i)); }

private:
    FrameSet m_set;
};

struct ChunkPlan {
    std::uint64_t items = 0;
    std::uint64_t chunk = 1;  // >= 1
    std::uint64_t tasks() const { return items == 0 ? 0 : (items + chunk - 1) / chunk; }
    // Half-open item index range [begin, end) of task t; t < tasks().
    std::uint64_t begin(std::uint64_t t) const { return t * chunk; }
    std::uint64_t end(std::uint64_t t) const {
        std::uint64_t e = (t + 1) * chunk;
        return e < items ? e : items;
    }
};

// Items of task t, in order.
std::vector<std::string> task_items(ItemSource& source, const ChunkPlan& plan, std::uint64_t t);

}  // namespace hearth
