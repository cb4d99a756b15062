// IoThread's relayed HTTP responses in a cluster (see iothread.h and routing/noderouter.h,
// "relayed responses"): the holder side keeps a client's GET /v1/sse or /v1/poll whose session
// lives on another node and writes what the owner sends; the owner side attaches a
// RelayDownstream to the session's sink.
#include "app/servercontext.h"
#include "common/clock.h"
#include "common/loglimiter.h"
#include "common/post.h"
#include "http/httprequest.h"
#include "http/httpsink.h"
#include "iothread.h"
#include "routing/noderouter.h"
#include "routing/relaydownstream.h"
#include "session/session.h"

#include <QLoggingCategory>
#include <QTcpSocket>

namespace parley::server {

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

// --- Holder side: the client is here, its session on another node. -------------------------

void IoThread::relayToOwner(QTcpSocket* socket, const SessionToken& token, bool stream,
    const QByteArray& cursor, bool cursorGiven)
{
    if (!m_context.router) {
        answerHttp(socket, 404, errorJson("unknown_session", "the session lives on another node"));
        return;
    }
    bool ok = true;
    if (cursorGiven) {
        cursor.toULongLong(&ok);
    }
    if (!ok) {
        answerHttp(socket, 400, errorJson("bad_request", "malformed cursor"));
        return;
    }
    NodeRouter::RelayHandler handler;
    // Called on the router's thread: the socket is written here.
    handler.data = [this](std::uint64_t id, QByteArray bytes) {
        post(this, [this, id, bytes = std::move(bytes)] { onRelayData(id, bytes); });
    };
    handler.ended = [this](std::uint64_t id, int status) {
        post(this, [this, id, status] { onRelayEnded(id, status); });
    };
    const std::uint64_t id = m_context.router->openRelay(token.node, token.toText(), stream,
        cursorGiven ? cursor : QByteArray(), std::move(handler));
    // The router's answers are posted to this thread: they run after this function returned.
    m_heldRelays.emplace(id, HeldRelay { socket, false });
    connect(socket, &QTcpSocket::disconnected, this, [this, id] { dropHeldRelay(id, false); });
    // A held request has nothing more to say: what a client sends anyway is a protocol error
    // and drops the connection (its session, on the owner, lives on). The read buffer is still
    // bounded from the head (iothread.h), so nothing piles up meanwhile.
    const auto unexpected = [this, id] {
        const auto it = m_heldRelays.find(id);
        if (it == m_heldRelays.end() || it->second.socket->bytesAvailable() == 0) {
            return;
        }
        QTcpSocket* socket = it->second.socket;
        static LogLimiter limiter("http_unexpected_input");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcHttp, "event=http_unexpected_input peer=%s relayed=true%s",
                qPrintable(socket->peerAddress().toString()), LogLimiter::suffix(*suppressed));
        }
        dropHeldRelay(id, true);
    };
    connect(socket, &QTcpSocket::readyRead, this, unexpected);
    if (socket->bytesAvailable() > 0) {
        post(this, unexpected);
    }
}

void IoThread::onRelayData(std::uint64_t id, const QByteArray& bytes)
{
    const auto it = m_heldRelays.find(id);
    if (it == m_heldRelays.end()) {
        return;
    }
    QTcpSocket* socket = it->second.socket;
    // The slow-consumer rule of every transport: a client that has not read maxOutboundBytes
    // of what was relayed to it when more comes is dropped (its session keeps the frames; the
    // client resumes from its cursor). Each part is bounded by the owner's sink.
    if (socket->bytesToWrite() > m_context.config.maxOutboundBytes) {
        static LogLimiter limiter("relay_slow_consumer");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcHttp, "event=relay_slow_consumer bytes=%lld%s", socket->bytesToWrite(),
                LogLimiter::suffix(*suppressed));
        }
        dropHeldRelay(id, true);
        return;
    }
    it->second.wrote = true;
    socket->write(bytes);
    socket->flush();
}

void IoThread::onRelayEnded(std::uint64_t id, int status)
{
    const auto it = m_heldRelays.find(id);
    if (it == m_heldRelays.end()) {
        return;
    }
    const HeldRelay relay = it->second;
    m_heldRelays.erase(it);
    QObject::disconnect(relay.socket, nullptr, this, nullptr);
    if (!relay.wrote && status != 0) {
        // Nothing of a response went out: answer for the owner (404 no session, 503 owner gone,
        // 504 owner silent), like a forwarded command.
        respondSessionStatus(relay.socket, status, {}, false);
        return;
    }
    auto* downstream = new SocketDownstream(relay.socket, discardCap(), this);
    if (status == 0) {
        downstream->finish(); // the owner's response is complete
    } else {
        downstream->abort(); // cut mid-response: the client re-requests from its cursor
    }
}

void IoThread::dropHeldRelay(std::uint64_t id, bool abort)
{
    const auto it = m_heldRelays.find(id);
    if (it == m_heldRelays.end()) {
        return;
    }
    QTcpSocket* socket = it->second.socket;
    m_heldRelays.erase(it);
    m_context.router->closeRelay(id);
    QObject::disconnect(socket, nullptr, this, nullptr);
    if (abort) {
        socket->abort();
    }
    socket->deleteLater();
}

// --- Owner side: the session is here, its client on another node. --------------------------

void IoThread::attachRelay(
    const SessionToken& token, bool stream, QByteArray cursor, RelayLink link)
{
    NodeRouter* router = m_context.router;
    if (!router) {
        return;
    }
    if (token.isElsewhere(m_context.nodeId) || token.thread >= int(m_context.ioThreads.size())) {
        router->sendRelay(link, 404, 0, {}, true, {});
        return;
    }
    IoThread* owner = m_context.ioThreads[std::size_t(token.thread)];
    post(owner, [owner, router, token, stream, cursor, link] {
        HttpSink* sink = owner->httpSink(token.session, token.secret);
        if (!sink) {
            router->sendRelay(link, 404, 0, {}, true, {});
            return;
        }
        const ServerConfig& config = owner->m_context.config;
        // The longest the sink stays silent on this response: its keep-alive comment or its
        // poll timeout, checked by the sweep.
        const int silenceMs = int(
            (stream ? config.sseKeepAliveMs : config.pollTimeoutMs) + owner->m_sweepIntervalMs);
        auto* downstream = new RelayDownstream(*router, link, silenceMs, owner);
        const std::string key = link.key();
        if (const auto old = owner->m_relayDownstreams.find(key);
            old != owner->m_relayDownstreams.end()) {
            old->second->holderGone(); // the same relay opened twice: keep the newer
        }
        owner->m_relayDownstreams[key] = downstream;
        QObject::connect(downstream, &QObject::destroyed, owner, [owner, key, downstream] {
            const auto it = owner->m_relayDownstreams.find(key);
            if (it != owner->m_relayDownstreams.end() && it->second == downstream) {
                owner->m_relayDownstreams.erase(it);
            }
        });
        downstream->start();
        const std::int64_t now = monotonicMs();
        owner->m_sessions.at(token.session)->touch(now);
        if (stream) {
            sink->attachStream(downstream,
                cursor.isEmpty() ? std::nullopt
                                 : std::optional<std::uint64_t>(cursor.toULongLong()));
        } else {
            sink->attachPoll(downstream, cursor.toULongLong(), now);
        }
    });
}

void IoThread::detachRelay(const SessionToken& token, RelayLink link)
{
    if (token.isElsewhere(m_context.nodeId) || token.thread >= int(m_context.ioThreads.size())) {
        return;
    }
    IoThread* owner = m_context.ioThreads[std::size_t(token.thread)];
    post(owner, [owner, key = link.key()] {
        const auto it = owner->m_relayDownstreams.find(key);
        if (it != owner->m_relayDownstreams.end()) {
            RelayDownstream* downstream = it->second;
            owner->m_relayDownstreams.erase(it);
            downstream->holderGone();
        }
    });
}

} // namespace parley::server
