// RedisScript against a real redis-server: EVALSHA, and transparent re-loading when Redis's
// script cache was emptied (SCRIPT FLUSH, restart).
#include "redis/redisscript.h"
#include "redistesthelpers.h"

#include <QSignalSpy>
#include <gtest/gtest.h>
#include <memory>

namespace parley::server::test {
namespace {

// Increments a counter key by ARGV[1] and returns {new value, ARGV[2]}: keys, args, an integer
// and a binary string all travel through.
const QByteArray kScript = QByteArrayLiteral("local n = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
                                             "return {n, ARGV[2]}\n");

class RedisScriptTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(m_server.start()) << m_server.output().toStdString();
        m_client = std::make_unique<RedisClient>(endpointOf(m_server), fastClientOptions());
        QSignalSpy connected(m_client.get(), &RedisClient::connected);
        m_client->start();
        ASSERT_TRUE(connected.wait(5000));
    }

    std::optional<RedisReply> call(
        const RedisScript& script, QList<QByteArray> keys, QList<QByteArray> args)
    {
        std::optional<RedisReply> result;
        script.call(*m_client, std::move(keys), std::move(args),
            [&](const RedisReply& reply) { result = reply; });
        waitUntil([&] { return result.has_value(); });
        return result;
    }

    static RedisReply expected(qint64 value, const QByteArray& echo)
    {
        return RedisReply::fromArray(
            { RedisReply::fromInteger(value), RedisReply::fromString(echo) });
    }

    parley::test::RedisServer m_server;
    std::unique_ptr<RedisClient> m_client;
};

TEST_F(RedisScriptTest, LocalSha1IsRedisSha1)
{
    const RedisScript script(kScript);
    std::optional<RedisReply> loaded;
    script.load(*m_client, [&](const RedisReply& reply) { loaded = reply; });
    ASSERT_TRUE(waitUntil([&] { return loaded.has_value(); }));
    EXPECT_EQ(loaded, RedisReply::fromString(script.sha1()));
    EXPECT_EQ(script.sha1().size(), 40);
}

TEST_F(RedisScriptTest, RunsWithEvalShaAndLoadsOnFirstUse)
{
    const RedisScript script(kScript);
    // Never loaded: the first call meets NOSCRIPT and loads transparently.
    EXPECT_EQ(call(script, { "{room}:seq" }, { "5", QByteArray("bin\0ary", 7) }),
        expected(5, QByteArray("bin\0ary", 7)));
    EXPECT_EQ(call(script, { "{room}:seq" }, { "2", "x" }), expected(7, "x"));
    EXPECT_EQ(run(*m_client, { "SCRIPT", "EXISTS", script.sha1() }),
        RedisReply::fromArray({ RedisReply::fromInteger(1) }));
}

TEST_F(RedisScriptTest, ReloadsAfterScriptFlush)
{
    const RedisScript script(kScript);
    EXPECT_EQ(call(script, { "counter" }, { "1", "a" }), expected(1, "a"));
    EXPECT_EQ(run(*m_client, { "SCRIPT", "FLUSH" }), RedisReply::fromStatus("OK"));
    ASSERT_EQ(run(*m_client, { "SCRIPT", "EXISTS", script.sha1() }),
        RedisReply::fromArray({ RedisReply::fromInteger(0) }));

    // Several calls in flight at once all meet NOSCRIPT and all succeed, each exactly once.
    std::vector<RedisReply> replies;
    for (int i = 0; i < 5; ++i) {
        script.call(*m_client, { "counter" }, { "1", "b" },
            [&](const RedisReply& reply) { replies.push_back(reply); });
    }
    ASSERT_TRUE(waitUntil([&] { return replies.size() == 5; }));
    for (const RedisReply& reply : replies) {
        ASSERT_TRUE(reply.isArray()) << reply.toString().toStdString();
    }
    EXPECT_EQ(run(*m_client, { "GET", "counter" }), RedisReply::fromString("6"));
    EXPECT_EQ(run(*m_client, { "SCRIPT", "EXISTS", script.sha1() }),
        RedisReply::fromArray({ RedisReply::fromInteger(1) }));
}

TEST_F(RedisScriptTest, ReloadsAfterRedisRestart)
{
    const RedisScript script(kScript);
    EXPECT_EQ(call(script, { "k" }, { "1", "a" }), expected(1, "a"));
    QSignalSpy disconnected(m_client.get(), &RedisClient::disconnected);
    m_server.kill();
    ASSERT_TRUE(disconnected.wait(5000));
    ASSERT_TRUE(m_server.restart()) << m_server.output().toStdString();
    ASSERT_TRUE(waitUntil([&] { return m_client->isConnected(); }, 10000));
    // A fresh server (no persistence in this fixture): empty cache, empty data.
    EXPECT_EQ(call(script, { "k" }, { "3", "b" }), expected(3, "b"));
}

TEST_F(RedisScriptTest, CompileErrorIsReportedNotNoScript)
{
    const RedisScript broken(QByteArrayLiteral("return {{{"));
    const std::optional<RedisReply> reply = call(broken, { "k" }, {});
    ASSERT_TRUE(reply.has_value());
    ASSERT_TRUE(reply->isError());
    EXPECT_EQ(reply->errorKind(), RedisReply::ErrorKind::Server);
    EXPECT_NE(reply->errorCode(), "NOSCRIPT") << reply->toString().toStdString();
    EXPECT_TRUE(reply->bytes().contains("compiling")) << reply->toString().toStdString();
}

TEST_F(RedisScriptTest, ClientFailuresPassThrough)
{
    const RedisScript script(kScript);
    m_client->stop();
    const std::optional<RedisReply> reply = call(script, { "k" }, { "1", "a" });
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->errorKind(), RedisReply::ErrorKind::Unavailable);
}

} // namespace
} // namespace parley::server::test
