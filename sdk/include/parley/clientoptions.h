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
    Auto, //!< the default order (today: WebSocket; fallback negotiation is planned)
    WebSocket, //!< one WebSocket (/v1/ws)
    Sse, //!< Server-Sent Events downstream (/v1/sse), HTTP POSTs upstream (/v1/commands)
    LongPoll, //!< long polls downstream (/v1/poll), HTTP POSTs upstream (/v1/commands)
};

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
    //! fails with ErrorCode::Timeout. Zero: never; the message waits for the server however long.
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
    //! http(s) (wss:// → https://), the same port as WebSocket.
    TransportKind transport = TransportKind::Auto;
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
