// The Client facade and its connection lifecycle. Frame handling: clientframes.cpp.
#include "client_p.h"

#include "protocol/codec.h"
#include "transport/transport.h"
#include "transport/transportfactory.h"
#include "wireconversion.h"

#include <QUuid>

namespace parley {

// ---------------------------------------------------------------------------------------------
// Facade: forwards to Private.

Client::Client(QObject* parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{
}

Client::Client(const ClientOptions& options, QObject* parent)
    : Client(parent)
{
    setOptions(options);
}

Client::~Client() = default;

void Client::setOptions(const ClientOptions& options)
{
    d->options = options;
    // The bounds apply at once (to sends queued before the first connection too); invalid ones
    // are reported by connectToServer().
    if (!options.validate()) {
        d->outbox.setLimits(options.maxOutboxMessages, options.maxOutboxBytes);
        d->tracker.setMaxHeld(options.maxHeldMessages);
    }
    d->openJournal();
}

const ClientOptions& Client::options() const
{
    return d->options;
}

ConnectionState Client::state() const
{
    return d->state;
}

QString Client::sessionId() const
{
    return d->sessionId;
}

QString Client::serverNode() const
{
    return d->serverNode;
}

QStringList Client::joinedRooms() const
{
    QStringList result;
    for (auto it = d->rooms.constBegin(); it != d->rooms.constEnd(); ++it) {
        if (it->phase == Private::Room::Phase::Joined) {
            result.append(it.key());
        }
    }
    result.sort();
    return result;
}

std::optional<quint64> Client::lastDeliveredSeq(const QString& room) const
{
    const auto cursor = d->tracker.cursor(room);
    return cursor ? std::optional<quint64>(cursor->seq) : std::nullopt;
}

int Client::pendingMessageCount() const
{
    return d->outbox.size();
}

std::optional<MessageState> Client::messageState(const QString& clientId) const
{
    return d->messageState(clientId);
}

QStringList Client::failedMessages() const
{
    return d->failedOrder;
}

TransportKind Client::transport() const
{
    return d->transportKind();
}

int Client::reconnectAttempt() const
{
    return d->state == ConnectionState::Reconnecting ? d->policyAttempt() : 0;
}

QDateTime Client::nextReconnectAt() const
{
    return d->state == ConnectionState::Reconnecting ? d->nextReconnectAt : QDateTime();
}

bool Client::retry(const QString& clientId)
{
    return d->retry(clientId);
}

bool Client::discard(const QString& clientId)
{
    return d->discard(clientId);
}

void Client::connectToServer()
{
    d->connectToServer();
}

void Client::disconnectFromServer()
{
    d->disconnectFromServer();
}

void Client::reconnectNow()
{
    d->reconnectNow();
}

void Client::join(const QString& room)
{
    d->join(room);
}

void Client::leave(const QString& room)
{
    d->leave(room);
}

QString Client::send(const QString& room, const QString& text)
{
    return d->send(room, text);
}

QString Client::send(const QString& room, const QString& text, const QString& clientId)
{
    return d->send(room, text, clientId);
}

QString Client::fetchHistory(const QString& room, const HistoryQuery& query)
{
    return d->fetchHistory(room, query);
}

// ---------------------------------------------------------------------------------------------
// Private: lifecycle and user operations.

Client::Private::Private(Client* q)
    : q(q)
    , outbox(options.maxOutboxMessages, options.maxOutboxBytes)
    , tracker(options.maxHeldMessages)
    , m_requestTimer(new QTimer(q))
    , m_outboxTimer(new QTimer(q))
    , m_reconnectTimer(new QTimer(q))
    , m_healthyTimer(new QTimer(q))
    , m_heartbeatTimer(new QTimer(q))
    , m_probeTimer(new QTimer(q))
{
    m_clock.start();
    m_requestTimer->setSingleShot(true);
    m_outboxTimer->setSingleShot(true);
    m_reconnectTimer->setSingleShot(true);
    m_healthyTimer->setSingleShot(true);
    m_probeTimer->setSingleShot(true);
    QObject::connect(m_probeTimer, &QTimer::timeout, q, [this] { onProbeTimer(); });
    m_heartbeatTimer->setTimerType(Qt::PreciseTimer);
    QObject::connect(m_reconnectTimer, &QTimer::timeout, q, [this] { openTransport(); });
    QObject::connect(m_healthyTimer, &QTimer::timeout, q, [this] { m_policy.reset(); });
    QObject::connect(m_heartbeatTimer, &QTimer::timeout, q, [this] { onHeartbeatTimer(); });
    QObject::connect(m_requestTimer, &QTimer::timeout, q, [this] { onRequestTimer(); });
    QObject::connect(m_outboxTimer, &QTimer::timeout, q, [this] { onOutboxTimer(); });
}

Client::Private::~Private()
{
    for (Transport* transport : { m_transport, m_probe }) {
        if (transport) {
            QObject::disconnect(transport, nullptr, q, nullptr);
            delete transport;
        }
    }
}

QString Client::Private::nextRequestId(QChar prefix)
{
    return prefix + QString::number(++m_requestCounter);
}

void Client::Private::setState(ConnectionState newState)
{
    if (state == newState) {
        return;
    }
    state = newState;
    Q_EMIT q->stateChanged(newState);
}

void Client::Private::post(std::function<void()> emitter)
{
    QMetaObject::invokeMethod(q, std::move(emitter), Qt::QueuedConnection);
}

void Client::Private::connectToServer()
{
    if (state == ConnectionState::Connecting || state == ConnectionState::Connected) {
        return;
    }
    if (state == ConnectionState::Reconnecting) {
        reconnectNow();
        return;
    }
    if (const auto invalid = options.validate()) {
        post([this, error = *invalid] { Q_EMIT q->errorOccurred(error); });
        return;
    }
    outbox.setLimits(options.maxOutboxMessages, options.maxOutboxBytes);
    tracker.setMaxHeld(options.maxHeldMessages);
    m_policy.setOptions(options.reconnect);
    m_policy.reset();
    watchNetwork();
    startNegotiation();
    openTransport();
}

void Client::Private::reconnectNow()
{
    if (state == ConnectionState::Reconnecting) {
        m_reconnectTimer->stop();
        openTransport();
    }
}

void Client::Private::scheduleReconnect()
{
    // Whatever ended this connection, the next attempt goes to the next endpoint: a node that
    // died or refuses is not retried first.
    m_policy.rotate();
    // A server that refused for capacity said how long to stay away: at least that, with the
    // policy's jittered delay on top, so the refused clients do not all return at once.
    const auto delay = std::exchange(m_serverRetryAfter, std::chrono::milliseconds(0))
        + m_policy.nextDelay();
    m_reconnectTimer->start(delay);
    nextReconnectAt = QDateTime::currentDateTimeUtc().addMSecs(delay.count());
    setState(ConnectionState::Reconnecting);
    Q_EMIT q->reconnectScheduled(m_policy.attempt(), int(delay.count()));
}

void Client::Private::watchNetwork()
{
    if (m_network) {
        return;
    }
    m_network = new NetworkMonitor(q);
    QObject::connect(
        m_network, &NetworkMonitor::networkReturned, q, [this] { onNetworkReachable(); });
    m_network->start();
}

void Client::Private::onNetworkReachable()
{
    reconnectNow();
}

void Client::Private::openTransport()
{
    m_userClosing = false;
    m_serverRetryAfter = std::chrono::milliseconds(0);
    nextReconnectAt = QDateTime();

    const QUrl url = options.endpoints.at(m_policy.endpoint(int(options.endpoints.size())));
    const TransportKind kind = nextTransportKind();
    beginConnection(createTransport(url, kind, options.proxy, q), kind);
    m_transport->open(url);
}

void Client::Private::beginConnection(Transport* transport, TransportKind kind)
{
    welcomed = false;
    m_transportProven = false;
    m_connectionProven = false;
    m_resuming.clear();
    m_transport = transport;
    QObject::connect(m_transport, &Transport::opened, q, [this] { onTransportOpened(); });
    QObject::connect(m_transport, &Transport::frameReceived, q,
        [this](const QByteArray& frame) { onFrame(frame); });
    QObject::connect(m_transport, &Transport::closed, q,
        [this](int code, const QString& reason) { onTransportClosed(code, reason); });

    // The handshake deadline covers opening the transport and the welcome.
    m_helloId = nextRequestId(QLatin1Char('c'));
    Request hello;
    hello.kind = Request::Kind::Hello;
    hello.deadlineMs = now() + options.requestTimeout.count();
    m_requests.insert(m_helloId, hello);
    armRequestTimer();

    setTransportKind(kind);
    setState(ConnectionState::Connecting);
}

void Client::Private::disconnectFromServer()
{
    m_userClosing = true;
    m_reconnectTimer->stop();
    dropConnection(makeError(ErrorCode::Cancelled, QStringLiteral("disconnected by the client")),
        ConnectionState::Closed);
}

void Client::Private::onTransportOpened()
{
    protocol::Hello hello;
    hello.id = toWire(m_helloId);
    hello.user = toWire(options.user);
    hello.token = toWire(options.token);
    // Resume cursors: where each followed room stands, so the server can replay what this
    // client missed while it was away.
    const auto cursors = tracker.cursors();
    for (auto it = cursors.constBegin(); it != cursors.constEnd(); ++it) {
        if (rooms.contains(it.key())) {
            hello.resume.push_back(
                protocol::ResumeCursor { toWire(it.key()), { toWire(it->epoch), it->seq } });
            m_resuming.insert(it.key());
        }
    }
    sendFrame(hello);
}

void Client::Private::onTransportClosed(int code, const QString& reason)
{
    m_serverUnreachable = m_transport && !m_transport->reachedServer();
    m_serverRetryAfter = m_transport ? m_transport->retryAfter() : std::chrono::milliseconds(0);
    if (m_transport) {
        m_transport->deleteLater();
        m_transport = nullptr;
    }
    if (m_userClosing) {
        return;
    }
    // 1006 is no code the server sent (the connection ended without a close frame): the
    // transport's reason alone says what happened, e.g. "connection refused".
    const bool abnormal = code == Transport::AbnormalClosure;
    const QString detail = reason.isEmpty()
        ? (abnormal ? QStringLiteral("the connection dropped")
                    : QStringLiteral("close code %1").arg(code))
        : (abnormal ? reason : QStringLiteral("%1 (close code %2)").arg(reason).arg(code));
    if (code == 4001) {
        connectionEnded(makeError(ErrorCode::Unauthorized, detail), ConnectionState::Closed);
    } else if (!ReconnectPolicy::isRetryableClose(code)) {
        // Terminal for this client (e.g. replaced by a newer session of the same user).
        connectionEnded(makeError(ErrorCode::ConnectionLost, detail), ConnectionState::Closed);
    } else if (welcomed) {
        connectionEnded(makeError(ErrorCode::ConnectionLost, detail), ConnectionState::Disconnected);
    } else {
        connectionEnded(makeError(ErrorCode::ConnectionFailed, detail), ConnectionState::Disconnected);
    }
}

void Client::Private::dropConnection(const Error& error, ConnectionState next)
{
    retireTransport();
    connectionEnded(error, next);
}

void Client::Private::retireTransport()
{
    if (m_transport) {
        // Let the transport finish its close handshake on its own (an HTTP transport ends its
        // server session), then go.
        Transport* retiring = m_transport;
        m_transport = nullptr;
        QObject::disconnect(retiring, nullptr, q, nullptr);
        QObject::connect(retiring, &Transport::closed, retiring, &QObject::deleteLater);
        retiring->close(1000, QString());
    }
}

void Client::Private::checkConnectionProven()
{
    if (m_connectionProven || !welcomed) {
        return;
    }
    for (auto it = rooms.constBegin(); it != rooms.constEnd(); ++it) {
        if (it->phase == Room::Phase::Joining || m_resuming.contains(it.key())) {
            return;
        }
    }
    m_connectionProven = true;
    m_healthyTimer->stop();
    m_policy.reset();
}

void Client::Private::connectionEnded(const Error& error, ConnectionState next)
{
    const bool userClosed = error.code == ErrorCode::Cancelled;
    stopUpgradeProbe();
    if (!userClosed) {
        noteConnectionEnded();
    }
    const QStringList leaving = resetConnection(error, false);
    for (const QString& room : leaving) {
        Q_EMIT q->left(room);
    }
    if (!userClosed) {
        Q_EMIT q->errorOccurred(error);
        if (m_userClosing) {
            return; // a slot called disconnectFromServer(): Closed, and no retry
        }
    }
    if (next == ConnectionState::Disconnected && options.reconnect.enabled && !m_userClosing) {
        scheduleReconnect();
        return;
    }
    setState(next);
}

QStringList Client::Private::resetConnection(const Error& error, bool switching)
{
    const bool userClosed = error.code == ErrorCode::Cancelled;
    welcomed = false;
    m_healthyTimer->stop();
    m_heartbeatTimer->stop();
    m_resuming.clear();
    sessionId.clear();
    serverNode.clear();
    m_catchUps.clear();

    // Requests answered by the old connection will never be answered. Sent history requests
    // fail; those still waiting for their room keep waiting for the next connection, unless the
    // user closed.
    const auto requests = m_requests;
    for (auto it = requests.constBegin(); it != requests.constEnd(); ++it) {
        const Request& request = it.value();
        switch (request.kind) {
        case Request::Kind::Hello:
        case Request::Kind::Join:
        case Request::Kind::CatchUp:
            m_requests.remove(it.key());
            break;
        case Request::Kind::Leave:
            m_requests.remove(it.key());
            break;
        case Request::Kind::Presence: // always sent at once: its answer is lost with the link
        case Request::Kind::Direct:
            m_requests.remove(it.key());
            failRequest(
                it.key(), request, Error { error.code, error.message, error.retryable, it.key() });
            break;
        case Request::Kind::History:
            if (switching) {
                m_requests[it.key()].sent = false; // asked again once its room is rejoined
            } else if (request.sent || userClosed) {
                m_requests.remove(it.key());
                Q_EMIT q->historyFailed(it.key(), request.room,
                    Error { error.code, error.message, error.retryable, it.key() });
            }
            break;
        }
    }
    // Rooms stay wanted and are rejoined by the next connection; a leave in flight is done: the
    // server forgets the session's rooms with the session.
    QStringList leaving;
    for (auto it = rooms.begin(); it != rooms.end(); ++it) {
        if (it->phase == Room::Phase::Leaving) {
            leaving.append(it.key());
        } else {
            it->phase = Room::Phase::Joining;
            it->requestId.clear();
        }
    }
    for (const QString& room : leaving) {
        rooms.remove(room);
        tracker.forget(room);
    }
    for (const QString& id : outbox.requeueSent()) {
        announce(id, MessageState::Queued);
    }
    armRequestTimer();
    return leaving;
}

void Client::Private::join(const QString& room)
{
    if (!protocol::isValidRoomName(toWire(room))) {
        post([this, room] {
            Q_EMIT q->joinFailed(room,
                makeError(ErrorCode::BadRoom,
                    QStringLiteral("room name '%1' is not 1..64 characters of [A-Za-z0-9._-]")
                        .arg(room)));
        });
        return;
    }
    const auto it = rooms.find(room);
    if (it != rooms.end()) {
        if (it->phase == Room::Phase::Leaving) {
            it->phase = Room::Phase::Joining;
            it->requestId.clear();
            if (welcomed) {
                sendJoin(room);
            }
        }
        return;
    }
    rooms.insert(room, Room {});
    if (welcomed) {
        sendJoin(room);
    }
}

void Client::Private::leave(const QString& room)
{
    const auto it = rooms.find(room);
    if (it == rooms.end() || it->phase == Room::Phase::Leaving) {
        return;
    }
    const Error notJoined = makeError(ErrorCode::NotJoined, QStringLiteral("left the room before sending"));
    for (const OutboxEntry& entry : outbox.takeQueuedForRoom(room)) {
        failMessage(entry, notJoined, true);
    }
    const auto requests = m_requests;
    for (auto r = requests.constBegin(); r != requests.constEnd(); ++r) {
        if (r->room == room && (r->kind == Request::Kind::CatchUp
                || (r->kind == Request::Kind::History && !r->sent))) {
            m_requests.remove(r.key());
            if (r->kind == Request::Kind::History) {
                post([this, id = r.key(), room] {
                    Q_EMIT q->historyFailed(id, room,
                        makeError(ErrorCode::Cancelled, QStringLiteral("left the room"), id));
                });
            }
        }
    }
    m_catchUps.remove(room);
    if (welcomed && it->phase == Room::Phase::Joined) {
        const QString id = nextRequestId(QLatin1Char('l'));
        it->phase = Room::Phase::Leaving;
        it->requestId = id;
        Request request;
        request.kind = Request::Kind::Leave;
        request.room = room;
        request.sent = true;
        request.deadlineMs = now() + options.requestTimeout.count();
        m_requests.insert(id, request);
        armRequestTimer();
        sendFrame(protocol::Leave { toWire(id), toWire(room) });
        return;
    }
    // Not joined on the server (offline, or the join still in flight: its `joined` is ignored and
    // the server-side membership ends with a leave sent now).
    if (welcomed && !it->requestId.isEmpty()) {
        m_requests.remove(it->requestId);
        sendFrame(protocol::Leave { std::string(), toWire(room) });
    }
    rooms.erase(it);
    tracker.forget(room);
    post([this, room] { Q_EMIT q->left(room); });
}

QString Client::Private::send(const QString& room, const QString& text)
{
    const QString clientId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    submit(clientId, room, text);
    return clientId;
}

QString Client::Private::send(const QString& room, const QString& text, const QString& clientId)
{
    const auto refuse = [&](const QString& why) {
        // Not through failMessage(): the id may be that of a message still held, whose entry a
        // failed copy must not replace.
        post([this, clientId, error = makeError(ErrorCode::InvalidArgument, why)] {
            Q_EMIT q->messageFailed(clientId, error);
        });
        return clientId;
    };
    const qsizetype bytes = clientId.toUtf8().size();
    if (bytes < 1 || bytes > 64) {
        return refuse(QStringLiteral("a client id is 1..64 bytes, not %1").arg(bytes));
    }
    if (outbox.find(clientId) || failed.contains(clientId)) {
        return refuse(
            QStringLiteral("client id '%1' belongs to a message not yet acked").arg(clientId));
    }
    submit(clientId, room, text);
    return clientId;
}

QString Client::Private::fetchHistory(const QString& room, const HistoryQuery& query)
{
    const QString id = nextRequestId(QLatin1Char('h'));
    const auto fail = [&](ErrorCode code, const QString& why) {
        post([this, id, room, error = makeError(code, why, id)] {
            Q_EMIT q->historyFailed(id, room, error);
        });
        return id;
    };
    if (query.beforeSeq && query.afterSeq) {
        return fail(ErrorCode::InvalidArgument, QStringLiteral("set beforeSeq or afterSeq, not both"));
    }
    if (query.limit < 1) {
        return fail(ErrorCode::InvalidArgument, QStringLiteral("limit must be at least 1"));
    }
    const auto it = rooms.constFind(room);
    if (it == rooms.constEnd() || it->phase == Room::Phase::Leaving) {
        return fail(ErrorCode::NotJoined, QStringLiteral("join room '%1' before fetching its history").arg(room));
    }
    Request request;
    request.kind = Request::Kind::History;
    request.room = room;
    request.query = query;
    request.deadlineMs = now() + options.requestTimeout.count();
    auto inserted = m_requests.insert(id, request);
    if (welcomed && it->phase == Room::Phase::Joined) {
        sendHistory(id, *inserted);
    }
    armRequestTimer();
    return id;
}

} // namespace parley
