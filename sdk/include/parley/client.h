// parley::Client: the facade of the Parley SDK.
#pragma once

#include <parley/clientoptions.h>
#include <parley/connectionstate.h>
#include <parley/error.h>
#include <parley/export.h>
#include <parley/historyquery.h>
#include <parley/message.h>
#include <parley/messagestate.h>

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace parley {

//! A connection to a Parley server: join rooms, send and receive messages, page history.
//!
//! Threading: a Client lives on the thread that created it (or the one it was moved to) and
//! must only be called from there. Every signal is emitted on that thread. No call blocks;
//! results arrive through signals, and apart from stateChanged() no signal is emitted from
//! inside the call that caused it (a failure of send() is reported on the next event-loop turn,
//! after send() has returned its id).
//!
//! Delivery: within a room, messageReceived() delivers each message once, in seq order, with no
//! hole; a hole that cannot be filled is reported by historyGap(). Sends go through a bounded
//! outbox: every send() ends in exactly one messageAcked() or messageFailed() for its id (a failed
//! message passed to retry() starts over and again ends in one of the two). Each step of a
//! message (queued, sent, acked, failed) is also reported by messageStateChanged(), always on a
//! later event-loop turn than the call or event that caused it, in the order of the steps.
class PARLEY_SDK_EXPORT Client : public QObject {
    Q_OBJECT

public:
    //! A client without options; call setOptions() before connectToServer().
    explicit Client(QObject* parent = nullptr);
    //! A client configured with `options` (validated at connectToServer()).
    explicit Client(const ClientOptions& options, QObject* parent = nullptr);
    //! Closes the connection without waiting; pending sends are dropped silently.
    ~Client() override;

    //! Replaces the options. The outbox and hold bounds apply at once; the endpoints, user and
    //! token at the next connectToServer().
    void setOptions(const ClientOptions& options);
    //! The current options.
    const ClientOptions& options() const;

    //! The connection state.
    ConnectionState state() const;
    //! The server's session id for this connection; empty unless Connected.
    QString sessionId() const;
    //! The id of the server node this client is connected to; empty unless Connected.
    QString serverNode() const;
    //! Rooms the server has confirmed as joined (joined() was emitted, left() was not since).
    QStringList joinedRooms() const;
    //! The seq of the last message delivered by messageReceived() for `room` (the resume
    //! cursor), or nothing when no position is known yet.
    std::optional<quint64> lastDeliveredSeq(const QString& room) const;
    //! Messages sent but not yet acknowledged or failed.
    int pendingMessageCount() const;
    //! The state of message `clientId` while the client knows it: Queued or Sent while in the
    //! outbox, Failed until retry() or discard(); nothing once acked, discarded or unknown.
    std::optional<MessageState> messageState(const QString& clientId) const;
    //! Client ids of the failed messages kept for retry() or discard(), oldest first (at most
    //! 1,000; past that the oldest are forgotten).
    QStringList failedMessages() const;
    //! The transport of the current connection (or of the attempt being made, or of the last
    //! one). With ClientOptions::transport Auto it follows the negotiation, reported by
    //! transportChanged(); before the first connectToServer() it is WebSocket.
    TransportKind transport() const;
    //! While Reconnecting: the number of the attempt that is scheduled (1 for the first); 0
    //! otherwise.
    int reconnectAttempt() const;
    //! While Reconnecting: when the scheduled attempt starts (UTC); a null QDateTime otherwise.
    QDateTime nextReconnectAt() const;

    //! Opens the connection and performs the handshake. Progress is reported by stateChanged();
    //! failures by errorOccurred() (ConnectionFailed, Timeout, Unauthorized, InvalidOptions).
    //! With ClientOptions::reconnect enabled, a failed or lost connection is retried on its own
    //! (state Reconnecting) until disconnectFromServer() or a terminal rejection. Does nothing
    //! when already Connecting or Connected; skips the wait when Reconnecting.
    void connectToServer();
    //! Closes the connection (state Closed). Requests in flight fail with Cancelled; unacked
    //! messages stay in the outbox and are resent after the next connectToServer().
    void disconnectFromServer();

    //! While Reconnecting: tries now instead of waiting for the backoff delay. (Where Qt has a
    //! network-reachability backend, QNetworkInformation, the client does this by itself when the
    //! network comes back online.)
    void reconnectNow();

    //! Joins `room` now, or as soon as the client is connected; rooms stay joined across
    //! reconnects until leave(). Reported by joined() or joinFailed().
    void join(const QString& room);
    //! Leaves `room`. Messages for it not yet sent fail with NotJoined. Reported by left().
    void leave(const QString& room);

    //! Posts `text` to `room` (which must have been passed to join()). Always returns the new
    //! message's client id (a UUID); the message waits in the outbox while offline or while the
    //! join is in flight, and is sent in send() order. Reported by exactly one messageAcked() or
    //! messageFailed() with that id. Retryable server errors (rate limits, overload) are retried
    //! with the same id, which the server uses to drop duplicates.
    QString send(const QString& room, const QString& text);
    //! Like send(room, text), with a client id chosen by the caller instead of a new UUID: an
    //! idempotency key. The server stores one message per (user, room, client id) within its
    //! dedupe window (docs/protocol.md), so sending with the same id again, from this client or
    //! a later one of the same user (a script run again after a failure), is answered with the
    //! original ack and stores nothing twice. `clientId` must be 1..64 bytes of UTF-8 and not be
    //! the id of a message this client still holds (pending or failed); otherwise the message
    //! fails with InvalidArgument (and is not kept for retry()). Returns `clientId`.
    QString send(const QString& room, const QString& text, const QString& clientId);

    //! Sends failed message `clientId` again, with the same client id (so a server that did
    //! store it answers with the original ack). Returns false when `clientId` is not a failed
    //! message. The message is Queued again and ends in messageAcked() or messageFailed().
    bool retry(const QString& clientId);
    //! Forgets failed message `clientId`. Returns false when it is not a failed message.
    bool discard(const QString& clientId);

    //! Requests one page of `room`'s history (the room must have been passed to join()).
    //! Returns a request id; the answer is historyReceived() or historyFailed() with that id.
    QString fetchHistory(const QString& room, const HistoryQuery& query = HistoryQuery {});

    //! Asks which of `users` (1 to 100 user names) are online: a user is online while any of
    //! their sessions, on any server node, is alive. Returns a request id; the answer is
    //! presenceReceived() or presenceQueryFailed() with that id. Fails (retryable, with
    //! ConnectionLost) when the client is not connected.
    QString queryPresence(const QStringList& users);

    //! Sends `text` to `user` directly (not to a room): it reaches every session of `user` that
    //! is online at that moment, on any server node, and is not stored (no history, no replay).
    //! Returns the message's client id (a UUID); the outcome is directMessageAcked() (it reached
    //! the user's node(s)) or directMessageFailed() with that id: UserOffline when `user` has no
    //! live session, InvalidArgument for a bad name or empty text, ConnectionLost when not
    //! connected or the connection dropped before the answer. Never resent by the SDK.
    QString sendDirect(const QString& user, const QString& text);

Q_SIGNALS:
    //! The connection state changed to `state`.
    void stateChanged(parley::ConnectionState state);
    //! The connection now uses transport `kind`: a fallback after failed opens, or the upgrade
    //! back to the preferred transport (see ClientOptions::transportOrder). Emitted on the
    //! event-loop turn after the attempt on the new kind started; transport() already tells.
    void transportChanged(parley::TransportKind kind);
    //! The connection was lost (or an attempt failed); attempt number `attempt` starts in
    //! `delayMs` milliseconds (state Reconnecting). UIs show "reconnecting in N s". When the
    //! server refused for capacity (close 4007, or HTTP 429/503 with Retry-After) the delay is
    //! at least the wait it asked for.
    void reconnectScheduled(int attempt, int delayMs);
    //! A new message in a joined room (including this user's own messages), in seq order.
    void messageReceived(const parley::Message& message);
    //! The server stored the message sent with id `clientId` as `seq` in `room`.
    void messageAcked(const QString& clientId, const QString& room, quint64 seq);
    //! The message sent with id `clientId` will not be stored unless retry() is called: `error`
    //! says why: a terminal error from the server or the SDK, or ClientOptions::messageTimeout.
    //! When the timeout ends the resends of a message the server kept refusing with a retryable
    //! error, `error` is the server's last refusal (its code, e.g. Unavailable when the server's
    //! storage cannot commit, and its message, followed by the timeout); Timeout means the
    //! server never answered it.
    void messageFailed(const QString& clientId, const parley::Error& error);
    //! Message `clientId` moved to `state` (see MessageState).
    void messageStateChanged(const QString& clientId, parley::MessageState state);
    //! The server confirmed the join of `room`. `lastSeq` is the room's newest seq at that
    //! moment (older messages come from fetchHistory()); `members` are the users in the room.
    void joined(const QString& room, quint64 lastSeq, const QStringList& members);
    //! The join of `room` failed; the room is not joined.
    void joinFailed(const QString& room, const parley::Error& error);
    //! `room` was left.
    void left(const QString& room);
    //! `user` came online in, or went away from, `room`.
    void presenceChanged(const QString& room, const QString& user, bool online);
    //! `user`, who shares a joined room with this client, came online (their first session, on
    //! any node, or they joined a room of yours) or went offline (their last session ended or
    //! went silent for the server's presence TTL, 60 s by default). Only through rooms of at
    //! most the server's presence limit (1,000 users by default): silence is not "offline", ask
    //! queryPresence(). Named apart from the room signal presenceChanged(room, user, online) so
    //! function-pointer connects stay unambiguous.
    void userPresenceChanged(const QString& user, bool online);
    //! The answer to queryPresence() `requestId`: each name asked, with whether it is online.
    void presenceReceived(const QString& requestId, const QHash<QString, bool>& online);
    //! queryPresence() `requestId` failed (not connected, presence unavailable, timeout).
    void presenceQueryFailed(const QString& requestId, const parley::Error& error);
    //! A direct message from `from` to this user (see sendDirect()); `sentAt` is server time.
    void directMessageReceived(const QString& from, const QString& text, const QDateTime& sentAt);
    //! Direct message `clientId` to `user` reached the node(s) where `user` is connected.
    void directMessageAcked(const QString& clientId, const QString& user);
    //! Direct message `clientId` was not delivered; `error` says why.
    void directMessageFailed(const QString& clientId, const parley::Error& error);
    //! The answer to fetchHistory() `requestId`: `messages` in ascending seq order; `hasMore`
    //! when more messages exist beyond this page in the requested direction.
    void historyReceived(const QString& requestId, const QString& room,
        const QList<parley::Message>& messages, bool hasMore);
    //! fetchHistory() `requestId` failed.
    void historyFailed(const QString& requestId, const QString& room, const parley::Error& error);
    //! Messages `fromSeq`..`toSeq` (inclusive) of `room` could not be delivered live (the server
    //! no longer had them); fetchHistory() may still show what is left.
    void historyGap(const QString& room, quint64 fromSeq, quint64 toSeq);
    //! `room`'s stream was reset on the server (new epoch `epoch`, or the same epoch when the
    //! server lost messages already delivered here, e.g. it was restored from an older copy):
    //! positions from before are meaningless; delivery continues from the new stream.
    void streamReset(const QString& room, const QString& epoch);
    //! A failure not reported by a more specific signal: connection failures, rejected
    //! credentials, undecodable server frames, errors answering no known request.
    void errorOccurred(const parley::Error& error);

private:
    class Private;
    friend class Private;
    std::unique_ptr<Private> d;
};

} // namespace parley
