#include "httptransport.h"

#include "protocol/envelopes.h"

#include <QLoggingCategory>

namespace parley {

Q_LOGGING_CATEGORY(lcHttpTransport, "parley.transport.http", QtWarningMsg)

HttpTransport::HttpTransport(QObject* parent)
    : Transport(parent)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        if (!m_finished) {
            startDownstream();
        }
    });
}

HttpTransport::~HttpTransport() = default;

QUrl HttpTransport::baseUrl(const QUrl& endpoint)
{
    QUrl base;
    const QString scheme = endpoint.scheme();
    base.setScheme(scheme == QLatin1String("wss") || scheme == QLatin1String("https")
            ? QStringLiteral("https")
            : QStringLiteral("http"));
    base.setHost(endpoint.host());
    base.setPort(endpoint.port());
    base.setPath(QStringLiteral("/v1"));
    return base;
}

CurlMulti::Request HttpTransport::request(const QString& path) const
{
    CurlMulti::Request r;
    QUrl url = m_base;
    url.setPath(m_base.path() + path);
    r.url = url;
    r.proxy = m_proxy;
    if (!m_token.isEmpty()) {
        r.headers.append(QPair<QByteArray, QByteArray>("X-Parley-Session", m_token));
    }
    return r;
}

void HttpTransport::open(const QUrl& url)
{
    m_base = baseUrl(url);
    m_token.clear();
    m_cursor = 0;
    m_open = false;
    m_finished = false;
    m_endingSession = false;
    m_sessionRequested = false;
    m_outbox.clear();
    m_downstreamFailures = 0;
    setReachedServer(true);
    setRetryAfter(std::chrono::milliseconds(0));
    CurlMulti::Request health = request(QString());
    QUrl healthUrl = m_base;
    healthUrl.setPath(QStringLiteral("/healthz"));
    health.url = healthUrl;
    health.timeoutMs = 10000;
    m_controlTransfer = m_curl.start(
        health, [](int, QByteArrayView) {},
        [this](int status, const QString& error) {
            m_controlTransfer = 0;
            if (refusedForCapacity(status, QStringLiteral("healthz"))) {
                return;
            }
            if (status != 200) {
                // No connection at all (refused, unresolvable): the server or the network is
                // down. Anything else (a proxy's 403 or 502, an empty reply) reached something.
                setReachedServer(status != CurlMulti::kNoConnection);
                finish(AbnormalClosure,
                    error.isEmpty() ? QStringLiteral("healthz answered %1").arg(status) : error);
                return;
            }
            m_open = true;
            Q_EMIT opened();
        });
}

void HttpTransport::close(int code, const QString& reason)
{
    if (m_finished) {
        return;
    }
    m_open = false;
    if (m_token.isEmpty() || m_endingSession) {
        // Signals never come from inside close(): the end is reported from the event loop.
        QTimer::singleShot(0, this, [this, code, reason] { finish(code, reason); });
        return;
    }
    // End the server session (DELETE /v1/session) before reporting closed(), so that a client
    // switching transports does not leave a session behind until the heartbeat sweep; the
    // downstream and unsent commands stop now. Bounded: the DELETE gets kEndSessionTimeoutMs.
    m_endingSession = true;
    m_retryTimer.stop();
    stopDownstream();
    m_outbox.clear();
    if (m_commandTransfer) {
        m_curl.cancel(m_commandTransfer);
        m_commandTransfer = 0;
    }
    CurlMulti::Request r = request(QStringLiteral("/session"));
    r.method = "DELETE";
    r.timeoutMs = kEndSessionTimeoutMs;
    m_controlTransfer = m_curl.start(
        r, [](int, QByteArrayView) {},
        [this, code, reason](int, const QString&) {
            m_controlTransfer = 0;
            finish(code, reason);
        });
}

bool HttpTransport::sendFrame(const QByteArray& frame)
{
    if (!m_open) {
        return false;
    }
    if (!m_sessionRequested) {
        openSession(frame);
        return true;
    }
    m_outbox.append(frame);
    flushCommands();
    return true;
}

void HttpTransport::openSession(const QByteArray& hello)
{
    m_sessionRequested = true;
    CurlMulti::Request r = request(QStringLiteral("/session"));
    r.method = "POST";
    r.body = hello;
    r.headers.append(QPair<QByteArray, QByteArray>("Content-Type", "application/json"));
    r.timeoutMs = 15000;
    auto body = std::make_shared<QByteArray>();
    m_controlTransfer = m_curl.start(
        r, [body](int, QByteArrayView bytes) { body->append(bytes); },
        [this, body](int status, const QString& error) {
            m_controlTransfer = 0;
            if (status == 200) {
                const auto reply = protocol::http::decodeSessionReply(
                    std::string_view(body->constData(), std::size_t(body->size())));
                if (!reply) {
                    finish(AbnormalClosure,
                        QStringLiteral("bad session reply: %1")
                            .arg(QString::fromStdString(reply.error().message)));
                    return;
                }
                m_token = QByteArray::fromStdString(reply.value().token);
                m_cursor = reply.value().cursor;
                Q_EMIT frameReceived(QByteArray::fromStdString(reply.value().welcome));
                if (m_finished) {
                    return;
                }
                startDownstream();
                flushCommands();
                return;
            }
            if (refusedForCapacity(status, QStringLiteral("session"), *body)) {
                return;
            }
            if (status == 401 || status == 400) {
                // The body is the error frame that says why; then the session is refused.
                Q_EMIT frameReceived(*body);
                finish(status == 401 ? 4001 : 4000, QStringLiteral("session refused"));
                return;
            }
            finish(AbnormalClosure,
                error.isEmpty() ? QStringLiteral("session answered %1").arg(status) : error);
        });
}

void HttpTransport::flushCommands()
{
    if (m_commandTransfer != 0 || m_token.isEmpty() || m_outbox.isEmpty() || m_finished
        || m_endingSession) {
        return;
    }
    // One request carries at most kMaxBatchBytes (and at least one frame): a long outbox
    // flushed after a reconnect would otherwise make one body past the server's request limit
    // (413), failing the transport over and over. The rest follows when this batch is accepted.
    std::vector<std::string> frames;
    qsizetype bytes = 2; // the array's brackets
    qsizetype taken = 0;
    while (taken < m_outbox.size()
        && (taken == 0 || bytes + m_outbox[taken].size() + 1 <= kMaxBatchBytes)) {
        bytes += m_outbox[taken].size() + (taken ? 1 : 0);
        frames.push_back(m_outbox[taken].toStdString());
        ++taken;
    }
    const QByteArray batch = QByteArray::fromStdString(protocol::http::encodeCommands(frames));
    m_outbox.erase(m_outbox.begin(), m_outbox.begin() + taken);
    CurlMulti::Request r = request(QStringLiteral("/commands"));
    r.method = "POST";
    r.body = batch;
    r.headers.append(QPair<QByteArray, QByteArray>("Content-Type", "application/json"));
    r.timeoutMs = 15000;
    qCDebug(lcHttpTransport) << "commands" << batch.left(200);
    m_commandTransfer = m_curl.start(
        r, [](int, QByteArrayView) {},
        [this](int status, const QString& error) {
            qCDebug(lcHttpTransport) << "commands done" << status << error;
            m_commandTransfer = 0;
            if (status == 202) {
                flushCommands();
                return;
            }
            if (refusedForCapacity(status, QStringLiteral("commands"))) {
                return;
            }
            const QString why
                = error.isEmpty() ? QStringLiteral("commands answered %1").arg(status) : error;
            if (status == 404) {
                finish(AbnormalClosure, why); // the session is gone already
                return;
            }
            // The session may live on at the server: end it before reporting the failure.
            close(AbnormalClosure, why);
        });
}

void HttpTransport::deliver(quint64 cursor, const QByteArray& frame)
{
    if (cursor != 0 && cursor <= m_cursor) {
        return;
    }
    qCDebug(lcHttpTransport) << "deliver" << cursor << frame.left(80);
    m_cursor = std::max(m_cursor, cursor);
    Q_EMIT frameReceived(frame);
}

void HttpTransport::serverClosed(int code, const QString& reason)
{
    finish(code, reason);
}

void HttpTransport::downstreamFailed(const QString& why, int retryMs)
{
    if (m_finished) {
        return;
    }
    if (++m_downstreamFailures >= kMaxDownstreamFailures) {
        // Giving up on a session the server still holds: end it (DELETE), then report.
        close(AbnormalClosure, why);
        return;
    }
    m_retryTimer.start(retryMs);
}

void HttpTransport::downstreamRefused(int status, const QString& error, int retryMs)
{
    if (m_finished) {
        return;
    }
    if (refusedForCapacity(status, QStringLiteral("downstream"))) {
        return;
    }
    const QString why
        = error.isEmpty() ? QStringLiteral("downstream answered %1").arg(status) : error;
    switch (status) {
    case 404:
        // The server has no such session (any more): nothing to end there.
        finish(AbnormalClosure, QStringLiteral("session lost: ") + why);
        return;
    case 503:
        // The node holding the session is gone, or cannot be reached from the node that
        // answered: a new session gets the client going at once; the old one is ended on the
        // way out in case it lives on (bounded by kEndSessionTimeoutMs).
        close(AbnormalClosure, QStringLiteral("session unreachable: ") + why);
        return;
    case 502:
        // A balancer lost the node that served the request; another node will serve the next.
        downstreamFailed(why, 0);
        return;
    default:
        downstreamFailed(why, retryMs);
        return;
    }
}

bool HttpTransport::refusedForCapacity(int status, const QString& what, const QByteArray& body)
{
    const int seconds = m_curl.retryAfterSeconds();
    if ((status != 429 && status != 503) || seconds <= 0 || m_finished) {
        return false;
    }
    setRetryAfter(std::chrono::seconds(seconds));
    // The JSON error's message (or the error frame's) says which limit.
    const auto answer = protocol::http::decodeHttpError(std::string_view(body.data(), body.size()));
    const QString message = answer ? QString::fromStdString(answer.value().message) : QString();
    const QString reason = QStringLiteral("%1 answered %2%3; retry after %4 s")
                               .arg(what)
                               .arg(status)
                               .arg(message.isEmpty() ? QString() : QStringLiteral(": ") + message)
                               .arg(seconds);
    if (m_token.isEmpty()) {
        finish(TryAgainLater, reason);
    } else {
        close(TryAgainLater, reason); // the session may live on: end it on the way out
    }
    return true;
}

void HttpTransport::finish(int code, const QString& reason)
{
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_open = false;
    m_retryTimer.stop();
    stopDownstream();
    for (quint64* id : { &m_commandTransfer, &m_controlTransfer }) {
        if (*id) {
            m_curl.cancel(*id);
            *id = 0;
        }
    }
    Q_EMIT closed(code, reason);
}

} // namespace parley
