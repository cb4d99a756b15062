// RedisEndpoint::fromUrl: the --redis option's parser, table-driven.
#include "redis/redisendpoint.h"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

struct GoodUrl {
    const char* url;
    const char* host;
    quint16 port;
    int database;
};

TEST(RedisEndpointTest, ParsesValidUrls)
{
    const GoodUrl cases[] = {
        { "redis://127.0.0.1:6379", "127.0.0.1", 6379, 0 },
        { "redis://127.0.0.1:7000/3", "127.0.0.1", 7000, 3 },
        { "redis://localhost", "localhost", 6379, 0 },
        { "redis://redis.internal:6380/", "redis.internal", 6380, 0 },
        { "redis://[::1]:6379/15", "::1", 6379, 15 },
    };
    for (const GoodUrl& c : cases) {
        SCOPED_TRACE(c.url);
        const std::optional<RedisEndpoint> endpoint
            = RedisEndpoint::fromUrl(QString::fromLatin1(c.url));
        ASSERT_TRUE(endpoint.has_value());
        EXPECT_EQ(endpoint->host.toStdString(), c.host);
        EXPECT_EQ(endpoint->port, c.port);
        EXPECT_EQ(endpoint->database, c.database);
    }
}

TEST(RedisEndpointTest, RejectsInvalidUrls)
{
    const char* cases[] = {
        "",
        "127.0.0.1:6379",
        "http://127.0.0.1:6379",
        "rediss://127.0.0.1:6379",
        "redis://",
        "redis://:6379",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:70000",
        "redis://127.0.0.1:6379/abc",
        "redis://127.0.0.1:6379/-1",
        "redis://127.0.0.1:6379/1/2",
        "redis://user:secret@127.0.0.1:6379",
        "redis://127.0.0.1:6379?db=1",
    };
    for (const char* url : cases) {
        SCOPED_TRACE(url);
        EXPECT_FALSE(RedisEndpoint::fromUrl(QString::fromLatin1(url)).has_value());
    }
}

TEST(RedisEndpointTest, ToUrlRoundTrips)
{
    for (const char* url :
        { "redis://127.0.0.1:6379", "redis://example.org:7001/2", "redis://[::1]:6379/1" }) {
        SCOPED_TRACE(url);
        const std::optional<RedisEndpoint> endpoint
            = RedisEndpoint::fromUrl(QString::fromLatin1(url));
        ASSERT_TRUE(endpoint.has_value());
        EXPECT_EQ(endpoint->toUrl().toStdString(), url);
        EXPECT_EQ(RedisEndpoint::fromUrl(endpoint->toUrl()), endpoint);
    }
}

} // namespace
} // namespace parley::server
