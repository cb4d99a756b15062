#include "ssetransport.h"

#include "protocol/envelopes.h"

namespace parley {

SseTransport::SseTransport(QObject* parent)
    : HttpTransport(parent)
{
}

void SseTransport::startDownstream()
{
    stopDownstream();
    m_parser = EventSourceParser();
    m_gotBytes = false;
    m_errorBody.clear();
    CurlMulti::Request r = request(QStringLiteral("/sse"));
    r.headers.append(QPair<QByteArray, QByteArray>("Accept", "text/event-stream"));
    r.headers.append(QPair<QByteArray, QByteArray>("Last-Event-ID", QByteArray::number(cursor())));
    m_stream = curl().start(
        r, [this](int status, QByteArrayView bytes) { onBytes(status, bytes); },
        [this](int status, const QString& error) {
            m_stream = 0;
            if (isFinished()) {
                return;
            }
            const int retryMs = m_parser.retryMs().value_or(1000);
            if (status != 200 && status > 0) {
                downstreamRefused(status, error, retryMs);
                return;
            }
            // The stream ended without a close event: reconnect with Last-Event-ID after the
            // server's retry hint.
            const QString why = error.isEmpty() ? QStringLiteral("event stream ended") : error;
            if (m_gotBytes && status == 200) {
                downstreamSucceeded();
            }
            downstreamFailed(why, retryMs);
        });
}

void SseTransport::stopDownstream()
{
    if (m_stream) {
        curl().cancel(m_stream);
        m_stream = 0;
    }
}

void SseTransport::onBytes(int status, QByteArrayView bytes)
{
    if (status != 200) {
        m_errorBody.append(bytes.first(std::min<qsizetype>(bytes.size(), 4096)));
        return;
    }
    m_gotBytes = true;
    for (const EventSourceParser::Event& event : m_parser.feed(bytes)) {
        if (isFinished()) {
            return;
        }
        if (event.type == "close") {
            const auto close = protocol::http::decodeCloseEvent(
                std::string_view(event.data.constData(), std::size_t(event.data.size())));
            if (close) {
                serverClosed(close.value().code, QString::fromStdString(close.value().reason));
            } else {
                serverClosed(AbnormalClosure, QStringLiteral("malformed close event"));
            }
            return;
        }
        if (event.type == "message") {
            deliver(event.lastEventId.toULongLong(), event.data);
        }
    }
    if (m_parser.hasError()) {
        serverClosed(AbnormalClosure, QStringLiteral("malformed event stream"));
    }
}

} // namespace parley
