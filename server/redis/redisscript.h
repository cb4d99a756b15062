// A Lua script run with EVALSHA, loaded on demand.
#pragma once

#include "redisclient.h"

#include <QByteArray>
#include <QList>

namespace parley::server {

//! A Lua script and its SHA-1 (computed locally, exactly as Redis does). A plain value: copy it
//! freely; it holds no connection.
//!
//! call() sends EVALSHA. If Redis answers NOSCRIPT (its script cache is empty after a restart, a
//! failover or SCRIPT FLUSH), it sends SCRIPT LOAD and EVALSHA again right behind it (pipelined:
//! one extra round trip), once; the callback receives the reply of that second EVALSHA, or the
//! SCRIPT LOAD error if the script does not compile. Callers never see NOSCRIPT unless the cache
//! was flushed again between the two.
//!
//! Ordering caveat: a call that hits NOSCRIPT is re-sent, so it can run AFTER calls issued later
//! that did not hit it (e.g. another node re-loaded the script in between). Scripts whose effect
//! depends on the order of two calls from one caller must not rely on issue order across a cache
//! flush; the caller can chain the second call into the first one's callback instead.
class RedisScript {
public:
    explicit RedisScript(QByteArray source);

    const QByteArray& source() const { return m_source; }
    //! Lower-case hex SHA-1 of the source: the script's name in Redis's cache.
    const QByteArray& sha1() const { return m_sha1; }

    //! SCRIPT LOAD, e.g. at start-up to fail early on a syntax error. The callback receives the
    //! reply (the SHA-1 as a String on success; an Error if it does not compile or if Redis
    //! returns another SHA-1, which would mean the local hash is wrong).
    void load(RedisClient& client, RedisClient::Callback callback) const;
    //! EVALSHA sha1 numkeys keys... args..., re-loading on NOSCRIPT as described above. The
    //! client's failures (Unavailable, Timeout, ...) are delivered as they are, not retried.
    void call(RedisClient& client, QList<QByteArray> keys, QList<QByteArray> args,
        RedisClient::Callback callback) const;

private:
    QList<QByteArray> evalShaArgs(
        const QList<QByteArray>& keys, const QList<QByteArray>& args) const;

    QByteArray m_source;
    QByteArray m_sha1;
};

} // namespace parley::server
