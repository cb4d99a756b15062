#include "peerratelimiter.h"

#include <algorithm>
#include <cmath>

namespace parley::server {

double PeerRateLimiter::refilled(const Bucket& bucket, std::int64_t nowMs) const
{
    const std::int64_t elapsed = std::max<std::int64_t>(0, nowMs - bucket.lastMs);
    return std::min(burst(), bucket.tokens + double(elapsed) * double(m_rate) / 1000.0);
}

PeerRateLimiter::Verdict PeerRateLimiter::tryTake(const PeerKey& peer, std::int64_t nowMs)
{
    if (m_rate == 0) {
        return {};
    }
    Shard& shard = shardOf(peer);
    const std::lock_guard lock(shard.mutex);
    auto [it, inserted] = shard.buckets.try_emplace(peer, Bucket { burst(), nowMs });
    Bucket& bucket = it->second;
    bucket.tokens = refilled(bucket, nowMs);
    bucket.lastMs = std::max(bucket.lastMs, nowMs);
    if (bucket.tokens < 1.0) {
        const double seconds = (1.0 - bucket.tokens) / double(m_rate);
        return { false, std::max(1, int(std::ceil(seconds))) };
    }
    bucket.tokens -= 1.0;
    return {};
}

void PeerRateLimiter::prune(std::int64_t nowMs)
{
    if (m_rate == 0) {
        return;
    }
    for (Shard& shard : m_shards) {
        const std::lock_guard lock(shard.mutex);
        std::erase_if(shard.buckets,
            [&](const auto& item) { return refilled(item.second, nowMs) >= burst(); });
    }
}

std::size_t PeerRateLimiter::size() const
{
    std::size_t total = 0;
    for (const Shard& shard : m_shards) {
        const std::lock_guard lock(shard.mutex);
        total += shard.buckets.size();
    }
    return total;
}

} // namespace parley::server
