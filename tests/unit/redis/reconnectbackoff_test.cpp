// ReconnectBackoff: the delay schedule, with an injected random source.
#include "redis/reconnectbackoff.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <vector>

namespace parley::server {
namespace {

std::vector<int> schedule(double random, int count)
{
    ReconnectBackoff backoff(100, 5000, [random] { return random; });
    std::vector<int> delays;
    for (int i = 0; i < count; ++i) {
        delays.push_back(backoff.nextDelayMs());
    }
    return delays;
}

TEST(ReconnectBackoffTest, DoublesUpToTheCapWithinTheJitterWindow)
{
    // cap(n) = min(5000, 100 * 2^n); the delay lies in [cap/2, cap].
    EXPECT_EQ(schedule(1.0, 8), (std::vector<int> { 100, 200, 400, 800, 1600, 3200, 5000, 5000 }));
    EXPECT_EQ(schedule(0.0, 8), (std::vector<int> { 50, 100, 200, 400, 800, 1600, 2500, 2500 }));
    EXPECT_EQ(schedule(0.5, 3), (std::vector<int> { 75, 150, 300 }));
}

TEST(ReconnectBackoffTest, ResetStartsOver)
{
    ReconnectBackoff backoff(100, 5000, [] { return 1.0; });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    EXPECT_EQ(backoff.failures(), 2);
    EXPECT_EQ(backoff.nextDelayMs(), 400);
    backoff.reset();
    EXPECT_EQ(backoff.failures(), 0);
    EXPECT_EQ(backoff.nextDelayMs(), 100);
}

TEST(ReconnectBackoffTest, NeverZeroNeverAboveMaxEvenAfterManyFailures)
{
    ReconnectBackoff tiny(1, 1, [] { return 0.0; });
    EXPECT_EQ(tiny.nextDelayMs(), 1);

    ReconnectBackoff backoff(100, 5000);
    for (int i = 0; i < 200; ++i) {
        const int delay = backoff.nextDelayMs();
        ASSERT_GE(delay, 1);
        ASSERT_LE(delay, 5000);
        if (i >= 10) {
            ASSERT_GE(delay, 2500); // capped window [max/2, max]
        }
    }
}

TEST(ReconnectBackoffTest, DefaultRandomSpreadsClientsThatFailTogether)
{
    // Many clients losing Redis at the same moment must not all retry in the same millisecond.
    std::vector<int> firstRetry;
    for (int i = 0; i < 50; ++i) {
        ReconnectBackoff backoff(1000, 30000);
        firstRetry.push_back(backoff.nextDelayMs());
    }
    std::sort(firstRetry.begin(), firstRetry.end());
    const auto distinct = std::unique(firstRetry.begin(), firstRetry.end()) - firstRetry.begin();
    EXPECT_GT(distinct, 25);
}

} // namespace
} // namespace parley::server
