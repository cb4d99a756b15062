#include "iothread.h"

#include "app/servercontext.h"
#include "broker/broker.h"
#include "caps/caps.h"
#include "common/clock.h"
#include "common/loglimiter.h"
#include "common/post.h"
#include "http/httprequest.h"
#include "http/httpsink.h"
#include "http/requestsniffer.h"
#include "presence/presencemanager.h"
#include "protocol/envelopes.h"
#include "routing/noderouter.h"
#include "routing/relaydownstream.h"
#include "session/session.h"
#include "session/websocketsink.h"
#include "storage/storageworker.h"
#include "websocket/handshake.h"


#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSocketNotifier>
#include <QStringList>
#include <QTcpSocket>
#include <QTimer>
#include <algorithm>
#include <fcntl.h>
#include <unistd.h>

namespace parley::server {

Q_LOGGING_CATEGORY(lcIo, "parley.io", QtInfoMsg)

const char* reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 401:
        return "Unauthorized";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 429:
        return "Too Many Requests";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

QByteArray errorJson(const QByteArray& code, const QByteArray& message)
{
    return QByteArray::fromStdString(protocol::http::encodeHttpError(
        { code.toStdString(), message.toStdString() }));
}

namespace {

// How long closing sessions may take to finish the close handshake at shutdown.
constexpr int kShutdownGraceMs = 3000;

} // namespace

IoThread::IoThread(int index, ServerContext& context)
    : m_index(index)
    , m_context(context)
{
    // Created here as a child so moveToThread() takes it along; started on the thread.
    m_sweepTimer = new QTimer(this);
    // Often enough for the shortest deadline it checks to be honoured within half its length.
    const ServerConfig& config = m_context.config;
    m_sweepIntervalMs
        = std::clamp<std::int64_t>(std::min({ config.heartbeatMs / 4, config.helloTimeoutMs / 2,
                                       config.frameTimeoutMs / 2, config.stallTimeoutMs / 2 }),
            25, 1000);
    m_sweepTimer->setInterval(int(m_sweepIntervalMs));
    m_sweepTimer->setTimerType(Qt::CoarseTimer);
    connect(m_sweepTimer, &QTimer::timeout, this, [this] { sweep(); });
    // Runs once this object's thread processes events (posted events follow moveToThread()).
    post(this, [this] { start(); });
}

IoThread::~IoThread()
{
    // Sessions first: their sockets are children of nobody and must go while we still exist.
    m_sessions.clear();
}

void IoThread::start()
{
    m_sweepTimer->start();
}

void IoThread::adopt(qintptr descriptor, CapSlot slot)
{
    auto* socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        static LogLimiter limiter("adopt_failed");
        if (const auto suppressed = limiter.admit()) {
            qCWarning(lcIo, "event=adopt_failed error=\"%s\"%s", qPrintable(socket->errorString()),
                LogLimiter::suffix(*suppressed));
        }
        delete socket;
        ::close(int(descriptor));
        return;
    }
    if (m_shuttingDown) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    holdConnectionSlot(socket, std::move(slot));
    // TCP_NODELAY: a chat frame is one small write; with Nagle on, a frame written while the
    // previous one is unacknowledged waits for the peer's (delayed) ACK — measured: echo p50 was
    // one client send interval (10 ms at 100 msg/s) at any load. Node's ws sets it too.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    watchPending(socket);
}

std::uint64_t IoThread::newSessionId() const
{
    constexpr std::uint64_t kRandomBits = (std::uint64_t(1) << 56) - 1;
    for (;;) {
        const std::uint64_t id = (std::uint64_t(m_index) << 56)
            | (QRandomGenerator::system()->generate64() & kRandomBits);
        if (id != 0 && !m_sessions.contains(id)) {
            return id;
        }
    }
}

qint64 IoThread::discardCap() const
{
    return qint64(m_context.config.maxFrameBytes) * 4;
}

void IoThread::watchPending(QTcpSocket* socket)
{
    // Nothing is kept past a request head until the head allowed a body (sniff()).
    socket->setReadBufferSize(m_context.config.maxHeaderBytes);
    m_pending.insert_or_assign(socket, monotonicMs() + m_context.config.headerTimeoutMs);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { sniff(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] { dropPending(socket); });
}

void IoThread::dropPending(QTcpSocket* socket)
{
    m_refused.erase(socket);
    if (m_pending.erase(socket) > 0) {
        QObject::disconnect(socket, nullptr, this, nullptr);
        socket->deleteLater();
    }
}

void IoThread::sniff(QTcpSocket* socket)
{
    const ServerConfig& config = m_context.config;
    const int maxHeader = int(config.maxHeaderBytes);
    const QByteArray head = socket->peek(maxHeader);
    RequestSniffer::Limits limits;
    limits.maxHeaderBytes = maxHeader;
    limits.maxCommandsBodyBytes = discardCap();
    limits.maxSessionBodyBytes = config.maxSessionBodyBytes;
    const RequestSniffer::Decision decision = RequestSniffer::inspect(head, limits);
    if (decision.verdict != RequestSniffer::Verdict::NeedMore && !m_refused.empty()) {
        if (const auto refused = m_refused.find(socket); refused != m_refused.end()) {
            answerRefused(socket, refused->second, decision.headBytes,
                decision.verdict == RequestSniffer::Verdict::WebSocket);
            return;
        }
    }
    switch (decision.verdict) {
    case RequestSniffer::Verdict::NeedMore:
        return;
    case RequestSniffer::Verdict::OpenSession:
    case RequestSniffer::Verdict::EndSession:
    case RequestSniffer::Verdict::Commands:
    case RequestSniffer::Verdict::EventStream:
    case RequestSniffer::Verdict::Poll: {
        // The token first, from the head: a body is read only for a request that may have one.
        if (decision.verdict != RequestSniffer::Verdict::OpenSession
            && !admitFromHead(socket, decision.sessionToken)) {
            return;
        }
        const qint64 needed = decision.headBytes + decision.contentLength;
        if (socket->bytesAvailable() < needed) {
            // The body is still coming (bounded by the same request deadline); room for it.
            socket->setReadBufferSize(std::max<qint64>(maxHeader, needed));
            return;
        }
        socket->skip(decision.headBytes);
        HttpRequest request { decision, socket->read(decision.contentLength) };
        socket->setReadBufferSize(maxHeader);
        m_pending.erase(socket);
        QObject::disconnect(socket, nullptr, this, nullptr);
        handleHttp(socket, request);
        return;
    }
    case RequestSniffer::Verdict::Health: {
        // Cluster: a node without its Redis link cannot publish; the balancer takes it out.
        // Presence and the node channel (forwarded commands, direct messages) count too.
        const bool brokerOk = m_context.broker->isHealthy()
            && (!m_context.presence || m_context.presence->isHealthy())
            && (!m_context.router || m_context.router->isHealthy());
        // Alone: a node whose storage cannot commit answers every send `unavailable`; it must
        // leave the balancer just the same. The snapshot is published by the storage thread.
        const std::optional<StorageWorker::Health> storage = m_context.storage
            ? std::optional<StorageWorker::Health>(m_context.storage->health())
            : std::nullopt;
        const bool storageOk = !storage || storage->ok;
        const bool healthy = !m_shuttingDown && brokerOk && storageOk;
        QStringList reasons;
        if (m_shuttingDown) {
            reasons.append(QStringLiteral("shutting down"));
        }
        if (!brokerOk) {
            reasons.append(QStringLiteral("redis link down"));
        }
        if (!storageOk) {
            reasons.append(QStringLiteral("storage: ") + QString::fromStdString(storage->error));
        }
        QJsonObject body {
            { QStringLiteral("status"),
                m_shuttingDown ? QStringLiteral("stopping")
                               : (healthy ? QStringLiteral("ok") : QStringLiteral("degraded")) },
            { QStringLiteral("node"), QString::fromStdString(m_context.nodeId) },
            { QStringLiteral("sessions"), m_context.sessions.load(std::memory_order_relaxed) },
            { QStringLiteral("connections"), qint64(m_context.caps->connections.connections()) },
            { QStringLiteral("version"), QStringLiteral(PARLEY_VERSION) },
        };
        if (!healthy) {
            body.insert(QStringLiteral("reason"), reasons.join(QStringLiteral("; ")));
        }
        if (!m_context.config.redisUrl.isEmpty()) {
            body.insert(QStringLiteral("redis"), brokerOk);
            body.insert(QStringLiteral("node_channel"),
                m_context.router != nullptr && m_context.router->isHealthy());
        }
        if (storage) {
            body.insert(QStringLiteral("storage"), storage->ok);
            if (!storage->ok) {
                body.insert(
                    QStringLiteral("storage_error"), QString::fromStdString(storage->error));
                body.insert(
                    QStringLiteral("storage_failing_since_ms"), qint64(storage->failingSinceMs));
            }
        }
        answerHttp(socket, healthy ? 200 : 503, QJsonDocument(body).toJson(QJsonDocument::Compact));
        return;
    }
    case RequestSniffer::Verdict::Reject: {
        static LogLimiter limiter("http_reject");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcIo, "event=http_reject status=%d code=%s%s", decision.status,
                decision.code.constData(), LogLimiter::suffix(*suppressed));
        }
        answerHttp(socket, decision.status, errorJson(decision.code, decision.message));
        return;
    }
    case RequestSniffer::Verdict::WebSocket:
        upgradeToWebSocket(socket, decision.headBytes);
        return;
    }
}

void IoThread::answerHttp(QTcpSocket* socket, int status, const QByteArray& json, int retryAfterS)
{
    m_pending.erase(socket);
    m_refused.erase(socket);
    QObject::disconnect(socket, nullptr, this, nullptr);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(json.size())
        + "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    if (retryAfterS > 0) {
        response += "Retry-After: " + QByteArray::number(retryAfterS) + "\r\n";
    }
    if (status == 405) {
        response += json.contains("use POST") ? "Allow: POST\r\n" : "Allow: GET\r\n";
    }
    response += "\r\n" + json;
    socket->write(response);
    // A peer that does not read its answer must not pin the socket: closeAfterResponse() gives
    // up after a while.
    closeAfterResponse(socket, discardCap());
}

void IoThread::upgradeToWebSocket(QTcpSocket* socket, int headBytes)
{
    m_pending.erase(socket);
    QObject::disconnect(socket, nullptr, this, nullptr);
    const QByteArray head = socket->read(headBytes);
    const websocket::HandshakeReply reply = websocket::answerHandshake(head);
    if (!reply.accepted || m_shuttingDown) {
        if (m_shuttingDown) {
            answerHttp(socket, 503, errorJson("shutting_down", "server shutting down"));
            return;
        }
        static LogLimiter limiter("websocket_refused");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcIo, "event=websocket_refused status=%d code=%s%s", reply.status,
                reply.code.constData(), LogLimiter::suffix(*suppressed));
        }
        socket->write(reply.response);
        closeAfterResponse(socket, discardCap());
        return;
    }
    // An answer to an earlier request on a kept-alive connection may still sit in the
    // QTcpSocket's write buffer: hand it to the kernel first. What the kernel does not take now
    // (a client that stopped reading) cannot follow the descriptor: such a client is dropped.
    socket->flush();
    if (socket->bytesToWrite() > 0) {
        static LogLimiter limiter("websocket_refused");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcIo, "event=websocket_refused reason=unsent_http_response%s",
                LogLimiter::suffix(*suppressed));
        }
        socket->abort();
        socket->deleteLater();
        return;
    }
    // Frames the client sent before our 101: already in the QTcpSocket's buffer.
    const QByteArray early = socket->readAll();
    // Take the descriptor over. The QTcpSocket's notifiers are disabled first, so they leave
    // the epoll set while the descriptor is still open (NotifierTable::remove), then the
    // QTcpSocket closes its descriptor; the connection lives on in the duplicate.
    CapSlot slot = takeConnectionSlot(socket); // the connection lives on in the duplicate
    const int fd = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    for (QSocketNotifier* notifier : socket->findChildren<QSocketNotifier*>()) {
        notifier->setEnabled(false);
    }
    socket->abort();
    socket->deleteLater();
    if (fd < 0) {
        const int error = errno;
        static LogLimiter limiter("websocket_dup_failed");
        if (const auto suppressed = limiter.admit()) {
            qCWarning(lcIo, "event=websocket_dup_failed errno=%d%s", error,
                LogLimiter::suffix(*suppressed));
        }
        return;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

    const std::uint64_t id = newSessionId();
    const ServerConfig& config = m_context.config;
    WebSocketConnection::Settings settings;
    // Messages up to maxFrameBytes are decoded; up to 4x that they are read and refused with
    // `frame_too_large` (the connection carries on); beyond that the frame parser closes with
    // 1009 from the frame header, before buffering the payload.
    settings.maxMessageBytes = config.maxFrameBytes * 4;
    // The session closes a slow consumer (4003) past maxOutboundBytes before each live frame.
    // Replies to its own requests are queued, but past maxOutboundBytes the connection is not
    // read (no more requests) until the client has read them; its own bound is higher, for the
    // replies to what one read brought in.
    settings.pauseReadingBytes = config.maxOutboundBytes;
    settings.maxQueuedBytes
        = std::uint32_t(std::min<qint64>(qint64(config.maxOutboundBytes) * 2, 0xffffffffLL));
    settings.stallTimeoutMs = config.stallTimeoutMs;
    settings.frameTimeoutMs = config.frameTimeoutMs;
    settings.minFrameRate = config.minFrameRate;
    // Removal is deferred to its own event: the connection can end from inside a write made
    // during a fan-out loop, and the loop must not see its set change under it.
    auto sink = std::make_unique<WebSocketSink>(
        fd, settings, [this, id] { post(this, [this, id] { sessionDisconnected(id); }); });
    WebSocketSink* rawSink = sink.get();
    rawSink->holdConnectionSlot(std::move(slot));
    rawSink->connection().writeRaw(reply.response);
    auto session = std::make_unique<Session>(*this, id, std::move(sink));
    rawSink->attach(session.get());
    m_sessions.emplace(id, std::move(session));
    m_context.sessions.fetch_add(1, std::memory_order_relaxed);
    if (!early.isEmpty()) {
        rawSink->connection().receive(early);
    }
}

void IoThread::sessionDisconnected(std::uint64_t sessionId)
{
    const auto it = m_sessions.find(sessionId);
    if (it == m_sessions.end()) {
        return;
    }
    it->second->detach();
    if (m_httpSinks.erase(sessionId) > 0) {
        const std::lock_guard lock(m_httpSecretsMutex);
        m_httpSecrets.erase(sessionId);
    }
    m_sessions.erase(it);
    m_context.sessions.fetch_sub(1, std::memory_order_relaxed);
    checkDrained();
}

void IoThread::runOnSession(std::uint64_t sessionId, std::function<void(Session&)> f)
{
    post(this, [this, sessionId, f = std::move(f)] {
        if (const auto it = m_sessions.find(sessionId); it != m_sessions.end()) {
            f(*it->second);
        }
    });
}

void IoThread::deliverToRoom(const std::string& room, std::uint64_t seq, TextFrame frame)
{
    post(this, [this, room, seq, frame = std::move(frame)] {
        const auto it = m_rooms.find(room);
        if (it == m_rooms.end()) {
            return;
        }
        for (Session* session : it->second) {
            session->deliverLive(room, seq, frame);
        }
    });
}

void IoThread::completeJoin(std::uint64_t sessionId, JoinResult result)
{
    runOnSession(sessionId,
        [result = std::move(result)](Session& session) { session.onJoinCompleted(result); });
}

void IoThread::addRoomMember(const std::string& room, Session* session)
{
    m_rooms[room].insert(session);
}

void IoThread::removeRoomMember(const std::string& room, Session* session)
{
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end()) {
        return;
    }
    it->second.erase(session);
    if (it->second.empty()) {
        m_rooms.erase(it);
    }
}

void IoThread::sweep()
{
    const std::int64_t now = monotonicMs();
    std::vector<QTcpSocket*> expired;
    for (const auto& [socket, deadline] : m_pending) {
        if (now >= deadline) {
            expired.push_back(socket);
        }
    }
    for (QTcpSocket* socket : expired) {
        static LogLimiter limiter("header_timeout");
        if (const auto suppressed = limiter.admit(now)) {
            qCInfo(lcIo, "event=header_timeout%s", LogLimiter::suffix(*suppressed));
        }
        answerHttp(socket, 408, errorJson("timeout", "request head not received in time"));
    }
    if (m_index == 0) {
        LogLimiter::flushSuppressed(now); // process-wide: one thread does it
        if (now - m_lastPruneMs >= 1000) {
            m_context.caps->sessionRate.prune(now);
            m_lastPruneMs = now;
        }
    }
    closeUnattachedSessions(now);
    for (const auto& [id, session] : m_sessions) {
        session->checkTimeouts(now);
    }
    for (const auto& [id, sink] : m_httpSinks) {
        sink->tick(now);
    }
    // Relays whose holder went away (a part of the response reached nobody): let go, so the
    // session's next request is not written into the void.
    std::vector<RelayDownstream*> orphaned;
    for (const auto& [key, downstream] : m_relayDownstreams) {
        if (downstream->isHolderGone()) {
            orphaned.push_back(downstream);
        }
    }
    for (RelayDownstream* downstream : orphaned) {
        m_relayDownstreams.erase(downstream->link().key());
        downstream->holderGone();
    }
}

void IoThread::shutdown(std::function<void()> drained)
{
    post(this, [this, drained = std::move(drained)] {
        m_shuttingDown = true;
        m_drained = drained;
        std::vector<QTcpSocket*> pending;
        for (const auto& [socket, deadline] : m_pending) {
            pending.push_back(socket);
        }
        m_refused.clear();
        for (QTcpSocket* socket : pending) {
            m_pending.erase(socket);
            QObject::disconnect(socket, nullptr, this, nullptr);
            socket->abort();
            socket->deleteLater();
        }
        // Clients of sessions on other nodes: they re-request through another node.
        std::vector<std::uint64_t> relays;
        for (const auto& [id, relay] : m_heldRelays) {
            relays.push_back(id);
        }
        for (const std::uint64_t id : relays) {
            dropHeldRelay(id, true);
        }
        for (const auto& [id, session] : m_sessions) {
            session->close(CloseCode::GoingAway);
        }
        QTimer::singleShot(kShutdownGraceMs, this, [this] {
            // Peers that did not finish the close handshake in time are dropped.
            for (auto& [id, session] : m_sessions) {
                session->detach();
            }
            m_context.sessions.fetch_sub(int(m_sessions.size()), std::memory_order_relaxed);
            m_httpSinks.clear();
            {
                const std::lock_guard lock(m_httpSecretsMutex);
                m_httpSecrets.clear();
            }
            m_sessions.clear();
            checkDrained();
        });
        checkDrained();
    });
}

void IoThread::checkDrained()
{
    if (!m_shuttingDown || !m_sessions.empty() || !m_drained) {
        return;
    }
    m_sweepTimer->stop();
    auto drained = std::move(m_drained);
    m_drained = nullptr;
    drained();
}

} // namespace parley::server
