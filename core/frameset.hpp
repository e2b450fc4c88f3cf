#pragma once
// Frame sets as render farms write them: "1-240", "1-10,15,20-40x2".
// A set is a list of arithmetic progressions, kept in the order written; the
// i-th item is computed, never materialised, so a set of 1e12 frames costs
// a few bytes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

struct FrameRange {
    std::int64_t first = 0;
    std::int64_t last = 0;  // inclusive; last is reachable: first + k*step
    std::int64_t step = 1;
    std::uint64_t count() const { return static_cast<std::uint64_t>((last - first) / step) + 1; }
};

class FrameSet {
public:
    // Parses "A", "A-B", "A-BxS" separated by commas. Frames are >= 0.
    // Throws usage_error naming the bad part and the fix for: empty set, "5-1"
    // (reversed), "1-x" (not a number), "0x0"/step 0, a range whose last frame is
    // not reached by the step (accepted: the last reachable one is used),
    // overlapping parts ("1-10,5"), overflow past 2^62.
    static FrameSet parse(std::string_view text);
    // A single inclusive range A-B, for --seeds and --count.
    static FrameSet range(std::int64_t first, std::int64_t last);

    std::uint64_t size() const { return m_total; }
    // The i-th frame in written order; i < size().
    std::int64_t at(std::uint64_t i) const;
    const std::vector<FrameRange>& ranges() const { return m_ranges; }
    std::string to_string() const;  // canonical text that parse() accepts

private:
    std::vector<FrameRange> m_ranges;
    std::vector<std::uint64_t> m_prefix;  // m_prefix[k] = items before range k
    std::uint64_t m_total = 0;
};

// Parses "A-B" (inclusive, A <= B, both >= 0) for --seeds.
FrameSet parse_seed_range(std::string_view text);

}  // namespace hearth
