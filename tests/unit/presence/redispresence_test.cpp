// RedisPresence against a real, throw-away redis-server: transitions are announced exactly at a
// user's first session and last one, reach every node, expire with the TTL, and queries read the
// online flags.
#include "presence/redispresence.h"
#include "presencetesthelpers.h"
#include "redisserver.h"

#include <QElapsedTimer>
#include <gtest/gtest.h>

namespace parley::server::test {
namespace {

using Transition = PresenceManager::Transition;
using Rooms = std::vector<std::string>;

class RedisPresenceTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_redis.start()) << m_redis.output().toStdString(); }

    std::unique_ptr<RedisPresence> makeNode(std::int64_t ttlMs, TransitionLog& log)
    {
        auto node = std::make_unique<RedisPresence>(*RedisEndpoint::fromUrl(m_redis.url()), ttlMs);
        log.attach(*node);
        node->start();
        EXPECT_TRUE(waitUntil([&] { return node->isHealthy(); }));
        return node;
    }

    parley::test::RedisServer m_redis;
};

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

} // namespace
} // namespace parley::server::test
