// `--redis-history-age`: messages older than the age leave the Redis history when the room gets
// its next message, and a client resuming from before them is told the gap (recovered: false).
#include "rawclient.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QElapsedTimer>
#include <gtest/gtest.h>

namespace parley::test {
namespace {

TEST(ClusterHistoryAgeTest, OldMessagesAreTrimmedOnTheNextPublish)
{
    RedisServer redis;
    ASSERT_TRUE(redis.start()) << redis.output().toStdString();
    ServerProcess node({ "--redis", redis.url(), "--redis-history-age", "1" });
    ASSERT_TRUE(node.start()) << node.output().toStdString();

    RawClient alice(node.webSocketUrl());
    ASSERT_TRUE(alice.open());
    ASSERT_TRUE(alice.hello("alice"));
    const auto joined = alice.join("lobby");
    ASSERT_TRUE(joined);
    ASSERT_TRUE(alice.sendMessage("lobby", "c1", "old one"));
    ASSERT_TRUE(alice.sendMessage("lobby", "c2", "old two"));

    // Let the two messages age past one second (waiting for time itself, not for an event).
    QElapsedTimer clock;
    clock.start();
    RawClient::waitUntil([&] { return clock.elapsed() > 1500; }, 3000);
    const auto fresh = alice.sendMessage("lobby", "c3", "fresh");
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->seq, 3u);

    const auto page = alice.history("lobby", std::nullopt, std::nullopt, 50);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->messages.size(), 1u);
    EXPECT_EQ(page->messages[0].seq, 3u);

    RawClient bob(node.webSocketUrl());
    ASSERT_TRUE(bob.open());
    ASSERT_TRUE(bob.hello("bob", { { "lobby", { joined->cursor.epoch, 0 } } }));
    const auto recovered = bob.take<protocol::Recovered>();
    ASSERT_TRUE(recovered);
    EXPECT_FALSE(recovered->recovered);
    EXPECT_EQ(recovered->missingFrom, 1u);
    EXPECT_EQ(recovered->missingTo, 2u);
}

} // namespace
} // namespace parley::test
