// RedisSubscriber against a real redis-server: delivery, patterns, the set semantics of
// subscribe/unsubscribe, resubscription after an outage, and dead-link detection.
#include "redis/redissubscriber.h"
#include "redistesthelpers.h"

#include <QSignalSpy>
#include <gtest/gtest.h>
#include <memory>
#include <utility>
#include <vector>

namespace parley::server::test {
namespace {

RedisSubscriber::Options fastSubscriberOptions()
{
    RedisSubscriber::Options options;
    options.connectTimeoutMs = 1000;
    options.confirmTimeoutMs = 2000;
    options.reconnectInitialMs = 20;
    options.reconnectMaxMs = 200;
    return options;
}

class RedisSubscriberTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_server.start()) << m_server.output().toStdString();
        m_publisher = std::make_unique<RedisClient>(endpointOf(m_server), fastClientOptions());
        QSignalSpy connected(m_publisher.get(), &RedisClient::connected);
        m_publisher->start();
        ASSERT_TRUE(connected.wait(5000));
        m_subscriber
            = std::make_unique<RedisSubscriber>(endpointOf(m_server), fastSubscriberOptions());
        QObject::connect(m_subscriber.get(), &RedisSubscriber::messageReceived,
            [this](const QByteArray& channel, const QByteArray& payload) {
                m_messages.emplace_back(channel, payload);
            });
    }

    //! Subscribes and waits for Redis's confirmation.
    bool subscribeAndWait(const QByteArray& channel)
    {
        m_subscriber->subscribe(channel);
        return waitUntil([&] { return m_subscriber->isSubscribed(channel); });
    }

    bool startAndWait()
    {
        QSignalSpy connected(m_subscriber.get(), &RedisSubscriber::connected);
        m_subscriber->start();
        return connected.wait(5000);
    }

    //! PUBLISH through the publisher client; returns the number of receivers Redis reports.
    qint64 publish(const QByteArray& channel, const QByteArray& payload)
    {
        const std::optional<RedisReply> reply = run(*m_publisher, { "PUBLISH", channel, payload });
        return reply && reply->isInteger() ? reply->integer() : -1;
    }

    bool waitForMessages(size_t count)
    {
        return waitUntil([&] { return m_messages.size() >= count; });
    }

    parley::test::RedisServer m_server;
    std::unique_ptr<RedisClient> m_publisher;
    std::unique_ptr<RedisSubscriber> m_subscriber;
    std::vector<std::pair<QByteArray, QByteArray>> m_messages;
};

TEST_F(RedisSubscriberTest, SubscribeThenPublishDelivers)
{
    ASSERT_TRUE(startAndWait());
    QSignalSpy subscribed(m_subscriber.get(), &RedisSubscriber::subscribed);
    ASSERT_TRUE(subscribeAndWait("room:1"));
    EXPECT_EQ(subscribed.count(), 1);
    EXPECT_EQ(subscribed.first().first().toByteArray(), "room:1");

    const QByteArray payload("binary\0payload\r\n", 16);
    EXPECT_EQ(publish("room:1", payload), 1);
    EXPECT_EQ(publish("room:2", "not for us"), 0);
    EXPECT_EQ(publish("room:1", "second"), 1);
    ASSERT_TRUE(waitForMessages(2));
    EXPECT_EQ(m_messages[0].first, "room:1");
    EXPECT_TRUE(m_messages[0].second == payload);
    EXPECT_EQ(m_messages[1].second, "second");
}

TEST_F(RedisSubscriberTest, ChannelsSubscribedBeforeStartAreSubscribedOnConnect)
{
    m_subscriber->subscribe("early");
    EXPECT_TRUE(m_subscriber->hasChannel("early"));
    EXPECT_FALSE(m_subscriber->isSubscribed("early"));
    QSignalSpy subscribed(m_subscriber.get(), &RedisSubscriber::subscribed);
    m_subscriber->start();
    ASSERT_TRUE(subscribed.wait(5000));
    EXPECT_EQ(publish("early", "hello"), 1);
    ASSERT_TRUE(waitForMessages(1));
    EXPECT_EQ(m_messages[0].second, "hello");
}

TEST_F(RedisSubscriberTest, PatternSubscriptionDelivers)
{
    ASSERT_TRUE(startAndWait());
    QSignalSpy patternSubscribed(m_subscriber.get(), &RedisSubscriber::patternSubscribed);
    QSignalSpy patternMessages(m_subscriber.get(), &RedisSubscriber::patternMessageReceived);
    m_subscriber->subscribePattern("node:*");
    ASSERT_TRUE(patternSubscribed.wait(5000));
    EXPECT_EQ(publish("node:a", "direct"), 1);
    ASSERT_TRUE(patternMessages.count() > 0 || patternMessages.wait(5000));
    const QList<QVariant> args = patternMessages.first();
    EXPECT_EQ(args.at(0).toByteArray(), "node:*");
    EXPECT_EQ(args.at(1).toByteArray(), "node:a");
    EXPECT_EQ(args.at(2).toByteArray(), "direct");
}

TEST_F(RedisSubscriberTest, SubscribeAndUnsubscribeAreIdempotentSetOperations)
{
    ASSERT_TRUE(startAndWait());
    QSignalSpy subscribed(m_subscriber.get(), &RedisSubscriber::subscribed);
    m_subscriber->subscribe("a");
    m_subscriber->subscribe("a");
    ASSERT_TRUE(subscribeAndWait("b"));
    ASSERT_TRUE(m_subscriber->isSubscribed("a"));
    EXPECT_EQ(subscribed.count(), 2); // "a" once, "b" once

    // Subscribed twice, delivered once.
    EXPECT_EQ(publish("a", "1"), 1);
    // Received before the unsubscribe below (afterwards the subscriber rightly drops it).
    ASSERT_TRUE(waitForMessages(1));
    // One unsubscribe is enough (no reference counting), and a second one is harmless.
    m_subscriber->unsubscribe("a");
    m_subscriber->unsubscribe("a");
    EXPECT_FALSE(m_subscriber->hasChannel("a"));
    publish("a", "2"); // Redis may or may not still route it: the subscriber must drop it
    EXPECT_EQ(publish("b", "marker"), 1);
    // Messages on one connection arrive in order, so once "marker" is here, "2" would have been
    // too.
    ASSERT_TRUE(waitForMessages(2));
    ASSERT_EQ(m_messages.size(), 2u);
    EXPECT_EQ(m_messages[0], std::make_pair(QByteArray("a"), QByteArray("1")));
    EXPECT_EQ(m_messages[1], std::make_pair(QByteArray("b"), QByteArray("marker")));
    // And Redis itself drops the subscription once it has read the UNSUBSCRIBE; whatever it
    // still routed until then is dropped by the subscriber.
    ASSERT_TRUE(waitUntil([&] { return publish("a", "3") == 0; }));
    EXPECT_EQ(publish("b", "marker 2"), 1);
    ASSERT_TRUE(waitForMessages(3));
    ASSERT_EQ(m_messages.size(), 3u);
    EXPECT_EQ(m_messages[2], std::make_pair(QByteArray("b"), QByteArray("marker 2")));
}

TEST_F(RedisSubscriberTest, ResubscribesAfterRedisRestartAndReceivesAgain)
{
    ASSERT_TRUE(startAndWait());
    ASSERT_TRUE(subscribeAndWait("room:7"));
    QSignalSpy disconnected(m_subscriber.get(), &RedisSubscriber::disconnected);
    QSignalSpy subscribed(m_subscriber.get(), &RedisSubscriber::subscribed);

    m_server.kill();
    ASSERT_TRUE(disconnected.wait(5000));
    EXPECT_FALSE(m_subscriber->isConnected());
    EXPECT_FALSE(m_subscriber->isSubscribed("room:7"));
    // Changes while down are applied on reconnect.
    m_subscriber->subscribe("room:8");

    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    ASSERT_TRUE(waitUntil(
        [&] {
            return m_subscriber->isSubscribed("room:7") && m_subscriber->isSubscribed("room:8");
        },
        10000));
    EXPECT_EQ(subscribed.count(), 2);
    ASSERT_TRUE(waitUntil([&] { return m_publisher->isConnected(); }, 10000));

    EXPECT_EQ(publish("room:7", "after restart"), 1);
    EXPECT_EQ(publish("room:8", "new channel"), 1);
    ASSERT_TRUE(waitForMessages(2));
    EXPECT_EQ(m_messages[0], std::make_pair(QByteArray("room:7"), QByteArray("after restart")));
    EXPECT_EQ(m_messages[1], std::make_pair(QByteArray("room:8"), QByteArray("new channel")));
}

TEST_F(RedisSubscriberTest, HealthProbeDetectsAnUnresponsiveServer)
{
    // A server that stops answering (but keeps the TCP connection open) is only noticed by the
    // probe: its confirmation misses the deadline, the link is reset, and it comes back.
    RedisSubscriber::Options options = fastSubscriberOptions();
    options.healthCheckIntervalMs = 100;
    options.confirmTimeoutMs = 300;
    m_subscriber = std::make_unique<RedisSubscriber>(endpointOf(m_server), options);
    QSignalSpy errors(m_subscriber.get(), &RedisSubscriber::errorOccurred);
    QSignalSpy disconnected(m_subscriber.get(), &RedisSubscriber::disconnected);
    QSignalSpy subscribed(m_subscriber.get(), &RedisSubscriber::subscribed);
    ASSERT_TRUE(startAndWait());
    ASSERT_TRUE(subscribeAndWait("watched"));

    std::optional<RedisReply> slept;
    m_publisher->command(
        { "DEBUG", "SLEEP", "1.5" }, [&](const RedisReply& reply) { slept = reply; });
    ASSERT_TRUE(disconnected.wait(3000));
    EXPECT_TRUE(errors.count() > 0);
    EXPECT_TRUE(errors.first().first().toString().contains(QLatin1String("confirmed")))
        << errors.first().first().toString().toStdString();
    ASSERT_TRUE(waitUntil([&] { return m_subscriber->isSubscribed("watched"); }, 10000));
    EXPECT_GE(subscribed.count(), 2);
}

TEST_F(RedisSubscriberTest, StopKeepsTheSetForTheNextStart)
{
    ASSERT_TRUE(startAndWait());
    ASSERT_TRUE(subscribeAndWait("kept"));
    QSignalSpy disconnected(m_subscriber.get(), &RedisSubscriber::disconnected);
    m_subscriber->stop();
    EXPECT_EQ(disconnected.count(), 1);
    EXPECT_FALSE(m_subscriber->isSubscribed("kept"));
    EXPECT_TRUE(m_subscriber->hasChannel("kept"));
    ASSERT_TRUE(waitUntil([&] { return publish("kept", "nobody") == 0; }));

    m_subscriber->start();
    ASSERT_TRUE(waitUntil([&] { return m_subscriber->isSubscribed("kept"); }));
    EXPECT_EQ(publish("kept", "back"), 1);
    ASSERT_TRUE(waitForMessages(1));
    EXPECT_EQ(m_messages[0].second, "back");
}

} // namespace
} // namespace parley::server::test
