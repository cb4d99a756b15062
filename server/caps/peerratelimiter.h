// PeerRateLimiter: a token bucket per peer address, for what must not be done at any rate by
// one client: opening HTTP sessions (POST /v1/session, --session-rate-per-ip; docs/security.md).
//
// `rate` tokens per second per address, at most kBurstSeconds worth saved up. Addresses are
// keyed like the connection caps (peerkey.h: IPv4, or the IPv6 /64). Driven by the caller's
// monotonic clock, so tests need no sleeps. Thread-safe: sharded maps, each under its own
// mutex. Memory: one small entry per address that took a token lately; prune() (the server's
// sweep) drops the buckets that have filled up again, which are as good as new. A rate of 0 is
// off.
#pragma once

#include "peerkey.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace parley::server {

class PeerRateLimiter {
public:
    static constexpr int kBurstSeconds = 5;
    static constexpr std::size_t kShards = 16;

    struct Verdict {
        bool allowed = true;
        //! When refused: whole seconds until a token is there again (at least 1).
        int retryAfterS = 0;
    };

    explicit PeerRateLimiter(std::uint32_t ratePerSecond)
        : m_rate(ratePerSecond)
    {
    }

    //! Takes one token of `peer`'s bucket at monotonic time `nowMs`.
    Verdict tryTake(const PeerKey& peer, std::int64_t nowMs);
    //! Drops the buckets that are full again at `nowMs`.
    void prune(std::int64_t nowMs);
    //! Addresses with a bucket now.
    std::size_t size() const;
    std::uint32_t rate() const { return m_rate; }

private:
    struct Bucket {
        double tokens = 0;
        std::int64_t lastMs = 0;
    };
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<PeerKey, Bucket, PeerKeyHash> buckets;
    };

    double burst() const { return double(m_rate) * kBurstSeconds; }
    //! The bucket's tokens at `nowMs` (refilled, at most the burst).
    double refilled(const Bucket& bucket, std::int64_t nowMs) const;
    Shard& shardOf(const PeerKey& peer) { return m_shards[(PeerKeyHash {}(peer) >> 48) % kShards]; }

    const std::uint32_t m_rate;
    std::array<Shard, kShards> m_shards;
};

} // namespace parley::server
