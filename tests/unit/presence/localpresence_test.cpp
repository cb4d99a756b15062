// LocalPresence: the single-node TTL map keeps the same contract as RedisPresence.
#include "common/clock.h"
#include "presence/localpresence.h"
#include "presencetesthelpers.h"

#include <algorithm>
#include <gtest/gtest.h>

namespace parley::server::test {
namespace {

using Rooms = std::vector<std::string>;

TEST(LocalPresenceTest, FirstSessionAndLastSessionAreTheTransitions)
{
    LocalPresence presence(60000, 1000);
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
    LocalPresence presence(1000, 1000);
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
    LocalPresence presence(60000, 1000);
    TransitionLog log;
    log.attach(presence);
    presence.sessionAlive("n/1", "erin", {}, 0);
    const auto answer = ask(presence, { "erin" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { true });
    EXPECT_TRUE(log.seen.empty());
}

TEST(LocalPresenceTest, RoomsAboveTheLimitAreNotAnnounced)
{
    // The transitions' rooms are the fan-out targets: a big room must drop out of them, or every
    // join costs a frame per member (N^2/2 to fill the room).
    constexpr std::size_t kLimit = 5;
    constexpr int kUsers = 60;
    LocalPresence presence(60000, kLimit);
    TransitionLog log;
    log.attach(presence);
    const auto naming = [&](const std::string& room, bool online) {
        return std::count_if(log.seen.begin(), log.seen.end(), [&](const auto& t) {
            return t.online == online
                && std::find(t.rooms.begin(), t.rooms.end(), room) != t.rooms.end();
        });
    };
    // Odd users went quiet 59 s ago: they expire within a second and the sweep ends them.
    for (int i = 0; i < kUsers; ++i) {
        presence.sessionAlive(
            "n/" + std::to_string(i), "u" + std::to_string(i), { "big" }, i % 2 ? 59000 : 0);
    }
    presence.sessionAlive("n/u0-b", "u0", { "big" }, 0); // one user, counted once
    presence.sessionAlive("n/alice", "alice", { "big", "small" }, 0);
    const auto barrier = ask(presence, { "alice" }); // the manager's queue is FIFO
    ASSERT_TRUE(barrier);
    EXPECT_EQ(naming("big", true), long(kLimit)); // the first five, then silence
    ASSERT_FALSE(log.seen.empty());
    EXPECT_EQ(log.seen.back().rooms, Rooms { "small" }); // alice: only where it is small

    // 31 users left after the sweep (30 even ones and alice): nothing announced. Then the even
    // ones but u0 go, one at a time: only those leaving a room of at most five users, counted
    // before they leave (5, 4 and 3 users: u54, u56, u58), are announced.
    const std::size_t before = log.seen.size();
    presence.sweep(monotonicMs() + 2000);
    for (int i = 2; i < kUsers; i += 2) {
        presence.sessionDown("n/" + std::to_string(i), "u" + std::to_string(i));
    }
    ASSERT_TRUE(ask(presence, { "u0" }));
    EXPECT_EQ(naming("big", false), 3);
    ASSERT_EQ(log.seen.size(), before + 3);
    EXPECT_EQ(log.seen[before].user, "u54");
    EXPECT_EQ(log.seen[before + 1].user, "u56");
    EXPECT_EQ(log.seen[before + 2].user, "u58");

    // Small again (u0, alice): a newcomer is announced, and u0 stays counted once while it has
    // a session left.
    presence.sessionDown("n/0", "u0");
    presence.sessionAlive("n/late", "late", { "big" }, 0);
    ASSERT_TRUE(ask(presence, { "late" }));
    ASSERT_EQ(log.seen.size(), before + 4);
    EXPECT_EQ(log.seen.back().user, "late");
    EXPECT_EQ(log.seen.back().rooms, Rooms { "big" });
}

TEST(LocalPresenceTest, LimitZeroAnnouncesNothing)
{
    LocalPresence presence(60000, 0);
    TransitionLog log;
    log.attach(presence);
    presence.sessionAlive("n/1", "alice", { "lobby" }, 0);
    presence.sessionDown("n/1", "alice");
    ASSERT_TRUE(ask(presence, { "alice" }));
    EXPECT_TRUE(log.seen.empty());
}

} // namespace
} // namespace parley::server::test
