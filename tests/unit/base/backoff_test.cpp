// Backoff: the one retry schedule, in each jitter mode, with an injected random source.
#include "base/backoff.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <vector>

namespace parley {
namespace {

using std::chrono::milliseconds;

std::vector<long long> delays(BackoffSchedule schedule, double random, int count)
{
    Backoff backoff(schedule, [random] { return random; });
    std::vector<long long> out;
    for (int i = 0; i < count; ++i) {
        out.push_back(backoff.next().count());
    }
    return out;
}

constexpr BackoffSchedule kDoubling { milliseconds(100), milliseconds(5000), 2.0, Jitter::None };

BackoffSchedule with(Jitter jitter, BackoffSchedule schedule = kDoubling)
{
    schedule.jitter = jitter;
    return schedule;
}

TEST(BackoffTest, CeilingGrowsByTheFactorUpToTheMaximum)
{
    EXPECT_EQ(delays(kDoubling, 0.3, 8),
        (std::vector<long long> { 100, 200, 400, 800, 1600, 3200, 5000, 5000 }));
    const BackoffSchedule tripling { milliseconds(10), milliseconds(1000), 3.0, Jitter::None };
    EXPECT_EQ(delays(tripling, 0.0, 6), (std::vector<long long> { 10, 30, 90, 270, 810, 1000 }));
    EXPECT_EQ(kDoubling.ceiling(0), milliseconds(100)); // before the first attempt: the first
    EXPECT_EQ(kDoubling.ceiling(100000), milliseconds(5000)); // no overflow, still the cap
}

TEST(BackoffTest, FullJitterDrawsFromZeroToTheCeiling)
{
    EXPECT_EQ(delays(with(Jitter::Full), 0.0, 4), (std::vector<long long> { 0, 0, 0, 0 }));
    EXPECT_EQ(delays(with(Jitter::Full), 1.0, 4), (std::vector<long long> { 100, 200, 400, 800 }));
    EXPECT_EQ(delays(with(Jitter::Full), 0.5, 3), (std::vector<long long> { 50, 100, 200 }));
}

TEST(BackoffTest, EqualJitterDrawsFromHalfTheCeilingAndIsNeverZero)
{
    EXPECT_EQ(delays(with(Jitter::Equal), 0.0, 8),
        (std::vector<long long> { 50, 100, 200, 400, 800, 1600, 2500, 2500 }));
    EXPECT_EQ(delays(with(Jitter::Equal), 1.0, 3), (std::vector<long long> { 100, 200, 400 }));
    EXPECT_EQ(delays(with(Jitter::Equal), 0.5, 3), (std::vector<long long> { 75, 150, 300 }));
    const BackoffSchedule tiny { milliseconds(1), milliseconds(1), 2.0, Jitter::Equal };
    EXPECT_EQ(delays(tiny, 0.0, 2), (std::vector<long long> { 1, 1 }));
    const BackoffSchedule zero { milliseconds(0), milliseconds(0), 2.0, Jitter::Equal };
    EXPECT_EQ(delays(zero, 0.0, 1), (std::vector<long long> { 1 }));
}

TEST(BackoffTest, RandomOutsideTheUnitIntervalIsClamped)
{
    EXPECT_EQ(delays(with(Jitter::Full), 7.0, 1), (std::vector<long long> { 100 }));
    EXPECT_EQ(delays(with(Jitter::Full), -1.0, 1), (std::vector<long long> { 0 }));
}

TEST(BackoffTest, ResetStartsOverAndAttemptsAreCounted)
{
    Backoff backoff(kDoubling);
    EXPECT_EQ(backoff.attempts(), 0);
    backoff.next();
    backoff.next();
    EXPECT_EQ(backoff.attempts(), 2);
    EXPECT_EQ(backoff.next(), milliseconds(400));
    backoff.reset();
    EXPECT_EQ(backoff.attempts(), 0);
    EXPECT_EQ(backoff.next(), milliseconds(100));
}

TEST(BackoffTest, ManyAttemptsStayWithinTheBounds)
{
    Backoff backoff(with(Jitter::Equal));
    for (int i = 0; i < 200; ++i) {
        const long long delay = backoff.next().count();
        ASSERT_GE(delay, 1);
        ASSERT_LE(delay, 5000);
        if (i >= 10) {
            ASSERT_GE(delay, 2500); // capped window [max/2, max]
        }
    }
}

TEST(BackoffTest, TheDefaultRandomSpreadsPeersThatFailTogether)
{
    // Many peers losing the same server at once must not all retry in the same millisecond.
    std::vector<long long> first;
    for (int i = 0; i < 50; ++i) {
        Backoff backoff({ milliseconds(1000), milliseconds(30000), 2.0, Jitter::Equal });
        first.push_back(backoff.next().count());
    }
    std::sort(first.begin(), first.end());
    const auto distinct = std::unique(first.begin(), first.end()) - first.begin();
    EXPECT_GT(distinct, 25);
}

} // namespace
} // namespace parley
