#include "latencyhistogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace parley::bench {

namespace {

constexpr int kSubBits = 7;
constexpr std::uint64_t kSub = 1u << kSubBits; // sub-buckets per power of two
constexpr int kMaxBits = 40; // values up to 2^40 ns
constexpr std::size_t kBuckets = (kMaxBits - kSubBits + 2) * kSub;

} // namespace

LatencyHistogram::LatencyHistogram()
    : m_buckets(kBuckets, 0)
{
}

std::size_t LatencyHistogram::indexOf(std::uint64_t v)
{
    if (v < kSub) {
        return static_cast<std::size_t>(v);
    }
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    const std::size_t index = static_cast<std::size_t>(shift + 1) * kSub + ((v >> shift) - kSub);
    return std::min(index, kBuckets - 1);
}

std::uint64_t LatencyHistogram::highestEquivalent(std::size_t index)
{
    if (index < kSub) {
        return index;
    }
    const std::uint64_t shift = index / kSub - 1;
    const std::uint64_t sub = index % kSub;
    return ((kSub + sub) << shift) + ((std::uint64_t(1) << shift) - 1);
}

void LatencyHistogram::record(std::int64_t ns)
{
    const std::uint64_t v = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    ++m_buckets[indexOf(v)];
    const auto value = static_cast<std::int64_t>(v);
    if (m_count == 0 || value < m_min) {
        m_min = value;
    }
    m_max = std::max(m_max, value);
    ++m_count;
    m_sum += v;
}

void LatencyHistogram::merge(const LatencyHistogram& other)
{
    if (other.m_count == 0) {
        return;
    }
    for (std::size_t i = 0; i < kBuckets; ++i) {
        m_buckets[i] += other.m_buckets[i];
    }
    m_min = m_count == 0 ? other.m_min : std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
    m_count += other.m_count;
    m_sum += other.m_sum;
}

std::int64_t LatencyHistogram::valueAtPercentile(double p) const
{
    if (m_count == 0) {
        return 0;
    }
    p = std::clamp(p, 0.0, 100.0);
    // The rank of the value at percentile p, 1-based: at least 1, at most count.
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(m_count)));
    rank = std::clamp<std::uint64_t>(rank, 1, m_count);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += m_buckets[i];
        if (seen >= rank) {
            return std::min<std::int64_t>(static_cast<std::int64_t>(highestEquivalent(i)), m_max);
        }
    }
    return m_max;
}

nlohmann::json LatencyHistogram::toJson() const
{
    nlohmann::json buckets = nlohmann::json::array();
    for (std::size_t i = 0; i < kBuckets; ++i) {
        if (m_buckets[i] != 0) {
            buckets.push_back({ i, m_buckets[i] });
        }
    }
    return { { "count", m_count }, { "min", min() }, { "max", m_max }, { "sum", m_sum },
        { "buckets", buckets } };
}

LatencyHistogram LatencyHistogram::fromJson(const nlohmann::json& j)
{
    LatencyHistogram h;
    for (const auto& b : j.at("buckets")) {
        const auto index = b.at(0).get<std::size_t>();
        if (index < kBuckets) {
            h.m_buckets[index] += b.at(1).get<std::uint64_t>();
        }
    }
    h.m_count = j.at("count").get<std::uint64_t>();
    h.m_min = j.at("min").get<std::int64_t>();
    h.m_max = j.at("max").get<std::int64_t>();
    h.m_sum = j.at("sum").get<std::uint64_t>();
    return h;
}

nlohmann::json LatencyHistogram::summaryMs() const
{
    const auto ms = [](std::int64_t ns) { return std::round(ns / 1000.0) / 1000.0; };
    return { { "count", m_count }, { "mean", std::round(mean() / 1000.0) / 1000.0 },
        { "p50", ms(valueAtPercentile(50)) }, { "p90", ms(valueAtPercentile(90)) },
        { "p99", ms(valueAtPercentile(99)) }, { "p99_9", ms(valueAtPercentile(99.9)) },
        { "max", ms(m_max) } };
}

} // namespace parley::bench
