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
