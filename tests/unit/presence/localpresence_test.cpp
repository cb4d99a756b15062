// LocalPresence: the single-node TTL map keeps the same contract as RedisPresence.
#include "common/clock.h"
#include "presence/localpresence.h"
#include "presencetesthelpers.h"

#include <gtest/gtest.h>

namespace parley::server::test {
namespace {

using Rooms = std::vector<std::string>;

TEST(LocalPresenceTest, FirstSessionAndLastSessionAreTheTransitions)
{
    LocalPresence presence(60000);
    TransitionLog log;
    log.attach(presence);
    presence.sessionAlive("n/1", "alice", { "lobby" }, 0);
    presence.sessionAlive("n/2", "alice", { "lobby", "dev" }, 0);
    presence.sessionAlive("n/1", "alice", { "lobby" }, 0);
    presence.sessionDown("n/1", "alice");
    auto answer = ask(presence, { "alice", "bob" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, (std::vector<bool> { true, false }));
    ASSERT_EQ(log.seen.size(), 2u);
    EXPECT_EQ(log.seen[0].rooms, Rooms { "lobby" });
    EXPECT_EQ(log.seen[1].rooms, Rooms { "dev" });

    presence.sessionDown("n/2", "alice");
    const auto down = log.wait(2);
    ASSERT_TRUE(down);
    EXPECT_FALSE(down->online);
    EXPECT_EQ(down->rooms, (Rooms { "lobby", "dev" }));
}

TEST(LocalPresenceTest, SweepEndsExpiredSessions)
{
    LocalPresence presence(1000);
    TransitionLog log;
    log.attach(presence);
    presence.sessionAlive("n/1", "carol", { "lobby" }, 0);
    ASSERT_TRUE(log.wait(0));
    presence.sweep(monotonicMs() + 500);
    EXPECT_EQ(log.seen.size(), 1u);
    presence.sweep(monotonicMs() + 1100);
    ASSERT_EQ(log.seen.size(), 2u);
    EXPECT_FALSE(log.seen[1].online);
    const auto answer = ask(presence, { "carol" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { false });
}

TEST(LocalPresenceTest, SessionWithoutRoomsIsOnlineButAnnouncedToNobody)
{
    LocalPresence presence(60000);
    TransitionLog log;
    log.attach(presence);
    presence.sessionAlive("n/1", "erin", {}, 0);
    const auto answer = ask(presence, { "erin" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { true });
    EXPECT_TRUE(log.seen.empty());
}

} // namespace
} // namespace parley::server::test
