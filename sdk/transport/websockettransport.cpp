#include "websockettransport.h"

#include <QRegularExpression>
#include <QWebSocket>

namespace parley {

namespace {
// Incoming frames may be large (a history page of many messages); the codec enforces the real
// limits. This only stops a broken peer from making us buffer without end.
constexpr qint64 kMaxIncomingMessageBytes = 64 * 1024 * 1024;
constexpr int kCloseHandshakeTimeoutMs = 3000;

// Errors that mean no connection was made at all: the server or the network is down.
bool isConnectionMade(QAbstractSocket::SocketError error)
{
    return error != QAbstractSocket::ConnectionRefusedError
        && error != QAbstractSocket::HostNotFoundError && error != QAbstractSocket::NetworkError;
}
// Why an attempt failed, in words for people: QWebSocket's errorString() quotes its internals
// ("QWebSocketPrivate::processHandshake: Unhandled http status code: 404 (Not Found).").
// `requestWritten`: the upgrade request went out, so a "refused" is the server's HTTP answer.
QString describeFailure(const QWebSocket& socket, QAbstractSocket::SocketError error,
    bool requestWritten, const QUrl& url)
{
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        if (requestWritten) {
            // Qt 6.4 reports the status only inside its error text.
            static const QRegularExpression status(
                QStringLiteral("status code: (\\d+)(?: \\(([^)]*)\\))?"));
            const QRegularExpressionMatch match = status.match(socket.errorString());
            if (!match.hasMatch()) {
                return QStringLiteral("the server refused the WebSocket upgrade");
            }
            const QString code = match.captured(1);
            const QString text = match.captured(2).trimmed();
            QString why = QStringLiteral("the server answered HTTP %1%2 to the WebSocket upgrade")
                              .arg(code, text.isEmpty() ? QString() : QLatin1Char(' ') + text);
            if (code == QLatin1String("404")) {
                why += QStringLiteral(": no WebSocket endpoint at path %1 (Parley's is /v1/ws)")
                           .arg(url.path().isEmpty() ? QStringLiteral("/") : url.path());
            }
            return why;
        }
        return QStringLiteral("connection refused");
    case QAbstractSocket::HostNotFoundError:
        return QStringLiteral("host %1 not found").arg(url.host());
    case QAbstractSocket::SocketTimeoutError:
        return QStringLiteral("the connection timed out");
    case QAbstractSocket::RemoteHostClosedError:
        return QStringLiteral("the server closed the connection");
    case QAbstractSocket::NetworkError:
        return QStringLiteral("the network is unreachable");
    default:
        break;
    }
    // Anything else (TLS, proxies): Qt's text, without a "QClass::method: " prefix.
    static const QRegularExpression internalPrefix(QStringLiteral("^Q\\w+(::\\w+)*: "));
    return socket.errorString().remove(internalPrefix).trimmed();
}
} // namespace

WebSocketTransport::WebSocketTransport(QObject* parent)
    : Transport(parent)
{
    m_closeTimer.setSingleShot(true);
    m_closeTimer.setInterval(kCloseHandshakeTimeoutMs);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        if (m_socket) {
            m_socket->abort();
        }
    });
}

WebSocketTransport::~WebSocketTransport()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void WebSocketTransport::open(const QUrl& url)
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    auto* socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_socket = socket;
    m_open = false;
    m_closing = false;
    m_finished = false;
    m_requestWritten = false;
    setReachedServer(true);
    setRetryAfter(std::chrono::milliseconds(0));
    socket->setMaxAllowedIncomingMessageSize(kMaxIncomingMessageBytes);

    // Queued connections: the contract promises no signal from inside open()/close()/
    // sendFrame(), and QWebSocket may emit synchronously (e.g. disconnected() from abort()).
    connect(
        socket, &QWebSocket::connected, this,
        [this, socket] {
            if (socket == m_socket && !m_finished) {
                m_open = true;
                Q_EMIT opened();
            }
        },
        Qt::QueuedConnection);
    connect(
        socket, &QWebSocket::textMessageReceived, this,
        [this, socket](const QString& text) {
            if (socket == m_socket && m_open) {
                Q_EMIT frameReceived(text.toUtf8());
            }
        },
        Qt::QueuedConnection);
    connect(
        socket, &QWebSocket::binaryMessageReceived, this,
        [this, socket](const QByteArray& data) {
            if (socket == m_socket && m_open) {
                Q_EMIT frameReceived(data);
            }
        },
        Qt::QueuedConnection);
    connect(
        socket, &QWebSocket::disconnected, this,
        [this, socket] {
            if (socket != m_socket) {
                return;
            }
            // QWebSocket reports 1000 (normal) even when the TCP connection just dropped: only a
            // close handshake (ours or the server's, both pass through aboutToClose()) makes
            // its close code meaningful.
            if (!m_open) {
                setReachedServer(m_requestWritten || isConnectionMade(socket->error()));
            }
            const bool handshake = m_open && m_closing;
            const QString reason = !socket->closeReason().isEmpty() ? socket->closeReason()
                : socket->error() == QAbstractSocket::UnknownSocketError
                ? socket->errorString()
                : describeFailure(*socket, socket->error(), m_requestWritten, socket->requestUrl());
            const int code = handshake ? int(socket->closeCode()) : AbnormalClosure;
            if (code == TryAgainLater) {
                // Refused for capacity: the server says how long to stay away.
                setRetryAfter(retryAfterFromReason(reason));
            }
            finish(code, reason);
        },
        Qt::QueuedConnection);
    connect(
        // Qt 6.4 names it error(); errorOccurred() arrived in 6.5.
        socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
        [this, socket](QAbstractSocket::SocketError error) {
            // Before the handshake completed, an error is the end of this attempt (QWebSocket
            // does not always follow it with disconnected()).
            if (socket == m_socket && !m_open) {
                setReachedServer(m_requestWritten || isConnectionMade(error));
                finish(AbnormalClosure,
                    describeFailure(*socket, error, m_requestWritten, socket->requestUrl()));
            }
        },
        Qt::QueuedConnection);

    // Direct: the upgrade request went out, so a TCP connection was made. QWebSocket reports a
    // refused upgrade (an HTTP 403 from a proxy) with ConnectionRefusedError too; only this
    // tells it from a refused TCP connection (the server is down).
    connect(socket, &QWebSocket::bytesWritten, this, [this, socket] {
        if (socket == m_socket) {
            m_requestWritten = true;
        }
    });

    // Direct: only records that a close handshake started (QWebSocket::close() runs for our
    // close() and for a close frame from the server).
    connect(socket, &QWebSocket::aboutToClose, this, [this, socket] {
        if (socket == m_socket) {
            m_closing = true;
        }
    });

    socket->open(url);
}

void WebSocketTransport::close(int code, const QString& reason)
{
    if (!m_socket || m_finished) {
        return;
    }
    if (m_open) {
        m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
        m_closeTimer.start();
    } else {
        m_socket->abort();
        // abort() of a socket still connecting may not emit disconnected(): finish from the
        // event loop so that closed() is not emitted from inside close().
        QMetaObject::invokeMethod(
            this,
            [this, socket = m_socket.data(), code, reason] {
                if (socket == m_socket) {
                    finish(code, reason.isEmpty() ? QStringLiteral("closed by client") : reason);
                }
            },
            Qt::QueuedConnection);
    }
}

bool WebSocketTransport::sendFrame(const QByteArray& frame)
{
    if (!m_socket || !m_open) {
        return false;
    }
    m_socket->sendTextMessage(QString::fromUtf8(frame));
    return true;
}

void WebSocketTransport::finish(int code, const QString& reason)
{
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_open = false;
    m_closeTimer.stop();
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    Q_EMIT closed(code, reason);
}

} // namespace parley
