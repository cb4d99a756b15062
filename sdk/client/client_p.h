// parley::Client::Private: the state machine behind the Client facade.
//
// One connection at a time through a Transport; frames are encoded and decoded with the protocol
// codec here, never in the transport. The outbox (sends) and the delivery tracker (receives) are
// pure bookkeeping classes driven from here; timers live here.
//
// Connection lifecycle: connectToServer() → Connecting (transport open, then hello → welcome)
// → Connected (joins sent; outbox flushed per room once the room is joined) → on a drop: sent
// messages go back to the queue (resent with the same client id, the server dedupes), rooms stay
// wanted and are rejoined, the resume cursors go into the next hello, and, unless the cause is
// terminal or the user closed, the ReconnectPolicy schedules the next attempt (Reconnecting).
// Backoff reset: a connection that got its welcome and finished its resume (every resumed room
// got its `recovered`, every wanted room is joined) proved the server works, so the next loss
// starts again from the first, short delay (ReconnectPolicy::reset()); one that ends before
// that (a server that accepts and crashes, or drops during the replay) leaves the attempt count
// growing, so a crash-looping server gets spread-out retries. ReconnectOptions::healthyAfter of
// uptime counts as proof too (a resume the server never finishes).
//
// Transport negotiation (ClientOptions::transport Auto, clientnegotiation.cpp): each attempt
// opens the kind the TransportNegotiator names; a connection that ends before it proved it
// carries frames counts as a failed open. On a fallback, the preferred kind is probed in the
// background; a probe that opens becomes the connection (switchToProbe): the old transport is
// retired (its HTTP session ended), sent messages go back to the queue and the hello resumes
// from the cursors, exactly as after a drop, without the backoff wait.
#pragma once

#include <parley/client.h>

#include "outbox/outbox.h"
#include "outbox/outboxjournal.h"
#include "reconnect/networkmonitor.h"
#include "reconnect/reconnectpolicy.h"
#include "protocol/frames.h"
#include "replay/deliverytracker.h"
#include "transport/transportnegotiator.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QSet>
#include <QThreadPool>
#include <QTimer>

#include <memory>

namespace parley {

class Transport;

class Q_DECL_HIDDEN Client::Private {
public:
    explicit Private(Client* q);
    ~Private();

    void connectToServer();
    void disconnectFromServer();
    void reconnectNow();
    void join(const QString& room);
    void leave(const QString& room);
    QString send(const QString& room, const QString& text);
    QString send(const QString& room, const QString& text, const QString& clientId);
    bool retry(const QString& clientId);
    bool discard(const QString& clientId);
    std::optional<MessageState> messageState(const QString& clientId) const;
    //! The network became reachable again (QNetworkInformation): skip the backoff wait.
    void onNetworkReachable();
    //! Persistent outbox: opens the journal named by options.outboxPath (once) and reloads it.
    void openJournal();
    QString fetchHistory(const QString& room, const HistoryQuery& query);
    QString queryPresence(const QStringList& users); // clientpresence.cpp
    QString sendDirect(const QString& user, const QString& text); // clientdirect.cpp

    int policyAttempt() const { return m_policy.attempt(); }
    //! The kind of the current (or next) connection.
    TransportKind transportKind() const { return m_transportKind; }

    Client* const q;
    ClientOptions options;
    ConnectionState state = ConnectionState::Disconnected;
    QString sessionId;
    QString serverNode;
    protocol::ServerLimits limits;
    std::uint32_t heartbeatMs = 30000; // announced in welcome
    bool welcomed = false;

    struct Room {
        enum class Phase { Joining, Joined, Leaving };
        Phase phase = Phase::Joining;
        QString requestId; // the join/leave in flight
    };
    QHash<QString, Room> rooms;

    Outbox outbox;
    DeliveryTracker tracker;
    // Failed messages kept for retry()/discard(), oldest first, bounded (clientoutbox.cpp).
    QHash<QString, OutboxEntry> failed;
    QStringList failedOrder;
    QDateTime nextReconnectAt; // null unless Reconnecting

private:
    struct Request {
        enum class Kind { Hello, Join, Leave, History, CatchUp, Presence, Direct };
        Kind kind = Kind::History;
        QString room;
        HistoryQuery query;
        bool sent = false;
        qint64 deadlineMs = 0;
        DeliveryTracker::Range missing; // CatchUp: the hole being fetched
        QString clientId; // Direct: the message's client id
    };

    qint64 now() const { return m_clock.elapsed(); }
    QString nextRequestId(QChar prefix);
    void setState(ConnectionState newState);
    void post(std::function<void()> emitter);

    // Transport events.
    void openTransport();
    //! Makes `transport` (of `kind`) the connection and starts the handshake deadline.
    void beginConnection(Transport* transport, TransportKind kind);
    //! Closes the current transport without waiting for it (it deletes itself once closed).
    void retireTransport();
    void scheduleReconnect();
    void onTransportOpened();
    void onHeartbeatTimer();
    void onTransportClosed(int code, const QString& reason);
    void onFrame(const QByteArray& frame);

    // Server frames.
    void handle(const protocol::Welcome& welcome);
    void handle(const protocol::Joined& joined);
    void handle(const protocol::Left& left);
    void handle(const protocol::Message& message);
    void handle(const protocol::Ack& ack);
    void handle(const protocol::Recovered& recovered);
    void handle(const protocol::HistoryPage& page);
    void handle(const protocol::HeartbeatAck& heartbeatAck);
    void handle(const protocol::Presence& presence);
    void handle(const protocol::Error& error);
    void handle(const protocol::UserPresence& presence); // clientpresence.cpp
    void handle(const protocol::PresenceState& state);
    void handle(const protocol::DirectMessage& message); // clientdirect.cpp
    void handle(const protocol::DirectAck& ack);

    bool sendFrame(const protocol::ClientFrame& frame);
    void sendJoin(const QString& room);
    void sendHistory(const QString& requestId, Request& request);
    void sendDeferredRequests(const QString& room);
    void apply(const QString& room, const DeliveryTracker::Outcome& outcome);
    void fetchMissing(const QString& room, const DeliveryTracker::Range& range);

    // Accepts a message into the outbox under `clientId` (send() and retry()).
    void submit(const QString& clientId, const QString& room, const QString& text,
        bool journal = true);
    // Message state changes are posted, so they arrive after the call that caused them and in
    // the order of the changes.
    void announce(const QString& clientId, MessageState state);
    void failMessage(const OutboxEntry& entry, const Error& error, bool deferred);
    void watchNetwork();

    void scheduleFlush();
    void flushOutbox();
    void armOutboxTimer();
    void onOutboxTimer();

    void armRequestTimer();
    void onRequestTimer();
    void failRequest(const QString& requestId, const Request& request, const Error& error);
    void dropConnection(const Error& error, ConnectionState next);
    //! What ends with any connection: requests, room phases, sent messages back to the queue.
    //! `switching`: the connection is being replaced at once (unsent history requests wait for
    //! the new one instead of failing). Returns the rooms whose leave completed with it.
    QStringList resetConnection(const Error& error, bool switching);
    void connectionEnded(const Error& error, ConnectionState next);
    //! Resets the backoff once the connection is welcomed and its resume finished (see above).
    void checkConnectionProven();
    void removeRoom(const QString& room, const Error& why);

    Transport* m_transport = nullptr;
    QString m_helloId;
    bool m_userClosing = false;
    quint64 m_requestCounter = 0;
    QHash<QString, Request> m_requests;
    // Rooms with a catch-up fetch in flight, so a hole is fetched once, not once per message.
    QHash<QString, QString> m_catchUps;
    QElapsedTimer m_clock;
    // Children of q, so they follow the Client to another thread.
    QTimer* m_requestTimer;
    QTimer* m_outboxTimer;
    QTimer* m_reconnectTimer;
    QTimer* m_healthyTimer; // a connection up this long resets the backoff
    // Rooms the current connection's hello asked to resume whose `recovered` has not come yet.
    QSet<QString> m_resuming;
    bool m_connectionProven = false; // this connection reset the backoff already
    // Liveness: a heartbeat every interval the server announced; a server silent for two
    // intervals is dead (half-open TCP) and the connection is replaced.
    QTimer* m_heartbeatTimer;
    qint64 m_lastReceivedMs = 0;
    qint64 m_lastHeartbeatMs = 0;
    ReconnectPolicy m_policy;
    bool m_flushScheduled = false;
    NetworkMonitor* m_network = nullptr; //!< created on the first connect (owned by q)
    OutboxJournal* m_journal = nullptr; // child of q; null without ClientOptions::outboxPath

    // Transport negotiation (clientnegotiation.cpp).
    void startNegotiation();
    TransportKind nextTransportKind() const;
    void setTransportKind(TransportKind kind);
    //! A frame arrived: the first one that proves the downstream counts the open as a success.
    void noteFrame();
    //! The connection ended (not by the user): counts a failed open when it never proved itself.
    void noteConnectionEnded();
    void scheduleUpgradeProbe();
    void onProbeTimer();
    void stopUpgradeProbe();
    void switchToProbe();
    QString memoryKey() const;
    std::optional<TransportKind> loadRememberedTransport() const;
    void rememberTransport(TransportKind kind);

    TransportNegotiator m_negotiator;
    TransportKind m_transportKind = TransportKind::WebSocket;
    bool m_negotiating = false; // options.transport was Auto at connectToServer()
    bool m_transportProven = false;
    bool m_serverUnreachable = false; // the connection that just closed never reached the server
    // The wait the server asked for when it refused the connection that just closed (close
    // 4007, HTTP Retry-After): the next attempt waits at least this long; 0: none asked.
    std::chrono::milliseconds m_serverRetryAfter { 0 };
    std::optional<TransportKind> m_remembered;
    Transport* m_probe = nullptr; // child of q, while a probe of the preferred kind is open(ing)
    QTimer* m_probeTimer; // the next probe, or the deadline of the one in flight
    std::unique_ptr<QThreadPool> m_memoryWriter; // one thread: writes land in order
};

} // namespace parley
