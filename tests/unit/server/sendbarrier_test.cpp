// SendBarrier: only the first refused send lifts it, it survives the head being refused again,
// and a head given up for long enough stops holding the room.
#include "session/sendbarrier.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TEST(SendBarrier, OnlyTheFirstRefusedSendLiftsIt)
{
    SendBarrier barrier(protocol::ErrorCode::RateLimited, "m1", 1000);
    EXPECT_EQ(barrier.code(), protocol::ErrorCode::RateLimited);
    barrier.refused("m2", 1001); // was on the wire behind m1
    barrier.refused("m3", 1002);
    EXPECT_FALSE(barrier.isLiftedBy("m2", 1100));
    EXPECT_FALSE(barrier.isLiftedBy("m3", 1100));
    EXPECT_FALSE(barrier.isLiftedBy("m4", 1100));
    EXPECT_TRUE(barrier.isLiftedBy("m1", 1100));
}

TEST(SendBarrier, AHeadGivenUpStopsHoldingTheRoom)
{
    SendBarrier barrier(protocol::ErrorCode::Overloaded, "m1", 0);
    barrier.refused("m2", 5);
    EXPECT_FALSE(barrier.isLiftedBy("m2", SendBarrier::kHeadTimeoutMs - 1));
    EXPECT_TRUE(barrier.isLiftedBy("m2", SendBarrier::kHeadTimeoutMs));
}

TEST(SendBarrier, AHeadStillBeingRetriedKeepsItsPlace)
{
    SendBarrier barrier(protocol::ErrorCode::RateLimited, "m1", 0);
    // The client keeps resending m1 and it keeps being refused: the timeout counts from the last
    // refusal, so m2 cannot pass while m1 is still wanted.
    barrier.refused("m1", 20000);
    barrier.refused("m2", 20001);
    EXPECT_FALSE(barrier.isLiftedBy("m2", SendBarrier::kHeadTimeoutMs + 100));
    EXPECT_TRUE(barrier.isLiftedBy("m2", 20000 + SendBarrier::kHeadTimeoutMs));
    EXPECT_TRUE(barrier.isLiftedBy("m1", SendBarrier::kHeadTimeoutMs + 100));
}

} // namespace
} // namespace parley::server
