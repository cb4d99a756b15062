// ReconnectPolicy: full-jitter backoff bounds, growth and cap, reset, endpoint rotation and which
// close codes are terminal, with an injected random source (no waiting); the wait a 4007 close
// names.
#include "reconnect/reconnectpolicy.h"
#include "transport/transport.h"

#include <gtest/gtest.h>

#include <set>

using parley::ReconnectOptions;
using parley::ReconnectPolicy;
using parley::Transport;
using namespace std::chrono_literals;

TEST(ReconnectPolicy, CeilingGrowsByTheFactorUpToTheCap)
{
    ReconnectPolicy policy(ReconnectOptions { true, 250ms, 2.0, 30000ms, 10000ms });
    EXPECT_EQ(policy.ceiling(1), 250ms);
    EXPECT_EQ(policy.ceiling(2), 500ms);
    EXPECT_EQ(policy.ceiling(3), 1000ms);
    EXPECT_EQ(policy.ceiling(7), 16000ms);
    EXPECT_EQ(policy.ceiling(8), 30000ms);
    EXPECT_EQ(policy.ceiling(50), 30000ms);
}

TEST(ReconnectPolicy, FullJitterSpansZeroToTheCeiling)
{
    double next = 0.0;
    ReconnectPolicy policy(ReconnectOptions { true, 100ms, 2.0, 1000ms, 0ms }, [&] { return next; });
    next = 0.0;
    EXPECT_EQ(policy.nextDelay(), 0ms);
    EXPECT_EQ(policy.attempt(), 1);
    next = 0.5;
    EXPECT_EQ(policy.nextDelay(), 100ms); // attempt 2: half of 200
    next = 0.999999;
    EXPECT_EQ(policy.nextDelay(), 399ms); // attempt 3: just under 400
    EXPECT_EQ(policy.attempt(), 3);
}

TEST(ReconnectPolicy, RealRandomStaysWithinBoundsAndSpreads)
{
    ReconnectPolicy policy(ReconnectOptions { true, 1000ms, 2.0, 1000ms, 0ms });
    std::set<qint64> distinct;
    for (int i = 0; i < 1000; ++i) {
        const auto delay = policy.nextDelay();
        ASSERT_GE(delay.count(), 0);
        ASSERT_LE(delay.count(), 1000);
        distinct.insert(delay.count());
    }
    // 1000 draws over 1001 values: a herd would show a handful; jitter shows hundreds.
    EXPECT_GT(distinct.size(), 400u);
}

TEST(ReconnectPolicy, ResetStartsOverAtTheFirstAttempt)
{
    ReconnectPolicy policy(ReconnectOptions { true, 100ms, 2.0, 10000ms, 0ms }, [] { return 0.999; });
    policy.nextDelay();
    policy.nextDelay();
    policy.nextDelay();
    EXPECT_EQ(policy.attempt(), 3);
    policy.reset();
    EXPECT_EQ(policy.attempt(), 0);
    EXPECT_LT(policy.nextDelay(), 100ms);
}

TEST(ReconnectPolicy, RotatesThroughTheEndpoints)
{
    ReconnectPolicy policy;
    EXPECT_EQ(policy.endpoint(3), 0);
    policy.rotate();
    EXPECT_EQ(policy.endpoint(3), 1);
    policy.rotate();
    policy.rotate();
    EXPECT_EQ(policy.endpoint(3), 0);
    EXPECT_EQ(policy.endpoint(1), 0);
    // reset() keeps the endpoint that worked.
    policy.rotate();
    policy.reset();
    EXPECT_EQ(policy.endpoint(3), 1);
}

TEST(ReconnectPolicy, TerminalCloseCodesAreNotRetried)
{
    EXPECT_FALSE(ReconnectPolicy::isRetryableClose(4001)); // unauthorized
    EXPECT_FALSE(ReconnectPolicy::isRetryableClose(4004)); // replaced
    for (int code : { 1000, 1001, 1006, 1009, 4000, 4002, 4003 }) {
        EXPECT_TRUE(ReconnectPolicy::isRetryableClose(code)) << code;
    }
}

// The wait a 4007 close names: parleyd ends its reasons with "retry after N s".
TEST(RetryAfterFromReasonTest, ReadsTheServersWaitAndBoundsIt)
{
    using std::chrono::seconds;
    EXPECT_EQ(Transport::retryAfterFromReason("too many connections from this address; retry "
                                              "after 5 s"),
        seconds(5));
    EXPECT_EQ(Transport::retryAfterFromReason("over capacity; retry after 30 s"), seconds(30));
    // No number: the documented default, or the caller's.
    EXPECT_EQ(Transport::retryAfterFromReason("over capacity"), seconds(5));
    EXPECT_EQ(Transport::retryAfterFromReason("", seconds(2)), seconds(2));
    // A server cannot keep a client away for days.
    EXPECT_EQ(Transport::retryAfterFromReason("retry after 999999 s"), Transport::kMaxRetryAfter);
}
