#pragma once
// The dashboard's time series: the agent's samples (about ten a second)
// folded into fixed buckets of several resolutions, which the ledger keeps
// for a limited time (hearth-ledger(5), table history). Pure: no clock, no I/O.
#include <cstdint>
#include <optional>
#include <vector>

namespace hearth {

struct HistorySample {
    std::int64_t t_ms = 0;  // wall clock, ms since the Unix epoch
    double power_w = 0;
    std::optional<double> temp_c, target_c;
    int slots_allowed = 0;
    int slots = 0;
};

struct HistoryPoint {
    std::int64_t t_ms = 0;  // bucket start, a multiple of res_s * 1000
    int res_s = 0;
    double power_w = 0;              // mean of the samples' power
    std::optional<double> temp_c;    // mean of the samples that had one
    std::optional<double> target_c;  // of the last sample
    int slots_allowed = 0;           // of the last sample
    int slots = 0;                   // of the last sample

    bool operator==(const HistoryPoint&) const = default;
};

// Folds samples into one open bucket per resolution ("tier").
//
// A bucket's power is the plain mean of its samples: the agent samples at a
// fixed period, so every sample stands for the same stretch of time, and a
// sample that follows a stall or a clock step cannot outweigh the others.
// Values that are not finite (a power from a zero-length interval) are left
// out of the means; a bucket with no finite power reports 0 W.
//
// A sample in another bucket than the open one closes the open one, whichever
// way time moved. A gap therefore yields no points for the buckets nobody
// sampled. A clock stepped backwards starts a new bucket at the earlier time:
// nothing is mixed into a bucket it does not belong to, and if that bucket
// was already closed, the new point has the same (res_s, t_ms) and replaces
// the old one in the ledger (INSERT OR REPLACE) instead of duplicating it.
class HistoryBuckets {
public:
    // Each tier a positive number of seconds, no tier twice; throws Error otherwise.
    explicit HistoryBuckets(std::vector<int> tiers_s = {10, 60});

    // The buckets this sample closed: at most one per tier, in tier order.
    std::vector<HistoryPoint> add(const HistorySample& s);
    // Closes and returns the open buckets (at shutdown); the next sample opens new ones.
    std::vector<HistoryPoint> flush();
    // The open buckets as they stand, left open (to show the bucket in progress).
    std::vector<HistoryPoint> pending() const;

private:
    struct Open {
        int res_s = 0;
        bool open = false;
        std::int64_t t_ms = 0;
        double power_sum = 0;
        int power_n = 0;
        double temp_sum = 0;
        int temp_n = 0;
        std::optional<double> target_c;
        int slots_allowed = 0;
        int slots = 0;

        HistoryPoint point() const;
    };
    std::vector<Open> m_tiers;
};

struct HistoryRetention {
    int res_s;
    std::int64_t keep_ms;  // rows whose bucket starts before now - keep_ms are deleted
};

// 10 s buckets for 26 h, 1 min buckets for 8 days.
std::vector<HistoryRetention> default_retention();

// The resolution for a query over [since_ms, until_ms): 10 when the span is
// at most 26 h (what the 10 s tier keeps), else 60.
int pick_resolution(std::int64_t since_ms, std::int64_t until_ms);

// A site's series from its nodes' series (all at one resolution): points with
// the same t_ms are combined, power and slots summed, temperature the mean of
// the nodes that had one, target the first node's that had one. Ordered by t_ms.
// A node without a point at some t_ms (it was down) simply adds nothing there.
std::vector<HistoryPoint> merge_site_history(const std::vector<std::vector<HistoryPoint>>& per_node);

}  // namespace hearth
