#include "longpolltransport.h"

#include "protocol/envelopes.h"

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
    if (status != 200) {
        downstreamRefused(status, error, 1000);
        return;
    }
    const auto reply = protocol::http::decodePollBatch(
        std::string_view(m_body.constData(), std::size_t(m_body.size())));
    if (!reply) {
        downstreamFailed(error.isEmpty()
                ? QStringLiteral("bad poll answer: %1")
                      .arg(QString::fromStdString(reply.error().message))
                : error,
            1000);
        return;
    }
    downstreamSucceeded();
    const protocol::http::PollBatch& batch = reply.value();
    // Events are the frames after the poll's cursor, in order: number them from there.
    quint64 next = batch.firstCursor();
    for (const std::string& event : batch.events) {
        deliver(next++, QByteArray::fromStdString(event));
        if (isFinished()) {
            return;
        }
    }
    if (batch.closed) {
        serverClosed(batch.closed->code, QString::fromStdString(batch.closed->reason));
        return;
    }
    startDownstream();
}

} // namespace parley
