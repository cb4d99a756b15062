// Client: presence (who is online), apart from the room `presence` frames handled with the
// other room events in clientframes.cpp.
#include "client_p.h"
#include "protocol/codec.h"
#include "wireconversion.h"

namespace parley {

QString Client::queryPresence(const QStringList& users)
{
    return d->queryPresence(users);
}

QString Client::Private::queryPresence(const QStringList& users)
{
    const QString id = nextRequestId(QLatin1Char('p'));
    const auto fail = [&](ErrorCode code, const QString& why) {
        post([this, id, error = makeError(code, why, id)] {
            Q_EMIT q->presenceQueryFailed(id, error);
        });
        return id;
    };
    if (users.isEmpty() || std::size_t(users.size()) > protocol::kMaxPresenceQueryUsers) {
        return fail(ErrorCode::InvalidArgument,
            QStringLiteral("ask about 1..%1 users").arg(protocol::kMaxPresenceQueryUsers));
    }
    protocol::PresenceQuery frame;
    frame.id = toWire(id);
    for (const QString& user : users) {
        frame.users.push_back(toWire(user));
        if (!protocol::isValidUserName(frame.users.back())) {
            return fail(ErrorCode::InvalidArgument,
                QStringLiteral("'%1' is not a valid user name").arg(user));
        }
    }
    if (!welcomed) {
        return fail(ErrorCode::ConnectionLost, QStringLiteral("not connected"));
    }
    Request request;
    request.kind = Request::Kind::Presence;
    request.sent = true;
    request.deadlineMs = now() + options.requestTimeout.count();
    m_requests.insert(id, request);
    sendFrame(frame);
    armRequestTimer();
    return id;
}

void Client::Private::handle(const protocol::UserPresence& presence)
{
    Q_EMIT q->userPresenceChanged(fromWire(presence.user), presence.online);
}

void Client::Private::handle(const protocol::PresenceState& state)
{
    const QString id = fromWire(state.id);
    const auto it = m_requests.constFind(id);
    if (it == m_requests.constEnd() || it->kind != Request::Kind::Presence) {
        return; // timed out or cancelled meanwhile
    }
    m_requests.erase(it);
    armRequestTimer();
    QHash<QString, bool> online;
    for (const protocol::UserPresence& entry : state.users) {
        online.insert(fromWire(entry.user), entry.online);
    }
    Q_EMIT q->presenceReceived(id, online);
}

} // namespace parley
