#include "websocketsink.h"

#include "session.h"

namespace parley::server {

WebSocketSink::WebSocketSink(
    int fd, WebSocketConnection::Settings settings, std::function<void()> gone)
    : m_connection(fd, *this, settings)
    , m_gone(std::move(gone))
{
}

void WebSocketSink::send(const TextFrame& frame)
{
    m_connection.send(frame);
}

qint64 WebSocketSink::pendingBytes() const
{
    return m_connection.queuedBytes();
}

void WebSocketSink::close(CloseCode code)
{
    m_connection.close(code, closeReason(code));
}

void WebSocketSink::abort()
{
    m_connection.abort();
}

void WebSocketSink::checkDeadlines(std::int64_t nowMs)
{
    m_connection.checkDeadlines(nowMs);
}

void WebSocketSink::readPending()
{
    m_connection.readPending();
}

QString WebSocketSink::peer() const
{
    return m_connection.peer();
}

void WebSocketSink::textReceived(QByteArrayView text)
{
    if (m_session) {
        m_session->receiveText(text);
    }
}

void WebSocketSink::binaryReceived(QByteArrayView)
{
    if (m_session) {
        m_session->receiveBinary();
    }
}

bool WebSocketSink::controlReceived()
{
    return m_session && m_session->receiveControl();
}

void WebSocketSink::closing(CloseCode code)
{
    if (m_session) {
        m_session->close(code);
    }
}

void WebSocketSink::disconnected()
{
    if (m_gone) {
        m_gone();
    }
}

} // namespace parley::server
