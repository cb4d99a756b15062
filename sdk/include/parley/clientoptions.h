// Configuration of a parley::Client.
#pragma once

#include <parley/error.h>
#include <parley/export.h>
#include <parley/reconnectoptions.h>

#include <QList>
#include <QString>
#include <QUrl>

#include <chrono>
#include <optional>

namespace parley {

//! The mechanism that carries a Client's connection.
enum class TransportKind {
    Auto, //!< negotiated: ClientOptions::transportOrder, falling back and upgrading back
    WebSocket, //!< one WebSocket (/v1/ws)
    Sse, //!< Server-Sent Events downstream (/v1/sse), HTTP POSTs upstream (/v1/commands)
    LongPoll, //!< long polls downstream (/v1/poll), HTTP POSTs upstream (/v1/commands)
};

//! "websocket", "sse", "long-poll" (or "auto"): a short name for logs and status lines.
PARLEY_SDK_EXPORT QString transportKindName(TransportKind kind);

//! Everything a Client needs to know before connectToServer(). A plain value: copy it, change
//! it, hand it to Client::setOptions().
struct PARLEY_SDK_EXPORT ClientOptions {
    //! Server endpoints, e.g. ws://127.0.0.1:8080/v1/ws. The first one is tried first; the others
    //! are alternatives (other nodes of a cluster) the client rotates to when one fails.
    QList<QUrl> endpoints;
    //! The user name: 1..64 characters of [A-Za-z0-9._-].
    QString user;
    //! Credential sent in the handshake; may be empty for servers running with --dev-auth.
    QString token;
    //! How long the handshake, a join, a leave or a history request may take before it fails
    //! with ErrorCode::Timeout.
    std::chrono::milliseconds requestTimeout { 10000 };
    //! How long a sent message may stay unacknowledged (queued while offline included) before it
    //! fails: with the server's last retryable refusal of it when there was one (e.g.
    //! ErrorCode::Unavailable), else with ErrorCode::Timeout. Zero: never; the message waits for
    //! the server however long.
    std::chrono::milliseconds messageTimeout { std::chrono::minutes(10) };
    //! The outbox bound: at most this many unacknowledged messages ...
    int maxOutboxMessages = 1000;
    //! ... and at most this many bytes of unacknowledged message bodies (UTF-8). Past either
    //! bound, send() fails the new message with ErrorCode::OutboxFull.
    qint64 maxOutboxBytes = 4 * 1024 * 1024;
    //! Out-of-order messages held per room while waiting for a missing seq. Past the bound the
    //! client gives up waiting, reports the gap (Client::historyGap()) and moves on.
    int maxHeldMessages = 1000;
    //! Persistent outbox: a file where unsent messages are kept so they survive an application
    //! restart (empty: memory only). Set it before the first send(); the client reloads the file
    //! at once (joining the rooms of the reloaded messages) and resends them with their original
    //! ids, so the server drops any it already stored. All file I/O runs on a worker thread,
    //! never on the caller's; a message is sent only after it is in the file.
    QString outboxPath;
    //! Automatic reconnect (on by default).
    ReconnectOptions reconnect;
    //! Which transport to use. The HTTP transports reach the endpoint's host and port over
    //! http(s) (wss:// → https://), the same port as WebSocket. Auto negotiates (see
    //! transportOrder); any other kind is the only one used.
    TransportKind transport = TransportKind::Auto;
    //! Auto: the transports to try, best first (Auto entries and repeats are ignored). A kind
    //! that fails to open transportFailuresBeforeFallback times in a row gives way to the next
    //! one; after the last, the order starts over. Failing to open: the connection ends before
    //! it carried a frame beyond the welcome (a refused upgrade, a proxy or HTTP error, an event
    //! stream cut before it delivered anything), or no welcome within requestTimeout. A server
    //! that cannot be reached at all (connection refused, host not found) does not count: it is
    //! down, whatever the transport.
    QList<TransportKind> transportOrder { TransportKind::WebSocket, TransportKind::Sse,
        TransportKind::LongPoll };
    //! Auto: failed opens in a row before the next transport of transportOrder is tried.
    int transportFailuresBeforeFallback = 2;
    //! Auto: a small JSON file remembering, per server (host:port of the endpoint), the last
    //! transport that worked, so the next start begins there instead of failing over again.
    //! Empty: nothing is remembered. The file is read once at connectToServer() (a few hundred
    //! bytes) and written on a worker thread, never on the caller's.
    QString transportMemoryPath;
    //! Auto, on a fallback transport: the first background probe of the preferred transport
    //! (the first of transportOrder) comes after this delay; each failed probe doubles it up to
    //! upgradeProbeMaxDelay. Each wait is jittered between half the delay and the delay. A probe
    //! that succeeds moves the connection over (a reconnect that resumes: no message is lost,
    //! duplicated or reordered).
    std::chrono::milliseconds upgradeProbeDelay { 5000 };
    //! Auto: the longest wait between two probes of the preferred transport.
    std::chrono::milliseconds upgradeProbeMaxDelay { std::chrono::minutes(5) };
    //! HTTP transports: an explicit proxy URL (e.g. http://proxy:3128). Empty: the standard
    //! environment variables (http_proxy, https_proxy, no_proxy) apply.
    QString proxy;

    //! Why these options cannot work, or nothing when they can. Checks: at least one endpoint,
    //! every endpoint a valid ws:// or wss:// URL, a valid user name, positive timeouts and
    //! bounds, a sane reconnect backoff.
    std::optional<Error> validate() const;

    //! Options for one endpoint and a user, everything else at its default.
    static ClientOptions forServer(const QUrl& endpoint, const QString& user);
};

} // namespace parley
