// RedisPresence against a real, throw-away redis-server: transitions are announced exactly at a
// user's first session and last one, reach every node, expire with the TTL, and queries read the
// online flags.
#include "presence/redispresence.h"
#include "presencetesthelpers.h"
#include "redis/redisclient.h"
#include "redis/redisreply.h"
#include "redisserver.h"

#include <QElapsedTimer>
#include <algorithm>
#include <gtest/gtest.h>

namespace parley::server::test {
namespace {

using Transition = PresenceManager::Transition;
using Rooms = std::vector<std::string>;

class RedisPresenceTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_redis.start()) << m_redis.output().toStdString(); }

    std::unique_ptr<RedisPresence> makeNode(
        std::int64_t ttlMs, TransitionLog& log, std::size_t maxRoomUsers = 1000)
    {
        auto node = std::make_unique<RedisPresence>(
            *RedisEndpoint::fromUrl(m_redis.url()), ttlMs, maxRoomUsers);
        log.attach(*node);
        node->start();
        EXPECT_TRUE(waitUntil([&] { return node->isHealthy(); }));
        return node;
    }

    //! One command's reply, through a link of the test's own.
    std::optional<RedisReply> redis(QList<QByteArray> args)
    {
        RedisClient client(*RedisEndpoint::fromUrl(m_redis.url()));
        client.start();
        if (!waitUntil([&] { return client.isConnected(); })) {
            return std::nullopt;
        }
        std::optional<RedisReply> reply;
        client.command(std::move(args), [&](const RedisReply& r) { reply = r; });
        waitUntil([&] { return reply.has_value(); });
        return reply;
    }

    parley::test::RedisServer m_redis;
};

//! How many transitions of `log` announce `online` to `room`.
long naming(const TransitionLog& log, const std::string& room, bool online)
{
    return std::count_if(log.seen.begin(), log.seen.end(), [&](const Transition& t) {
        return t.online == online
            && std::find(t.rooms.begin(), t.rooms.end(), room) != t.rooms.end();
    });
}

//! Waits until both logs hold a transition of `user` (the scripts of both nodes before it have
//! run: each node's calls run in order, and the channel is one total order).
bool bothSaw(TransitionLog& a, TransitionLog& b, const std::string& user)
{
    const auto saw = [&](const TransitionLog& log) {
        return std::any_of(
            log.seen.begin(), log.seen.end(), [&](const Transition& t) { return t.user == user; });
    };
    return waitUntil([&] { return saw(a) && saw(b); });
}

TEST_F(RedisPresenceTest, FirstSessionAndLastSessionAreTheTransitions)
{
    TransitionLog log;
    auto node = makeNode(60000, log);

    node->sessionAlive("n1/1", "alice", { "lobby" }, 0);
    const auto up = log.wait(0);
    ASSERT_TRUE(up);
    EXPECT_EQ(up->user, "alice");
    EXPECT_TRUE(up->online);
    EXPECT_EQ(up->rooms, Rooms { "lobby" });

    // A second session in a new room: only that room hears that alice is online.
    node->sessionAlive("n1/2", "alice", { "lobby", "dev" }, 0);
    const auto more = log.wait(1);
    ASSERT_TRUE(more);
    EXPECT_TRUE(more->online);
    EXPECT_EQ(more->rooms, Rooms { "dev" });

    // A refresh of a known session announces nothing.
    node->sessionAlive("n1/1", "alice", { "lobby" }, 0);
    auto answer = ask(*node, { "alice", "bob" });
    ASSERT_TRUE(answer);
    EXPECT_TRUE(answer->first);
    EXPECT_EQ(answer->second, (std::vector<bool> { true, false }));
    EXPECT_EQ(log.seen.size(), 2u);

    // The first session ends: alice is still online.
    node->sessionDown("n1/1", "alice");
    answer = ask(*node, { "alice" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { true });
    EXPECT_EQ(log.seen.size(), 2u);

    // The last one ends: offline, announced to its rooms.
    node->sessionDown("n1/2", "alice");
    const auto down = log.wait(2);
    ASSERT_TRUE(down);
    EXPECT_FALSE(down->online);
    EXPECT_EQ(down->rooms, (Rooms { "lobby", "dev" }));
    answer = ask(*node, { "alice" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { false });
}

TEST_F(RedisPresenceTest, EveryNodeHearsEveryTransition)
{
    TransitionLog logA;
    TransitionLog logB;
    auto nodeA = makeNode(60000, logA);
    auto nodeB = makeNode(60000, logB);

    nodeA->sessionAlive("a/1", "alice", { "lobby" }, 0);
    ASSERT_TRUE(logB.wait(0));
    EXPECT_TRUE(logB.seen[0].online);
    // Node B's own session of alice changes nothing: she is online already.
    nodeB->sessionAlive("b/1", "alice", { "lobby" }, 0);
    nodeA->sessionDown("a/1", "alice");
    auto answer = ask(*nodeB, { "alice" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { true });
    nodeB->sessionDown("b/1", "alice");
    const auto down = logA.wait(1);
    ASSERT_TRUE(down);
    EXPECT_FALSE(down->online);
    ASSERT_TRUE(logB.wait(1));
    EXPECT_EQ(logA.seen.size(), 2u);
}

TEST_F(RedisPresenceTest, SilentSessionExpiresWithinTtlPlusASweep)
{
    TransitionLog log;
    auto node = makeNode(1000, log);
    QElapsedTimer clock;
    clock.start();
    node->sessionAlive("n1/1", "carol", { "lobby" }, 0);
    ASSERT_TRUE(log.wait(0));
    // Never refreshed (a node that died, or a client silent since): the sweep ends it.
    const auto down = log.wait(1, 5000);
    ASSERT_TRUE(down);
    EXPECT_FALSE(down->online);
    EXPECT_GE(clock.elapsed(), 900);
    EXPECT_LE(clock.elapsed(), 1000 + 1500);
    const auto answer = ask(*node, { "carol" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { false });
}

TEST_F(RedisPresenceTest, QuietForLongerThanTheTtlIsNotAlive)
{
    TransitionLog log;
    auto node = makeNode(1000, log);
    node->sessionAlive("n1/1", "dave", { "lobby" }, 5000);
    const auto answer = ask(*node, { "dave" });
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->second, std::vector<bool> { false });
    EXPECT_TRUE(log.seen.empty());
}

TEST_F(RedisPresenceTest, QueryFailsWhileRedisIsDown)
{
    TransitionLog log;
    auto node = makeNode(60000, log);
    m_redis.kill();
    ASSERT_TRUE(waitUntil([&] { return !node->isHealthy(); }));
    const auto answer = ask(*node, { "alice" });
    ASSERT_TRUE(answer);
    EXPECT_FALSE(answer->first);
}

TEST_F(RedisPresenceTest, RoomsAboveTheLimitAreNotAnnouncedClusterWide)
{
    // A room's users are counted over every node: 60 users spread over two nodes make a room of
    // 60, far above the limit of 5, on both. The transitions' rooms are the fan-out targets.
    constexpr std::size_t kLimit = 5;
    constexpr int kUsers = 60;
    TransitionLog logA;
    TransitionLog logB;
    auto nodeA = makeNode(60000, logA, kLimit);
    auto nodeB = makeNode(60000, logB, kLimit);
    const auto nodeOf = [&](int i) { return i % 2 ? nodeB.get() : nodeA.get(); };
    for (int i = 0; i < kUsers; ++i) {
        nodeOf(i)->sessionAlive("n/" + std::to_string(i), "u" + std::to_string(i), { "big" }, 0);
    }
    nodeB->sessionAlive("b/u0", "u0", { "big" }, 0); // u0 on both nodes: one user of the room
    nodeA->sessionAlive("a/alice", "alice", { "big", "small" }, 0);
    nodeA->sessionAlive("a/s1", "sentinel-a1", { "s" }, 0);
    nodeB->sessionAlive("b/s1", "sentinel-b1", { "s" }, 0);
    ASSERT_TRUE(bothSaw(logA, logB, "sentinel-a1"));
    ASSERT_TRUE(bothSaw(logA, logB, "sentinel-b1"));
    for (const TransitionLog* log : { &logA, &logB }) {
        EXPECT_EQ(naming(*log, "big", true), long(kLimit)); // the first five, then silence
        EXPECT_EQ(naming(*log, "small", true), 1); // alice, only where she is in a small room
    }
    auto counts = redis({ "HGET", "parley:presence:rooms", "big" });
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->bytes(), "61");

    // Everybody but u0 and alice goes: only those leaving a room of at most five users, counted
    // before they leave (5, 4 and 3), are announced, whichever node they were on.
    for (int i = 1; i < kUsers; ++i) {
        nodeOf(i)->sessionDown("n/" + std::to_string(i), "u" + std::to_string(i));
    }
    nodeA->sessionDown("n/0", "u0"); // u0 keeps its session on node B: still in the room
    nodeA->sessionAlive("a/s2", "sentinel-a2", { "s" }, 0);
    nodeB->sessionAlive("b/s2", "sentinel-b2", { "s" }, 0);
    ASSERT_TRUE(bothSaw(logA, logB, "sentinel-a2"));
    ASSERT_TRUE(bothSaw(logA, logB, "sentinel-b2"));
    for (const TransitionLog* log : { &logA, &logB }) {
        EXPECT_EQ(naming(*log, "big", false), 3);
    }
    counts = redis({ "HGET", "parley:presence:rooms", "big" });
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->bytes(), "2");

    // The last ones leave: announced, and the room's count is gone (no key left behind).
    nodeB->sessionDown("b/u0", "u0");
    nodeA->sessionDown("a/alice", "alice");
    const std::size_t seenA = logA.seen.size();
    ASSERT_TRUE(waitUntil([&] { return logA.seen.size() == seenA + 2; }));
    EXPECT_EQ(naming(logA, "big", false), 5);
    counts = redis({ "HEXISTS", "parley:presence:rooms", "big" });
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->integer(), 0);
}

TEST_F(RedisPresenceTest, ExpiredSessionsLeaveTheRoomCounts)
{
    TransitionLog log;
    auto node = makeNode(1000, log, 5);
    node->sessionAlive("n/1", "carol", { "lobby", "dev" }, 0);
    ASSERT_TRUE(log.wait(0));
    const auto down = log.wait(1, 5000); // never refreshed: the sweep ends it
    ASSERT_TRUE(down);
    EXPECT_FALSE(down->online);
    EXPECT_EQ(down->rooms, (Rooms { "lobby", "dev" }));
    const auto left = redis({ "HLEN", "parley:presence:rooms" });
    ASSERT_TRUE(left);
    EXPECT_EQ(left->integer(), 0);
}

} // namespace
} // namespace parley::server::test
