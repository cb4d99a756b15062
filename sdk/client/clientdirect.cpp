// Client: direct messages (to one user rather than to a room; at most once, never stored).
#include "client_p.h"
#include "protocol/codec.h"
#include "wireconversion.h"

#include <QUuid>

namespace parley {

QString Client::sendDirect(const QString& user, const QString& text)
{
    return d->sendDirect(user, text);
}

QString Client::Private::sendDirect(const QString& user, const QString& text)
{
    const QString clientId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const auto fail = [&](ErrorCode code, const QString& why) {
        post([this, clientId, error = makeError(code, why)] {
            Q_EMIT q->directMessageFailed(clientId, error);
        });
        return clientId;
    };
    protocol::Direct frame;
    frame.to = toWire(user);
    frame.clientId = toWire(clientId);
    frame.body = toWire(text);
    if (!protocol::isValidUserName(frame.to)) {
        return fail(
            ErrorCode::InvalidArgument, QStringLiteral("'%1' is not a valid user name").arg(user));
    }
    if (frame.body.empty()) {
        return fail(ErrorCode::InvalidArgument, QStringLiteral("empty text"));
    }
    if (welcomed && frame.body.size() > limits.maxBodyBytes) {
        return fail(ErrorCode::InvalidArgument,
            QStringLiteral("text exceeds %1 bytes").arg(limits.maxBodyBytes));
    }
    if (!welcomed) {
        return fail(ErrorCode::ConnectionLost, QStringLiteral("not connected"));
    }
    const QString id = nextRequestId(QLatin1Char('d'));
    frame.id = toWire(id);
    Request request;
    request.kind = Request::Kind::Direct;
    request.sent = true;
    request.clientId = clientId;
    request.deadlineMs = now() + options.requestTimeout.count();
    m_requests.insert(id, request);
    sendFrame(frame);
    armRequestTimer();
    return clientId;
}

void Client::Private::handle(const protocol::DirectMessage& message)
{
    Q_EMIT q->directMessageReceived(fromWire(message.from), fromWire(message.body),
        QDateTime::fromMSecsSinceEpoch(message.ts, Qt::UTC));
}

void Client::Private::handle(const protocol::DirectAck& ack)
{
    const QString id = fromWire(ack.id);
    const auto it = m_requests.constFind(id);
    if (it == m_requests.constEnd() || it->kind != Request::Kind::Direct) {
        return; // timed out meanwhile
    }
    const QString clientId = it->clientId;
    m_requests.erase(it);
    armRequestTimer();
    Q_EMIT q->directMessageAcked(clientId, fromWire(ack.to));
}

} // namespace parley
