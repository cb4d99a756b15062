// IoThread and the caps (caps/caps.h, docs/security.md "Connection and session caps"):
// counting connections as they are accepted, answering the refused ones, and closing HTTP
// sessions that attach nothing.
#include "app/servercontext.h"
#include "caps/caps.h"
#include "common/clock.h"
#include "common/loglimiter.h"
#include "common/post.h"
#include "http/httpdownstream.h"
#include "http/httprequest.h"
#include "http/httpsink.h"
#include "iothread.h"
#include "session/session.h"
#include "websocket/closecode.h"
#include "websocket/framewriter.h"
#include "websocket/handshake.h"

#include <QLoggingCategory>
#include <QTcpSocket>
#include <unistd.h>

namespace parley::server {

Q_DECLARE_LOGGING_CATEGORY(lcIo)

static_assert(ConnectionCaps::kRetryAfterS == 5, "closeReason(TryAgainLater) says 5 s");

namespace {

//! A connection's place under the caps, riding along with its QTcpSocket as a child: whatever
//! ends the socket (deleteLater after an answer, a held stream's end on another thread, an
//! abort) destroys it, and the place is given back exactly once.
class SlotHolder final : public QObject {
public:
    SlotHolder(CapSlot place, QObject* parent)
        : QObject(parent)
        , slot(std::move(place))
    {
    }
    CapSlot slot;
};

const char* refusalName(ConnectionCaps::Refusal refusal)
{
    return refusal == ConnectionCaps::Refusal::Total ? "max_connections" : "max_connections_per_ip";
}

} // namespace

void IoThread::adoptDescriptor(qintptr descriptor)
{
    ConnectionCaps& caps = m_context.caps->connections;
    const std::optional<PeerKey> peer = PeerKey::ofDescriptor(int(descriptor));
    if (!peer) {
        ::close(int(descriptor)); // reset before we got to it: nothing to answer
        return;
    }
    ConnectionCaps::Admission admission = caps.admit(*peer);
    if (admission.slot) {
        post(this, [this, descriptor, slot = std::move(admission.slot)]() mutable {
            adopt(descriptor, std::move(slot));
        });
        return;
    }
    // Refused. One line per interval, however many come (a connection flood is no log flood).
    CapSlot place = caps.tryRefusing();
    static LogLimiter limiter("connection_refused");
    if (const auto suppressed = limiter.admit()) {
        qCInfo(lcIo, "event=connection_refused reason=%s peer=%s connections=%lld max=%u%s",
            refusalName(admission.refusal), qPrintable(peer->toString()),
            (long long)caps.connections(),
            admission.refusal == ConnectionCaps::Refusal::Total ? caps.maxConnections()
                                                                : caps.maxPerPeer(),
            LogLimiter::suffix(*suppressed));
    }
    if (!place) {
        // Enough refusals are being answered already: a canned answer, and the descriptor goes.
        ConnectionCaps::refuseNow(int(descriptor), admission.refusal);
        return;
    }
    post(this,
        [this, descriptor, refusal = admission.refusal, place = std::move(place)]() mutable {
            adoptRefused(descriptor, refusal, std::move(place));
        });
}

void IoThread::holdConnectionSlot(QTcpSocket* socket, CapSlot slot)
{
    new SlotHolder(std::move(slot), socket);
}

CapSlot IoThread::takeConnectionSlot(QTcpSocket* socket)
{
    for (QObject* child : socket->children()) {
        if (auto* holder = dynamic_cast<SlotHolder*>(child)) {
            CapSlot slot = std::move(holder->slot);
            delete holder;
            return slot;
        }
    }
    return {};
}

void IoThread::adoptRefused(qintptr descriptor, ConnectionCaps::Refusal refusal, CapSlot place)
{
    auto* socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor) || m_shuttingDown) {
        delete socket;
        ::close(int(descriptor));
        return;
    }
    holdConnectionSlot(socket, std::move(place));
    // Its head is read like any other (bounded by --max-header-bytes and the header deadline),
    // so that the answer fits the request.
    m_refused.emplace(socket, refusal);
    watchPending(socket);
}

void IoThread::answerRefused(
    QTcpSocket* socket, ConnectionCaps::Refusal refusal, int headBytes, bool webSocket)
{
    const bool total = refusal == ConnectionCaps::Refusal::Total;
    const QByteArray why = total ? QByteArrayLiteral("the server is at its connection limit")
                                 : QByteArrayLiteral("too many connections from this address");
    if (webSocket) {
        const websocket::HandshakeReply reply = websocket::answerHandshake(socket->peek(headBytes));
        if (reply.accepted) {
            // A WebSocket client learns why from the close code, which every client library
            // reports (an HTTP status on a failed upgrade often is not): 101, then close 4007.
            m_pending.erase(socket);
            m_refused.erase(socket);
            QObject::disconnect(socket, nullptr, this, nullptr);
            socket->skip(headBytes);
            socket->write(reply.response);
            socket->write(websocket::encodeCloseFrame(CloseCode::TryAgainLater,
                why + "; retry after " + QByteArray::number(ConnectionCaps::kRetryAfterS)
                    + " s"));
            closeAfterResponse(socket, discardCap());
            return;
        }
    }
    answerHttp(socket, total ? 503 : 429,
        errorJson(total ? "over_capacity" : "too_many_connections", why),
        ConnectionCaps::kRetryAfterS);
}

void IoThread::closeUnattachedSessions(std::int64_t nowMs)
{
    const std::int64_t deadline = m_context.config.httpAttachTimeoutMs;
    std::vector<std::uint64_t> expired;
    for (const auto& [id, sink] : m_httpSinks) {
        if (!sink->hasAttached() && nowMs - sink->openedMs() > deadline) {
            expired.push_back(id);
        }
    }
    for (const std::uint64_t id : expired) {
        const auto it = m_sessions.find(id);
        if (it == m_sessions.end() || it->second->isClosing()) {
            continue;
        }
        static LogLimiter limiter("http_attach_timeout");
        if (const auto suppressed = limiter.admit(nowMs)) {
            qCInfo(lcIo, "event=http_attach_timeout session=%llu peer=%s%s",
                (unsigned long long)id, qPrintable(it->second->sink().peer()),
                LogLimiter::suffix(*suppressed));
        }
        // As if silent: the client (if any) opens a new session, with its resume cursors.
        it->second->close(CloseCode::HeartbeatTimeout);
    }
}

} // namespace parley::server
