// --frames and --seeds text through FrameSet::parse and parse_seed_range, the
// parsers `hearth run` uses (runner/job/job_items.cpp). A set that parses must
// print as text that parses back to the same set, and must never list a
// frame twice.
#include <algorithm>
#include <vector>

#include "core/frameset.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

namespace {

bool same_ranges(const FrameSet& a, const FrameSet& b) {
    if (a.ranges().size() != b.ranges().size() || a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.ranges().size(); ++k) {
        const FrameRange& x = a.ranges()[k];
        const FrameRange& y = b.ranges()[k];
        if (x.first != y.first || x.last != y.last || x.step != y.step) return false;
    }
    return true;
}

void check_set(const FrameSet& set) {
    FUZZ_CHECK(set.size() > 0);
    std::uint64_t before = 0;
    for (const FrameRange& r : set.ranges()) {
        FUZZ_CHECK(r.first >= 0 && r.first <= r.last && r.step >= 1);
        FUZZ_CHECK((r.last - r.first) % r.step == 0);  // last is reachable
        FUZZ_CHECK(set.at(before) == r.first);
        FUZZ_CHECK(set.at(before + r.count() - 1) == r.last);
        before += r.count();
    }
    FUZZ_CHECK(before == set.size());
    const FrameSet again = FrameSet::parse(set.to_string());
    FUZZ_CHECK(same_ranges(set, again));
    FUZZ_CHECK(again.to_string() == set.to_string());
    // Small sets: every frame once (the overlap check's CRT arithmetic).
    if (set.size() <= 4096) {
        std::vector<std::int64_t> frames;
        for (std::uint64_t i = 0; i < set.size(); ++i) frames.push_back(set.at(i));
        std::sort(frames.begin(), frames.end());
        FUZZ_CHECK(std::adjacent_find(frames.begin(), frames.end()) == frames.end());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string in = fuzz::text(data, size);
    if (auto set = fuzz::parsed([&] { return FrameSet::parse(in); })) check_set(*set);
    if (auto seeds = fuzz::parsed([&] { return parse_seed_range(in); })) {
        check_set(*seeds);
        FUZZ_CHECK(seeds->ranges().size() == 1 && seeds->ranges()[0].step == 1);
        const std::string back = std::to_string(seeds->ranges()[0].first) + "-" +
                                 std::to_string(seeds->ranges()[0].last);
        FUZZ_CHECK(same_ranges(parse_seed_range(back), *seeds));
    }
    return 0;
}
