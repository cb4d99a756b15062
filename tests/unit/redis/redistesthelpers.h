// Helpers shared by the Redis tests: wait on the event loop (never sleep) and run one command.
#pragma once

#include "redis/redisclient.h"
#include "redis/redisendpoint.h"
#include "redisserver.h"
#include "waituntil.h"

#include <gtest/gtest.h>
#include <optional>

namespace parley::server::test {

using parley::test::waitUntil;

//! Sends one command and waits for its callback; nothing when no callback came in time.
inline std::optional<RedisReply> run(
    RedisClient& client, QList<QByteArray> args, int timeoutMs = 5000)
{
    std::optional<RedisReply> result;
    client.command(std::move(args), [&result](const RedisReply& reply) { result = reply; });
    waitUntil([&] { return result.has_value(); }, timeoutMs);
    return result;
}

inline RedisEndpoint endpointOf(const parley::test::RedisServer& server, int database = 0)
{
    RedisEndpoint endpoint;
    endpoint.host = QStringLiteral("127.0.0.1");
    endpoint.port = server.port();
    endpoint.database = database;
    return endpoint;
}

//! Short intervals so that outage tests take well under a second per reconnect.
inline RedisClient::Options fastClientOptions()
{
    RedisClient::Options options;
    options.connectTimeoutMs = 1000;
    options.commandTimeoutMs = 3000;
    options.reconnectInitialMs = 20;
    options.reconnectMaxMs = 200;
    return options;
}

} // namespace parley::server::test

// gtest prints replies readably in failure messages.
namespace parley::server {
inline void PrintTo(const RedisReply& reply, std::ostream* out)
{
    *out << reply.toString().toStdString();
}
} // namespace parley::server
