#include "httpsink.h"

#include "common/clock.h"
#include "common/loglimiter.h"
#include "protocol/envelopes.h"

#include <QLoggingCategory>
#include <QTimer>
#include <algorithm>

namespace parley::server {

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace {

QByteArray responseHead(const char* status, const char* contentType, qint64 contentLength)
{
    QByteArray head = QByteArray("HTTP/1.1 ") + status + "\r\nContent-Type: " + contentType
        + "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    if (contentLength >= 0) {
        head += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
    } else {
        // Tells reverse proxies (nginx) not to buffer the stream.
        head += "X-Accel-Buffering: no\r\n";
    }
    return head + "\r\n";
}

} // namespace

HttpSink::HttpSink(QByteArray secret, QString peer, Settings settings, QObject* context,
    std::function<void()> gone)
    : m_secret(std::move(secret))
    , m_peer(std::move(peer))
    , m_settings(settings)
    , m_context(context)
    , m_gone(std::move(gone))
    , m_openedMs(monotonicMs())
{
}

HttpSink::~HttpSink()
{
    if (m_poll) {
        answerPoll(m_pollAfter);
    }
    if (m_stream) {
        finish(m_stream);
    }
}

QByteArray HttpSink::frame(std::uint64_t cursor) const
{
    for (const Frame& f : m_frames) {
        if (f.cursor == cursor) {
            return f.json;
        }
    }
    return {};
}

void HttpSink::markDelivered(std::uint64_t cursor)
{
    for (const Frame& f : m_frames) {
        if (f.cursor > m_delivered && f.cursor <= cursor) {
            m_undeliveredBytes -= f.json.size();
        }
    }
    m_delivered = std::max(m_delivered, std::min(cursor, lastCursor()));
    trim();
}

bool HttpSink::canReplayFrom(std::uint64_t after) const
{
    if (after > lastCursor()) {
        return false; // a cursor we never issued
    }
    const std::uint64_t oldest = m_frames.empty() ? m_nextCursor : m_frames.front().cursor;
    return after + 1 >= oldest;
}

void HttpSink::attachStream(HttpDownstream* socket, std::optional<std::uint64_t> after)
{
    if (m_stream) {
        supersede(m_stream); // a newer stream of the same session replaces it
    }
    m_stream = socket;
    m_attached = true;
    watch(socket);
    socket->write(responseHead("200 OK", "text/event-stream; charset=utf-8", -1));
    socket->write("retry: " + QByteArray::number(m_settings.retryMs) + "\n\n");
    m_lastStreamWriteMs = monotonicMs();
    const std::uint64_t from = after.value_or(m_delivered);
    if (m_closed) {
        writeCloseEvent();
        return;
    }
    if (!canReplayFrom(from)) {
        // What the client missed is gone from the queue: it must re-open and replay from
        // storage (its hello carries the resume cursors).
        closeWith(
            CloseCode::SlowConsumer, QStringLiteral("stream cursor outside the replay window"));
        return;
    }
    for (const Frame& f : m_frames) {
        if (f.cursor > from) {
            writeEvent(f);
        }
    }
    socket->flush();
    markDelivered(lastCursor());
    enforceBudget();
}

void HttpSink::attachPoll(HttpDownstream* socket, std::uint64_t after, std::int64_t nowMs)
{
    if (m_poll) {
        answerPoll(m_pollAfter, true); // one poll at a time: the older one returns what it has
    }
    m_poll = socket;
    m_attached = true;
    watch(socket);
    m_pollAfter = after;
    m_pollDeadlineMs = nowMs + m_settings.pollTimeoutMs;
    if (!m_closed && !canReplayFrom(after)) {
        closeWith(CloseCode::SlowConsumer, QStringLiteral("poll cursor outside the replay window"));
        return;
    }
    // The client holds everything up to `after`: acknowledged.
    markDelivered(after);
    if (m_closed || lastCursor() > after) {
        answerPoll(after);
    }
    enforceBudget();
}

void HttpSink::tick(std::int64_t nowMs)
{
    if (m_stream && nowMs - m_lastStreamWriteMs >= m_settings.keepAliveMs) {
        m_stream->write(": keep-alive\n\n");
        m_stream->flush();
        m_lastStreamWriteMs = nowMs;
    }
    if (m_poll && nowMs >= m_pollDeadlineMs) {
        answerPoll(m_pollAfter);
    }
}

void HttpSink::send(const TextFrame& frame)
{
    if (m_closed) {
        return; // the client has its close event (or gets it from its next poll)
    }
    Frame f { m_nextCursor++, frame.payload().toByteArray() };
    m_undeliveredBytes += f.json.size();
    m_retainedBytes += f.json.size();
    m_frames.push_back(std::move(f));
    if (m_stream) {
        writeEvent(m_frames.back());
        m_stream->flush();
        markDelivered(m_frames.back().cursor);
    } else if (m_poll) {
        answerPoll(m_pollAfter);
    }
    trim();
    enforceBudget();
}

qint64 HttpSink::unsentBytes() const
{
    qint64 unsent = m_stream ? m_stream->bytesToWrite() : 0;
    for (const QPointer<HttpDownstream>& downstream : m_finishing) {
        unsent += downstream ? downstream->bytesToWrite() : 0;
    }
    return unsent;
}

qint64 HttpSink::pendingBytes() const
{
    return m_undeliveredBytes + unsentBytes();
}

qint64 HttpSink::heldBytes() const
{
    return m_retainedBytes + unsentBytes();
}

void HttpSink::enforceBudget()
{
    if (!m_closed && pendingBytes() > 2 * m_settings.maxOutboundBytes) {
        closeWith(
            CloseCode::SlowConsumer, QString::fromLatin1(closeReason(CloseCode::SlowConsumer)));
    }
}

void HttpSink::close(CloseCode code)
{
    closeWith(code, QString::fromLatin1(closeReason(code)));
}

void HttpSink::closeWith(CloseCode code, const QString& reason)
{
    if (m_closed) {
        return;
    }
    m_closed = true;
    m_closeCode = int(code);
    m_closeReason = reason;
    if (code == CloseCode::SlowConsumer) {
        // What earlier responses have not handed out yet goes at once: the client replays from
        // storage when it re-opens.
        for (const QPointer<HttpDownstream>& downstream : m_finishing) {
            if (downstream) {
                downstream->abort();
            }
        }
        m_finishing.clear();
    }
    if (m_stream) {
        writeCloseEvent();
    }
    if (m_poll) {
        answerPoll(m_pollAfter);
    }
    // The session goes once the current call stack is done (never from inside it).
    QTimer::singleShot(0, m_context, [gone = m_gone] { gone(); });
}

void HttpSink::abort()
{
    if (m_stream) {
        m_stream->abort();
    }
    if (m_poll) {
        m_poll->abort();
    }
    for (const QPointer<HttpDownstream>& downstream : m_finishing) {
        if (downstream) {
            downstream->abort();
        }
    }
    m_finishing.clear();
    QTimer::singleShot(0, m_context, [gone = m_gone] { gone(); });
}

QByteArray HttpSink::closeJson() const
{
    return QByteArray::fromStdString(protocol::http::encodeCloseEvent(
        { m_closeCode, m_closeReason.toStdString() }));
}

void HttpSink::writeEvent(const Frame& frame)
{
    // Frames are compact JSON (no newline), so one `data:` line carries each.
    m_stream->write("id: " + QByteArray::number(frame.cursor) + "\ndata: " + frame.json + "\n\n");
    m_lastStreamWriteMs = monotonicMs();
}

void HttpSink::writeCloseEvent()
{
    m_stream->write("event: close\ndata: " + closeJson() + "\n\n");
    finish(m_stream);
    m_stream = nullptr;
}

void HttpSink::answerPoll(std::uint64_t after, bool superseded)
{
    HttpDownstream* socket = m_poll;
    m_poll = nullptr;
    if (!socket) {
        return;
    }
    protocol::http::PollBatch batch;
    for (const Frame& f : m_frames) {
        if (f.cursor > after) {
            batch.events.push_back(f.json.toStdString());
        }
    }
    batch.cursor = std::max(after, lastCursor());
    if (m_closed) {
        batch.closed = protocol::http::CloseEvent { m_closeCode, m_closeReason.toStdString() };
    }
    const QByteArray body = QByteArray::fromStdString(protocol::http::encodePollBatch(batch));
    socket->write(responseHead("200 OK", "application/json", body.size()) + body);
    // Delivered once written; the next poll's cursor acknowledges it (kept until then).
    m_delivered = std::max(m_delivered, lastCursor());
    m_undeliveredBytes = 0;
    if (superseded) {
        supersede(socket);
    } else {
        finish(socket);
    }
    trim();
}

void HttpSink::watch(HttpDownstream* downstream)
{
    downstream->watchInput([this] {
        static LogLimiter limiter("http_unexpected_input");
        if (const auto suppressed = limiter.admit()) {
            qCInfo(lcHttp, "event=http_unexpected_input peer=%s code=4000%s", qPrintable(m_peer),
                LogLimiter::suffix(*suppressed));
        }
        closeWith(CloseCode::BadFrame, QStringLiteral("unexpected input after the request"));
    });
}

void HttpSink::finish(HttpDownstream* downstream)
{
    downstream->flush();
    downstream->finish();
    std::erase_if(m_finishing, [](const QPointer<HttpDownstream>& d) { return d.isNull(); });
    if (downstream->bytesToWrite() > 0) {
        m_finishing.emplace_back(downstream);
    }
}

void HttpSink::supersede(HttpDownstream* downstream)
{
    downstream->flush();
    if (downstream->bytesToWrite() > 0) {
        downstream->abort();
    } else {
        finish(downstream);
    }
}

void HttpSink::trim()
{
    const qint64 unsent = unsentBytes();
    while (!m_frames.empty() && m_frames.front().cursor <= m_delivered
        && (m_frames.size() > kRetainFrames
            || m_retainedBytes + unsent > m_settings.maxOutboundBytes)) {
        m_retainedBytes -= m_frames.front().json.size();
        m_frames.pop_front();
    }
}

} // namespace parley::server
