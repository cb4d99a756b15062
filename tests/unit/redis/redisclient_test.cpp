// RedisClient against a real redis-server: replies, pipelining order, binary safety, database
// selection, timeouts, the in-flight bound, outages and recovery.
#include "redistesthelpers.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <gtest/gtest.h>
#include <memory>
#include <vector>

namespace parley::server::test {
namespace {

using Kind = RedisReply::ErrorKind;

class RedisClientTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_server.start()) << m_server.output().toStdString(); }

    //! A started client, connected (asserted by the caller with ASSERT_TRUE(connect(...))).
    std::unique_ptr<RedisClient> makeClient(
        RedisClient::Options options = fastClientOptions(), int database = 0)
    {
        return std::make_unique<RedisClient>(endpointOf(m_server, database), options);
    }

    static bool startAndWait(RedisClient& client)
    {
        QSignalSpy connected(&client, &RedisClient::connected);
        client.start();
        return connected.wait(5000) && client.isConnected();
    }

    parley::test::RedisServer m_server;
};

TEST_F(RedisClientTest, ConvertsEveryReplyType)
{
    auto client = makeClient();
    ASSERT_TRUE(startAndWait(*client));

    EXPECT_EQ(run(*client, { "SET", "greeting", "hello" }), RedisReply::fromStatus("OK"));
    EXPECT_EQ(run(*client, { "GET", "greeting" }), RedisReply::fromString("hello"));
    EXPECT_EQ(run(*client, { "GET", "no-such-key" }), RedisReply::nil());
    EXPECT_EQ(run(*client, { "INCRBY", "counter", "41" }), RedisReply::fromInteger(41));
    EXPECT_EQ(run(*client, { "RPUSH", "list", "a", "b" }), RedisReply::fromInteger(2));
    EXPECT_EQ(run(*client, { "LRANGE", "list", "0", "-1" }),
        RedisReply::fromArray({ RedisReply::fromString("a"), RedisReply::fromString("b") }));

    const std::optional<RedisReply> error = run(*client, { "INCR", "greeting" });
    ASSERT_TRUE(error.has_value());
    EXPECT_TRUE(error->isError());
    EXPECT_EQ(error->errorKind(), Kind::Server);
    EXPECT_EQ(error->errorCode(), "ERR");
    EXPECT_FALSE(error->wasNotSent());
    // A server error is a reply, not a broken link.
    EXPECT_TRUE(client->isConnected());
}

TEST_F(RedisClientTest, ValuesAndKeysAreBinarySafe)
{
    auto client = makeClient();
    ASSERT_TRUE(startAndWait(*client));

    QByteArray value;
    for (int i = 0; i < 256; ++i) {
        value.append(char(i));
    }
    value += QByteArray("\r\n$3\r\n*1\r\n", 11) + QByteArray(100000, '\0');
    const QByteArray key("key with spaces\0and a NUL\r\n", 27);

    EXPECT_EQ(run(*client, { "SET", key, value }), RedisReply::fromStatus("OK"));
    const std::optional<RedisReply> got = run(*client, { "GET", key });
    ASSERT_TRUE(got.has_value());
    ASSERT_TRUE(got->isString()) << got->toString().toStdString();
    EXPECT_EQ(got->bytes().size(), value.size());
    EXPECT_TRUE(got->bytes() == value);
    EXPECT_EQ(run(*client, { "STRLEN", key }), RedisReply::fromInteger(value.size()));
    EXPECT_EQ(run(*client, { "SET", "empty", "" }), RedisReply::fromStatus("OK"));
    EXPECT_EQ(run(*client, { "GET", "empty" }), RedisReply::fromString(""));
}

TEST_F(RedisClientTest, TenThousandPipelinedIncrsAnswerInOrder)
{
    auto client = makeClient();
    ASSERT_TRUE(startAndWait(*client));

    constexpr int count = 10000;
    std::vector<qint64> answers;
    answers.reserve(count);
    // All sent before the event loop runs once: one pipelined burst on one connection.
    for (int i = 0; i < count; ++i) {
        client->command({ "INCR", "pipelined" }, [&answers](const RedisReply& reply) {
            answers.push_back(reply.isInteger() ? reply.integer() : -1);
        });
    }
    EXPECT_EQ(client->inFlight(), count);
    ASSERT_TRUE(waitUntil([&] { return answers.size() == size_t(count); }, 20000))
        << answers.size();
    for (int i = 0; i < count; ++i) {
        ASSERT_EQ(answers[size_t(i)], i + 1) << "at position " << i;
    }
    EXPECT_EQ(client->inFlight(), 0);
    EXPECT_EQ(
        run(*client, { "GET", "pipelined" }), RedisReply::fromString(QByteArray::number(count)));
}

TEST_F(RedisClientTest, SelectsTheDatabaseOfTheUrl)
{
    auto db3 = makeClient(fastClientOptions(), 3);
    auto db0 = makeClient();
    ASSERT_TRUE(startAndWait(*db3));
    ASSERT_TRUE(startAndWait(*db0));

    EXPECT_EQ(run(*db3, { "SET", "where", "three" }), RedisReply::fromStatus("OK"));
    EXPECT_EQ(run(*db0, { "GET", "where" }), RedisReply::nil());
    EXPECT_EQ(run(*db3, { "GET", "where" }), RedisReply::fromString("three"));

    // An impossible database is a handshake failure: reported, never "connected".
    auto db999 = makeClient(fastClientOptions(), 999);
    QSignalSpy errors(db999.get(), &RedisClient::errorOccurred);
    db999->start();
    ASSERT_TRUE(errors.wait(5000));
    EXPECT_TRUE(errors.first().first().toString().contains(QLatin1String("SELECT")))
        << errors.first().first().toString().toStdString();
    EXPECT_FALSE(db999->isConnected());
}

TEST_F(RedisClientTest, CommandTimeoutFailsTheCommandAndResetsTheLink)
{
    RedisClient::Options options = fastClientOptions();
    options.commandTimeoutMs = 300;
    auto client = makeClient(options);
    ASSERT_TRUE(startAndWait(*client));
    QSignalSpy disconnected(client.get(), &RedisClient::disconnected);
    QSignalSpy connected(client.get(), &RedisClient::connected);

    // The server stops answering for 3 s; the client gives up after 300 ms.
    std::optional<RedisReply> sleeping;
    std::optional<RedisReply> behind;
    QElapsedTimer elapsed;
    elapsed.start();
    client->command({ "DEBUG", "SLEEP", "3" }, [&](const RedisReply& reply) { sleeping = reply; });
    client->command({ "PING" }, [&](const RedisReply& reply) { behind = reply; });
    ASSERT_TRUE(disconnected.wait(2500));
    const qint64 firedAfter = elapsed.elapsed();

    ASSERT_TRUE(sleeping.has_value());
    EXPECT_EQ(sleeping->errorKind(), Kind::Timeout) << sleeping->toString().toStdString();
    ASSERT_TRUE(behind.has_value());
    EXPECT_EQ(behind->errorKind(), Kind::ConnectionLost) << behind->toString().toStdString();
    EXPECT_GE(firedAfter, 300 - 2); // deadlines are kept in whole milliseconds
    EXPECT_LT(firedAfter, 2500); // well before Redis would have answered
    EXPECT_FALSE(client->isConnected());

    // Meanwhile commands fail fast; once Redis answers again the client is back by itself (its
    // handshake PING only succeeds after the sleep).
    const std::optional<RedisReply> meanwhile = run(*client, { "PING" });
    ASSERT_TRUE(meanwhile.has_value());
    EXPECT_TRUE(meanwhile->isError());
    ASSERT_TRUE(waitUntil([&] { return client->isConnected(); }, 10000));
    EXPECT_GE(connected.count(), 1);
    EXPECT_EQ(run(*client, { "PING" }), RedisReply::fromStatus("PONG"));
}

TEST_F(RedisClientTest, BoundsCommandsInFlightAndFailsFastBeyond)
{
    RedisClient::Options options = fastClientOptions();
    options.maxInFlight = 10;
    auto client = makeClient(options);
    ASSERT_TRUE(startAndWait(*client));

    std::vector<RedisReply> replies(15);
    std::vector<bool> answered(15, false);
    bool insideCommand = false;
    bool calledSynchronously = false;
    for (int i = 0; i < 15; ++i) {
        insideCommand = true;
        client->command({ "INCR", "bounded" }, [&, i](const RedisReply& reply) {
            calledSynchronously = calledSynchronously || insideCommand;
            replies[size_t(i)] = reply;
            answered[size_t(i)] = true;
        });
        insideCommand = false;
    }
    EXPECT_EQ(client->inFlight(), 10);
    ASSERT_TRUE(
        waitUntil([&] { return std::count(answered.begin(), answered.end(), true) == 15; }));
    EXPECT_FALSE(calledSynchronously);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(replies[size_t(i)], RedisReply::fromInteger(i + 1));
    }
    for (int i = 10; i < 15; ++i) {
        EXPECT_EQ(replies[size_t(i)].errorKind(), Kind::Overloaded);
        EXPECT_TRUE(replies[size_t(i)].wasNotSent());
    }
    // Nothing beyond the bound reached Redis.
    EXPECT_EQ(run(*client, { "GET", "bounded" }), RedisReply::fromString("10"));
}

TEST_F(RedisClientTest, KilledServerDisconnectsAndCommandsFailFastAsUnavailable)
{
    auto client = makeClient();
    ASSERT_TRUE(startAndWait(*client));
    QSignalSpy disconnected(client.get(), &RedisClient::disconnected);

    std::optional<RedisReply> inFlight;
    client->command({ "DEBUG", "SLEEP", "2" }, [&](const RedisReply& reply) { inFlight = reply; });
    ASSERT_TRUE(waitUntil([&] { return client->inFlight() == 1; }));
    m_server.kill();

    ASSERT_TRUE(disconnected.wait(5000));
    EXPECT_FALSE(client->isConnected());
    ASSERT_TRUE(inFlight.has_value());
    EXPECT_EQ(inFlight->errorKind(), Kind::ConnectionLost) << inFlight->toString().toStdString();

    // Fail fast: the answer comes from the client at once, not after a timeout.
    QElapsedTimer elapsed;
    elapsed.start();
    const std::optional<RedisReply> refused = run(*client, { "SET", "k", "v" });
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->errorKind(), Kind::Unavailable) << refused->toString().toStdString();
    EXPECT_TRUE(refused->wasNotSent());
    EXPECT_LT(elapsed.elapsed(), 1000);
}

TEST_F(RedisClientTest, ReconnectsWhenRedisComesBack)
{
    auto client = makeClient();
    ASSERT_TRUE(startAndWait(*client));
    QSignalSpy disconnected(client.get(), &RedisClient::disconnected);
    QSignalSpy connected(client.get(), &RedisClient::connected);

    m_server.kill();
    ASSERT_TRUE(disconnected.wait(5000));
    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    ASSERT_TRUE(connected.wait(5000));
    EXPECT_EQ(run(*client, { "SET", "after", "restart" }), RedisReply::fromStatus("OK"));
    EXPECT_EQ(run(*client, { "GET", "after" }), RedisReply::fromString("restart"));
    EXPECT_EQ(disconnected.count(), 1);
}

TEST_F(RedisClientTest, StartsWhileRedisIsDownAndRecoversWhenItAppears)
{
    m_server.kill();
    auto client = makeClient();
    QSignalSpy errors(client.get(), &RedisClient::errorOccurred);
    QSignalSpy connected(client.get(), &RedisClient::connected);
    client->start();
    ASSERT_TRUE(errors.wait(5000));
    EXPECT_FALSE(client->isConnected());
    const std::optional<RedisReply> refused = run(*client, { "PING" });
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->errorKind(), Kind::Unavailable);

    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    ASSERT_TRUE(connected.count() > 0 || connected.wait(5000));
    EXPECT_EQ(run(*client, { "PING" }), RedisReply::fromStatus("PONG"));
}

TEST_F(RedisClientTest, ResolvesHostNamesWithoutBlocking)
{
    RedisEndpoint endpoint = endpointOf(m_server);
    endpoint.host = QStringLiteral("localhost");
    RedisClient client(endpoint, fastClientOptions());
    ASSERT_TRUE(startAndWait(client));
    EXPECT_EQ(run(client, { "PING" }), RedisReply::fromStatus("PONG"));
}

TEST_F(RedisClientTest, StopFailsOutstandingCommandsWithClosed)
{
    auto client = makeClient();
    ASSERT_TRUE(startAndWait(*client));
    QSignalSpy disconnected(client.get(), &RedisClient::disconnected);
    std::vector<RedisReply> replies;
    for (int i = 0; i < 3; ++i) {
        client->command({ "PING" }, [&](const RedisReply& reply) { replies.push_back(reply); });
    }
    client->stop();
    ASSERT_EQ(replies.size(), 3u);
    for (const RedisReply& reply : replies) {
        EXPECT_EQ(reply.errorKind(), Kind::Closed);
    }
    EXPECT_EQ(disconnected.count(), 1);
    const std::optional<RedisReply> after = run(*client, { "PING" });
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->errorKind(), Kind::Unavailable);
}

TEST_F(RedisClientTest, CallbacksMayDeleteTheClient)
{
    // Deleting the client from inside a reply callback (hiredis is on the stack) must be safe:
    // the remaining callbacks are dropped and nothing touches freed memory.
    auto* client = new RedisClient(endpointOf(m_server), fastClientOptions());
    ASSERT_TRUE(startAndWait(*client));
    int calls = 0;
    client->command({ "PING" }, [&](const RedisReply& reply) {
        ++calls;
        EXPECT_EQ(reply, RedisReply::fromStatus("PONG"));
        delete client;
        client = nullptr;
    });
    client->command({ "PING" }, [&](const RedisReply&) { ++calls; });
    ASSERT_TRUE(waitUntil([&] { return client == nullptr; }));
    // Give hiredis's deferred free and the disposed notifiers a turn of the loop.
    auto probe = makeClient();
    ASSERT_TRUE(startAndWait(*probe));
    EXPECT_EQ(run(*probe, { "PING" }), RedisReply::fromStatus("PONG"));
    EXPECT_EQ(calls, 1);
}

} // namespace
} // namespace parley::server::test
