// Where a Redis server is: parsed from the --redis URL, redis://HOST[:PORT][/DB].
#pragma once

#include "base/backoff.h"

#include <QString>
#include <QtGlobal>
#include <optional>

namespace parley::server {

struct RedisEndpoint {
    //! A host name or an IP address literal (IPv6 without brackets). Names are resolved
    //! asynchronously by the client, never with a blocking lookup.
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    //! The logical database selected (SELECT) right after every (re)connect. Pub/Sub ignores it:
    //! Redis channels are shared by all databases.
    int database = 0;

    //! Parses redis://HOST[:PORT][/DB] (IPv6 hosts in brackets: redis://[::1]:6379). Returns
    //! nothing for any other scheme, a missing host, a port outside 1..65535, a database that is
    //! not a non-negative integer, or a URL with credentials, query or fragment (not supported).
    static std::optional<RedisEndpoint> fromUrl(const QString& url);
    //! The canonical URL (the database part only when it is not 0).
    QString toUrl() const;

    bool operator==(const RedisEndpoint&) const = default;
};

//! How a link to Redis (client or subscriber) waits between reconnect attempts: doubling from
//! `initialMs` up to `maxMs`, equal jitter (never zero, so no hot loop against a dead Redis;
//! spread, so the nodes that lost Redis together do not all come back in the same millisecond).
inline BackoffSchedule redisReconnectSchedule(int initialMs, int maxMs)
{
    return { std::chrono::milliseconds(initialMs), std::chrono::milliseconds(maxMs), 2.0,
        Jitter::Equal };
}

} // namespace parley::server
