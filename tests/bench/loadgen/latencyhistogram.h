// A log-linear latency histogram in the spirit of HdrHistogram: exact below 256 ns, then 128
// linear sub-buckets per power of two (relative error < 0.8%), up to ~2^40 ns (18 minutes).
// Fixed size (about 35 KiB), O(1) record, mergeable across threads and processes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace parley::bench {

class LatencyHistogram {
public:
    LatencyHistogram();

    //! Records one value in nanoseconds. Negative values count as 0; values past the range
    //! land in the last bucket (max() stays exact).
    void record(std::int64_t ns);
    void merge(const LatencyHistogram& other);

    std::uint64_t count() const { return m_count; }
    std::int64_t max() const { return m_max; }
    std::int64_t min() const { return m_count ? m_min : 0; }
    double mean() const { return m_count ? static_cast<double>(m_sum) / m_count : 0.0; }

    //! The value at percentile p (0..100): the highest value equivalent to the bucket that
    //! holds the p-th percentile, capped at max(). 0 when empty.
    std::int64_t valueAtPercentile(double p) const;

    //! Sparse form for results files and for the pipe between worker and coordinator.
    nlohmann::json toJson() const;
    static LatencyHistogram fromJson(const nlohmann::json& j);

    //! {count, mean, p50, p90, p99, p99_9, max} in milliseconds, for reports.
    nlohmann::json summaryMs() const;

private:
    static std::size_t indexOf(std::uint64_t v);
    static std::uint64_t highestEquivalent(std::size_t index);

    std::vector<std::uint64_t> m_buckets;
    std::uint64_t m_count = 0;
    std::int64_t m_min = 0;
    std::int64_t m_max = 0;
    // Sum in nanoseconds; 2^64 ns is 584 years of latency, no overflow in practice.
    std::uint64_t m_sum = 0;
};

} // namespace parley::bench
