// Client::Private: request deadlines and the failure of requests (hello, join, leave, history,
// catch-up) that got no answer in time or lost their room.
#include "client_p.h"
#include "wireconversion.h"

namespace parley {

// ---------------------------------------------------------------------------------------------
// Request deadlines.

void Client::Private::armRequestTimer()
{
    std::optional<qint64> next;
    for (const Request& request : std::as_const(m_requests)) {
        next = next ? std::min(*next, request.deadlineMs) : request.deadlineMs;
    }
    if (next) {
        m_requestTimer->start(int(std::max<qint64>(0, *next - now())));
    } else {
        m_requestTimer->stop();
    }
}

void Client::Private::onRequestTimer()
{
    const qint64 t = now();
    QList<QPair<QString, Request>> expired;
    for (auto it = m_requests.constBegin(); it != m_requests.constEnd(); ++it) {
        if (it->deadlineMs <= t) {
            expired.append({ it.key(), it.value() });
        }
    }
    for (const auto& [id, request] : expired) {
        if (!m_requests.contains(id)) {
            continue; // ended meanwhile (a dropped connection ends several at once)
        }
        m_requests.remove(id);
        failRequest(id, request,
            makeError(ErrorCode::Timeout,
                QStringLiteral("no answer within %1 ms").arg(options.requestTimeout.count()), id));
    }
    armRequestTimer();
}

void Client::Private::failRequest(
    const QString& requestId, const Request& request, const Error& error)
{
    switch (request.kind) {
    case Request::Kind::Hello:
        dropConnection(error, ConnectionState::Disconnected);
        break;
    case Request::Kind::Join:
        if (!m_transportProven && error.code == ErrorCode::Timeout) {
            // Nothing came down this connection since the welcome (an HTTP transport whose
            // event stream or polls never got through): the connection failed to open, the
            // room did not. It stays wanted and is joined again by the next connection.
            dropConnection(error, ConnectionState::Disconnected);
            break;
        }
        removeRoom(request.room, error);
        Q_EMIT q->joinFailed(request.room, error);
        break;
    case Request::Kind::Leave:
        if (rooms.contains(request.room) && rooms.value(request.room).requestId == requestId) {
            rooms.remove(request.room);
            tracker.forget(request.room);
            Q_EMIT q->left(request.room);
        }
        break;
    case Request::Kind::History:
        Q_EMIT q->historyFailed(requestId, request.room, error);
        break;
    case Request::Kind::CatchUp:
        m_catchUps.remove(request.room);
        break;
    case Request::Kind::Presence:
        Q_EMIT q->presenceQueryFailed(requestId, error);
        break;
    case Request::Kind::Direct:
        Q_EMIT q->directMessageFailed(request.clientId, error);
        break;
    }
}

void Client::Private::removeRoom(const QString& room, const Error& why)
{
    rooms.remove(room);
    tracker.forget(room);
    m_catchUps.remove(room);
    for (const OutboxEntry& entry : outbox.takeQueuedForRoom(room)) {
        failMessage(entry, why, false);
    }
    const auto requests = m_requests;
    for (auto it = requests.constBegin(); it != requests.constEnd(); ++it) {
        if (it->room == room
            && (it->kind == Request::Kind::History || it->kind == Request::Kind::CatchUp)) {
            m_requests.remove(it.key());
            if (it->kind == Request::Kind::History) {
                Q_EMIT q->historyFailed(
                    it.key(), room, Error { why.code, why.message, why.retryable, it.key() });
            }
        }
    }
}

} // namespace parley
