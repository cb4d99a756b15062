#include "longpolltransport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QUrlQuery>

namespace parley {

Q_DECLARE_LOGGING_CATEGORY(lcHttpTransport)

LongPollTransport::LongPollTransport(QObject* parent)
    : HttpTransport(parent)
{
}

void LongPollTransport::startDownstream()
{
    stopDownstream();
    m_body.clear();
    CurlMulti::Request r = request(QStringLiteral("/poll"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("cursor"), QString::number(cursor()));
    r.url.setQuery(query);
    r.timeoutMs = 60000; // the server answers within its poll timeout (<= 25 s)
    m_poll = curl().start(
        r, [this](int, QByteArrayView bytes) { m_body.append(bytes); },
        [this](int status, const QString& error) { onDone(status, error); });
}

void LongPollTransport::stopDownstream()
{
    if (m_poll) {
        curl().cancel(m_poll);
        m_poll = 0;
    }
}

void LongPollTransport::onDone(int status, const QString& error)
{
    m_poll = 0;
    qCDebug(lcHttpTransport) << "poll done" << status << error << m_body.left(300);
    if (isFinished()) {
        return;
    }
    const QJsonObject reply = QJsonDocument::fromJson(m_body).object();
    if (status != 200) {
        downstreamRefused(status, error, 1000);
        return;
    }
    if (!reply.contains(QStringLiteral("cursor"))) {
        downstreamFailed(
            error.isEmpty() ? QStringLiteral("poll answer without a cursor") : error, 1000);
        return;
    }
    downstreamSucceeded();
    const QJsonArray events = reply.value(QStringLiteral("events")).toArray();
    const quint64 last = quint64(reply.value(QStringLiteral("cursor")).toInteger());
    // Events are the frames after the poll's cursor, in order: number them from there.
    quint64 next = last - quint64(events.size()) + 1;
    for (const QJsonValue& event : events) {
        deliver(next++, QJsonDocument(event.toObject()).toJson(QJsonDocument::Compact));
        if (isFinished()) {
            return;
        }
    }
    if (reply.contains(QStringLiteral("closed"))) {
        const QJsonObject closed = reply.value(QStringLiteral("closed")).toObject();
        serverClosed(closed.value(QStringLiteral("code")).toInt(AbnormalClosure),
            closed.value(QStringLiteral("reason")).toString());
        return;
    }
    startDownstream();
}

} // namespace parley
