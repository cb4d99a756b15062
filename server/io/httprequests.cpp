// IoThread's HTTP transport endpoints (see iothread.h and http/httpsink.h).
#include "app/servercontext.h"
#include "caps/caps.h"
#include "common/clock.h"
#include "common/constanttime.h"
#include "common/ids.h"
#include "common/loglimiter.h"
#include "common/post.h"
#include "http/httprequest.h"
#include "http/httpsink.h"
#include "protocol/envelopes.h"
#include "iothread.h"
#include "routing/noderouter.h"
#include "session/session.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cctype>

namespace parley::server {

Q_LOGGING_CATEGORY(lcHttp, "parley.http", QtInfoMsg)

std::optional<SessionToken> SessionToken::parse(const QByteArray& text)
{
    QByteArray local = text;
    std::string node;
    if (const qsizetype tilde = text.lastIndexOf('~'); tilde >= 0) {
        const QByteArray name = text.mid(tilde + 1);
        const bool validNode = !name.isEmpty() && name.size() <= 64
            && std::all_of(name.begin(), name.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_'
                       || c == '-';
               });
        if (!validNode) {
            return std::nullopt;
        }
        node = name.toStdString();
        local = text.left(tilde);
    }
    const QList<QByteArray> parts = local.split('.');
    if (parts.size() != 3 || parts[2].isEmpty() || parts[2].size() > 64) {
        return std::nullopt;
    }
    bool okThread = false;
    bool okSession = false;
    SessionToken token;
    token.thread = parts[0].toInt(&okThread);
    token.session = parts[1].toULongLong(&okSession);
    token.secret = parts[2];
    token.node = std::move(node);
    if (!okThread || !okSession || token.thread < 0) {
        return std::nullopt;
    }
    return token;
}

QByteArray SessionToken::toText() const
{
    QByteArray text = QByteArray::number(thread) + '.' + QByteArray::number(session) + '.' + secret;
    if (!node.empty()) {
        text += '~' + QByteArray::fromStdString(node);
    }
    return text;
}

void IoThread::respondHttp(QTcpSocket* socket, int status, const QByteArray& json, bool keepAlive)
{
    if (!keepAlive || m_shuttingDown) {
        answerHttp(socket, status, json);
        return;
    }
    socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(json.size())
        + "\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n" + json);
    // Back to reading: the next request gets a fresh head deadline (idle keep-alive connections
    // are closed by the same sweep).
    watchPending(socket);
    if (socket->bytesAvailable() > 0) {
        QPointer<QTcpSocket> guard(socket);
        post(this, [this, guard] {
            if (guard && m_pending.contains(guard.data())) {
                sniff(guard);
            }
        });
    }
}

void IoThread::handleHttp(QTcpSocket* socket, const HttpRequest& request)
{
    if (m_shuttingDown) {
        answerHttp(socket, 503, errorJson("unavailable", "server shutting down"));
        return;
    }
    switch (request.head.verdict) {
    case RequestSniffer::Verdict::OpenSession:
        openHttpSession(socket, request);
        return;
    case RequestSniffer::Verdict::Commands:
        forwardCommands(socket, request);
        return;
    case RequestSniffer::Verdict::EndSession:
        endHttpSession(socket, request);
        return;
    default:
        routeToSession(socket, request);
        return;
    }
}

void IoThread::openHttpSession(QTcpSocket* socket, const HttpRequest& request)
{
    // --session-rate-per-ip: before anything is made or parsed. Every POST /v1/session takes a
    // token, a refused hello too (so guessing credentials is throttled as well).
    if (const std::optional<PeerKey> peer = PeerKey::fromAddress(socket->peerAddress())) {
        const PeerRateLimiter::Verdict verdict
            = m_context.caps->sessionRate.tryTake(*peer, monotonicMs());
        if (!verdict.allowed) {
            static LogLimiter limiter("session_rate_limited");
            if (const auto suppressed = limiter.admit()) {
                qCInfo(lcHttp, "event=session_rate_limited peer=%s rate=%u%s",
                    qPrintable(peer->toString()), m_context.caps->sessionRate.rate(),
                    LogLimiter::suffix(*suppressed));
            }
            answerHttp(socket, 429,
                errorJson("rate_limited", "too many new sessions from this address"),
                verdict.retryAfterS);
            return;
        }
    }
    if (request.body.trimmed().isEmpty()) {
        respondHttp(socket, 400, errorJson("bad_json", "the body must be a hello frame"),
            request.head.keepAlive);
        return;
    }
    const std::uint64_t id = newSessionId();
    const QByteArray secret = QByteArray::fromStdString(secretHex(16));
    const ServerConfig& config = m_context.config;
    HttpSink::Settings settings;
    settings.maxOutboundBytes = config.maxOutboundBytes;
    settings.retryMs = int(config.sseRetryMs);
    settings.keepAliveMs = int(config.sseKeepAliveMs);
    settings.pollTimeoutMs = int(config.pollTimeoutMs);
    auto sinkOwner = std::make_unique<HttpSink>(secret, socket->peerAddress().toString(), settings,
        this, [this, id] { sessionDisconnected(id); });
    HttpSink* sink = sinkOwner.get();
    auto session = std::make_unique<Session>(*this, id, std::move(sinkOwner));
    Session* raw = session.get();
    m_sessions.emplace(id, std::move(session));
    m_httpSinks.emplace(id, sink);
    {
        const std::lock_guard lock(m_httpSecretsMutex);
        m_httpSecrets.emplace(id, secret);
    }
    m_context.sessions.fetch_add(1, std::memory_order_relaxed);

    raw->receiveText(request.body);
    const QByteArray first = sink->frame(1);
    const auto decoded = protocol::decodeServerFrame(std::string_view(first.data(), first.size()));
    if (!decoded || !std::holds_alternative<protocol::Welcome>(decoded.value())) {
        // Not welcomed (bad JSON, not a hello, unauthorized): the error frame says why.
        const auto* refusal = decoded ? std::get_if<protocol::Error>(&decoded.value()) : nullptr;
        if (refusal && refusal->code == protocol::ErrorCode::Overloaded) {
            // --max-sessions-per-user: the session closed itself (4007); the client waits.
            answerHttp(socket, 429, first, ConnectionCaps::kRetryAfterS);
            return;
        }
        const bool unauthorized = refusal && refusal->code == protocol::ErrorCode::Unauthorized;
        raw->close(unauthorized ? CloseCode::Unauthorized : CloseCode::BadFrame);
        respondHttp(socket, unauthorized ? 401 : 400,
            first.isEmpty() ? errorJson("bad_frame", "hello expected") : first,
            request.head.keepAlive);
        return;
    }
    sink->markDelivered(1);
    protocol::http::SessionReply reply;
    reply.session = std::to_string(id);
    reply.token = SessionToken { m_index, id, secret, m_context.nodeId }.toText().toStdString();
    reply.cursor = 1;
    reply.welcome = first.toStdString();
    respondHttp(socket, 200, QByteArray::fromStdString(protocol::http::encodeSessionReply(reply)),
        request.head.keepAlive);
}

namespace {

bool sameSecret(const QByteArray& a, const QByteArray& b)
{
    return constantTimeEquals(std::string_view(a.constData(), std::size_t(a.size())),
        std::string_view(b.constData(), std::size_t(b.size())));
}

} // namespace

bool IoThread::hasHttpSession(const SessionToken& token) const
{
    const std::lock_guard lock(m_httpSecretsMutex);
    const auto it = m_httpSecrets.find(token.session);
    return it != m_httpSecrets.end() && sameSecret(it->second, token.secret);
}

bool IoThread::admitFromHead(QTcpSocket* socket, const QByteArray& tokenText)
{
    const std::optional<SessionToken> token = SessionToken::parse(tokenText);
    if (!token) {
        refuseFromHead(socket, 401, "unauthorized", "missing or malformed session token");
        return false;
    }
    if (token->isElsewhere(m_context.nodeId)) {
        // Its node checks it (this one does not know that node's secrets); without a cluster
        // there is no such node.
        if (!m_context.router) {
            refuseFromHead(socket, 404, "unknown_session", "no such session");
            return false;
        }
        return true;
    }
    if (token->thread < 0 || token->thread >= int(m_context.ioThreads.size())) {
        refuseFromHead(socket, 401, "unauthorized", "missing or malformed session token");
        return false;
    }
    if (!m_context.ioThreads[std::size_t(token->thread)]->hasHttpSession(*token)) {
        // No such session, or not its secret: the same answer, so it reveals neither.
        refuseFromHead(socket, 404, "unknown_session", "no such session");
        return false;
    }
    return true;
}

void IoThread::refuseFromHead(
    QTcpSocket* socket, int status, const QByteArray& code, const QByteArray& message)
{
    static LogLimiter limiter("http_refused");
    if (const auto suppressed = limiter.admit()) {
        qCInfo(lcHttp, "event=http_refused status=%d code=%s peer=%s%s", status, code.constData(),
            qPrintable(socket->peerAddress().toString()), LogLimiter::suffix(*suppressed));
    }
    // Connection: close: the body, if one was declared, is not read (closeAfterResponse()
    // discards what still comes, within a cap).
    answerHttp(socket, status, errorJson(code, message));
}

HttpSink* IoThread::httpSink(std::uint64_t sessionId, const QByteArray& secret)
{
    const auto it = m_httpSinks.find(sessionId);
    if (it == m_httpSinks.end() || !sameSecret(it->second->secret(), secret)) {
        return nullptr;
    }
    const auto session = m_sessions.find(sessionId);
    if (session == m_sessions.end() || session->second->isClosing()) {
        return nullptr;
    }
    return it->second;
}

std::optional<SessionToken> IoThread::requireSessionToken(
    QTcpSocket* socket, const HttpRequest& request)
{
    std::optional<SessionToken> token = SessionToken::parse(request.head.sessionToken);
    // A token naming another node is checked there (its thread count may differ).
    if (!token
        || (!token->isElsewhere(m_context.nodeId)
            && token->thread >= int(m_context.ioThreads.size()))) {
        respondHttp(socket, 401, errorJson("unauthorized", "missing or malformed session token"),
            request.head.keepAlive);
        return std::nullopt;
    }
    return token;
}

void IoThread::respondSessionStatus(
    QTcpSocket* socket, int status, const QByteArray& successJson, bool keepAlive)
{
    switch (status) {
    case 200:
    case 202:
        respondHttp(socket, status, successJson, keepAlive);
        return;
    case 404:
        respondHttp(socket, 404, errorJson("unknown_session", "no such session"), keepAlive);
        return;
    case 504:
        respondHttp(socket, 504,
            errorJson("timeout", "the node holding the session did not answer in time"), keepAlive);
        return;
    default:
        respondHttp(socket, 503,
            errorJson("unavailable", "the node holding the session cannot be reached"), keepAlive);
        return;
    }
}

void IoThread::forwardCommands(QTcpSocket* socket, const HttpRequest& request)
{
    const bool keepAlive = request.head.keepAlive;
    const std::optional<SessionToken> token = requireSessionToken(socket, request);
    if (!token) {
        return;
    }
    // One frame, or a JSON array of frames (a batch): split here, decoded by the session.
    auto decoded = protocol::http::decodeCommands(
        std::string_view(request.body.constData(), std::size_t(request.body.size())));
    if (!decoded) {
        const protocol::DecodeError& error = decoded.error();
        respondHttp(socket, 400,
            errorJson(QByteArray(protocol::errorCodeName(error.code).data(),
                          qsizetype(protocol::errorCodeName(error.code).size())),
                QByteArray::fromStdString(error.message)),
            keepAlive);
        return;
    }
    QList<QString> frames;
    for (const std::string& frame : decoded.value()) {
        frames.push_back(QString::fromStdString(frame));
    }
    QPointer<QTcpSocket> guard(socket);
    const int count = int(frames.size());
    // The answer is written by the thread owning the socket.
    auto answer = [this, guard, keepAlive, count](int status) {
        post(this, [this, guard, keepAlive, count, status] {
            if (!guard) {
                return;
            }
            respondSessionStatus(
                guard, status, "{\"accepted\":" + QByteArray::number(count) + "}", keepAlive);
        });
    };
    if (token->isElsewhere(m_context.nodeId)) {
        // Cluster without sticky sessions: the owning node runs the frames (noderouter.h).
        if (!m_context.router) {
            answer(404);
            return;
        }
        m_context.router->forwardCommands(
            token->node, token->toText(), std::move(frames), std::move(answer));
        return;
    }
    runCommands(*token, std::move(frames), std::move(answer));
}

void IoThread::runCommands(
    const SessionToken& token, QList<QString> frames, std::function<void(int status)> done)
{
    if (token.isElsewhere(m_context.nodeId) || token.thread >= int(m_context.ioThreads.size())) {
        done(404);
        return;
    }
    IoThread* owner = m_context.ioThreads[std::size_t(token.thread)];
    post(owner, [owner, token, frames = std::move(frames), done = std::move(done)] {
        const bool found = owner->httpSink(token.session, token.secret) != nullptr;
        if (found) {
            Session& session = *owner->m_sessions.at(token.session);
            for (const QString& frame : frames) {
                if (session.isClosing()) {
                    break;
                }
                session.receiveText(frame.toUtf8());
            }
        }
        done(found ? 202 : 404);
    });
}

void IoThread::endHttpSession(QTcpSocket* socket, const HttpRequest& request)
{
    const bool keepAlive = request.head.keepAlive;
    const std::optional<SessionToken> token = requireSessionToken(socket, request);
    if (!token) {
        return;
    }
    QPointer<QTcpSocket> guard(socket);
    // The answer is written by the thread owning the socket.
    auto answer = [this, guard, keepAlive](int status) {
        post(this, [this, guard, keepAlive, status] {
            if (!guard) {
                return;
            }
            respondSessionStatus(guard, status, "{\"ended\":true}", keepAlive);
        });
    };
    if (token->isElsewhere(m_context.nodeId)) {
        if (!m_context.router) {
            answer(404);
            return;
        }
        m_context.router->forwardEndSession(token->node, token->toText(), std::move(answer));
        return;
    }
    endSession(*token, std::move(answer));
}

void IoThread::endSession(const SessionToken& token, std::function<void(int status)> done)
{
    if (token.isElsewhere(m_context.nodeId) || token.thread >= int(m_context.ioThreads.size())) {
        done(404);
        return;
    }
    IoThread* owner = m_context.ioThreads[std::size_t(token.thread)];
    post(owner, [owner, token, done = std::move(done)] {
        const bool found = owner->httpSink(token.session, token.secret) != nullptr;
        if (found) {
            owner->m_sessions.at(token.session)->close(CloseCode::Normal);
        }
        done(found ? 200 : 404);
    });
}

void IoThread::routeToSession(QTcpSocket* socket, const HttpRequest& request)
{
    const std::optional<SessionToken> token = requireSessionToken(socket, request);
    if (!token) {
        return;
    }
    const bool stream = request.head.verdict == RequestSniffer::Verdict::EventStream;
    if (token->isElsewhere(m_context.nodeId)) {
        // No stickiness needed: the owner serves it through a relay (noderouter.h).
        relayToOwner(socket, *token, stream, request.head.cursor, !request.head.cursor.isEmpty());
        return;
    }
    IoThread* owner = m_context.ioThreads[std::size_t(token->thread)];
    // The stream is written by the session's thread: hand the socket over. Not from here: we
    // are inside the socket's readyRead emission, and Qt still touches the socket after our
    // slot returns, so moving it now would race with the owner thread. A posted event runs once
    // the emission is over (the socket is parented to us and nothing else deletes it meanwhile).
    post(this, [this, owner, socket, token = *token, stream, cursor = request.head.cursor] {
        if (owner != this) {
            socket->setParent(nullptr);
            socket->moveToThread(owner->thread());
        }
        post(owner, [owner, socket, token, stream, cursor] {
            owner->attachHttp(socket, token.session, token.secret, stream, cursor);
        });
    });
}

void IoThread::attachHttp(
    QTcpSocket* socket, std::uint64_t sessionId, QByteArray secret, bool stream, QByteArray cursor)
{
    if (socket->parent() == nullptr) {
        socket->setParent(this);
    }
    HttpSink* sink = httpSink(sessionId, secret);
    if (!sink) {
        answerHttp(socket, 404, errorJson("unknown_session", "no such session"));
        return;
    }
    bool ok = true;
    const std::uint64_t after = cursor.isEmpty() ? 0 : cursor.toULongLong(&ok);
    if (!ok) {
        answerHttp(socket, 400, errorJson("bad_request", "malformed cursor"));
        return;
    }
    Session& session = *m_sessions.at(sessionId);
    const std::int64_t now = monotonicMs();
    session.touch(now);
    auto* downstream = new SocketDownstream(socket, discardCap(), this);
    if (stream) {
        sink->attachStream(
            downstream, cursor.isEmpty() ? std::nullopt : std::optional<std::uint64_t>(after));
    } else {
        sink->attachPoll(downstream, after, now);
    }
}

} // namespace parley::server
