// The publish script and the stored-message codec are the two ends of one format: run the
// script in a real redis-server and read its payload with protocol/stored.h.
#include "broker/redisscripts.h"
#include "protocol/stored.h"
#include "redis/redisscript.h"
#include "redistesthelpers.h"

#include <QSignalSpy>
#include <gtest/gtest.h>

namespace parley::server::test {
namespace {

TEST(PublishScriptTest, ItsPayloadDecodesWithTheStoredMessageCodec)
{
    parley::test::RedisServer server;
    ASSERT_TRUE(server.start()) << server.output().toStdString();
    RedisClient client(endpointOf(server), fastClientOptions());
    QSignalSpy connected(&client, &RedisClient::connected);
    client.start();
    ASSERT_TRUE(connected.wait(5000));

    const RedisScript publish(redisscripts::kPublish);
    const QByteArray body = "\"quoted\" \\ a/b \xc3\xbcml\xc3\xa4ut \xf0\x9f\x98\x80";
    std::optional<RedisReply> reply;
    publish.call(client,
        { "parley:{r1}:seq", "parley:{r1}:epoch", "parley:{r1}:hist", "parley:{r1}:dd:1:alice:c1" },
        { "r1", "alice", "c1", body, "1764291234567", "n1-9", "ep1", "1000", "60",
            "parley:{r1}:ch", "0" },
        [&](const RedisReply& r) { reply = r; });
    ASSERT_TRUE(waitUntil([&] { return reply.has_value(); }));
    ASSERT_TRUE(reply->isArray()) << reply->toString().toStdString();
    ASSERT_EQ(reply->elements().size(), 2u);
    const QByteArray payload = reply->elements()[1].bytes();

    const auto decoded
        = protocol::stored::decodeMessage(std::string_view(payload.data(), payload.size()));
    ASSERT_TRUE(decoded) << decoded.error().message << ": " << payload.toStdString();
    protocol::Message expected;
    expected.room = "r1";
    expected.epoch = "ep1";
    expected.seq = 1;
    expected.msgId = "n1-9";
    expected.sender = "alice";
    expected.clientId = "c1";
    expected.body = body.toStdString();
    expected.ts = 1764291234567;
    EXPECT_EQ(decoded.value(), expected);
}

} // namespace
} // namespace parley::server::test
