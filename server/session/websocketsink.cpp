#include "websocketsink.h"

#include <QWebSocket>

namespace parley::server {

WebSocketSink::WebSocketSink(QWebSocket* socket)
    : m_socket(socket)
{
}

WebSocketSink::~WebSocketSink()
{
    QObject::disconnect(m_socket, nullptr, nullptr, nullptr);
    m_socket->abort();
    m_socket->deleteLater();
}

void WebSocketSink::sendText(const QString& text)
{
    m_socket->sendTextMessage(text);
    // Write now instead of on the next writable notification: QAbstractSocket enables its write
    // notifier when it buffers and disables it once drained, and the epoll dispatcher folds that
    // pair into no system call when both happen in one round. Without this, a fan-out to N local
    // members cost 2 epoll_ctl + an extra wake-up per member (22% of a 5,000-member fan-out's
    // profile). What the kernel does not take stays buffered (bounded by maxOutboundBytes).
    m_socket->flush();
}

qint64 WebSocketSink::pendingBytes() const
{
    return m_socket->bytesToWrite();
}

void WebSocketSink::close(int code, const QString& reason)
{
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

void WebSocketSink::abort()
{
    m_socket->abort();
}

QString WebSocketSink::peer() const
{
    return m_socket->peerAddress().toString();
}

} // namespace parley::server
