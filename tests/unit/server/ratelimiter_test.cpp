// RateLimiter: a token bucket on an injected clock (no sleeps).
#include "session/ratelimiter.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TEST(RateLimiterTest, BurstThenRate)
{
    const std::uint32_t rate = 10;
    std::int64_t now = 1000;
    RateLimiter limiter(rate, now);
    int allowed = 0;
    for (int i = 0; i < 100; ++i) {
        allowed += limiter.tryTake(rate, now) ? 1 : 0;
    }
    EXPECT_EQ(allowed, 20); // burst is twice the rate
    now += 500; // half a second refills 5 tokens
    allowed = 0;
    for (int i = 0; i < 100; ++i) {
        allowed += limiter.tryTake(rate, now) ? 1 : 0;
    }
    EXPECT_EQ(allowed, 5);
    now += 100000; // a long pause refills only up to the burst
    allowed = 0;
    for (int i = 0; i < 100; ++i) {
        allowed += limiter.tryTake(rate, now) ? 1 : 0;
    }
    EXPECT_EQ(allowed, 20);
}

TEST(RateLimiterTest, SteadyRateIsNeverRefused)
{
    const std::uint32_t rate = 100;
    std::int64_t now = 0;
    RateLimiter limiter(rate, now);
    for (int i = 0; i < 1000; ++i) {
        now += 10; // exactly the allowed rate
        ASSERT_TRUE(limiter.tryTake(rate, now)) << i;
    }
}

} // namespace
} // namespace parley::server
