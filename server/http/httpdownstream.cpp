#include "httpdownstream.h"

#include <QTcpSocket>
#include <QTimer>

namespace parley::server {

SocketDownstream::SocketDownstream(QTcpSocket* socket, QObject* parent)
    : HttpDownstream(parent)
    , m_socket(socket)
{
    socket->setParent(this);
    // The client left (or the finished response was read and the connection closed): go.
    connect(socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
}

void SocketDownstream::write(const QByteArray& bytes)
{
    if (!m_done) {
        m_socket->write(bytes);
    }
}

void SocketDownstream::flush()
{
    m_socket->flush();
}

qint64 SocketDownstream::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

void SocketDownstream::finish()
{
    if (m_done) {
        return;
    }
    m_done = true;
    // A peer that does not read what we wrote must not pin the socket.
    QTimer::singleShot(kFinishTimeoutMs, this, [this] {
        m_socket->abort();
        deleteLater();
    });
    m_socket->disconnectFromHost();
}

void SocketDownstream::abort()
{
    m_done = true;
    m_socket->abort();
    deleteLater();
}

} // namespace parley::server
