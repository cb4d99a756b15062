#include "httpdownstream.h"

#include <QTcpSocket>
#include <QTimer>
#include <memory>
#include <sys/socket.h>

namespace parley::server {

void closeAfterResponse(QTcpSocket* socket, qint64 discardCap)
{
    if (socket->state() != QAbstractSocket::ConnectedState) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // A client that reads nothing, or never closes, must not pin the socket.
    QTimer::singleShot(kLingerMs, socket, [socket] {
        socket->abort();
        socket->deleteLater();
    });
    if (socket->readBufferSize() == 0) {
        socket->setReadBufferSize(kLingerReadBufferBytes); // never unbounded
    }
    auto discarded = std::make_shared<qint64>(0);
    auto connection = std::make_shared<QMetaObject::Connection>();
    const auto discard = [socket, discarded, discardCap, connection] {
        if (*discarded > discardCap) {
            // Enough: stop reading. The bounded read buffer fills, TCP flow control stops the
            // client, and the timer drops the connection; the client can still read our answer
            // until then (an abort now would reset the connection under it).
            QObject::disconnect(*connection);
            return;
        }
        *discarded += socket->skip(socket->bytesAvailable());
    };
    *connection = QObject::connect(socket, &QTcpSocket::readyRead, socket, discard);
    discard();
    // Half-close once the response is with the kernel: the kernel sends it, then our FIN.
    const auto shutWrite = [socket] {
        if (socket->bytesToWrite() == 0 && socket->state() == QAbstractSocket::ConnectedState) {
            ::shutdown(int(socket->socketDescriptor()), SHUT_WR);
        }
    };
    socket->flush();
    if (socket->bytesToWrite() == 0) {
        shutWrite();
    } else {
        QObject::connect(socket, &QTcpSocket::bytesWritten, socket, shutWrite);
    }
}

SocketDownstream::SocketDownstream(QTcpSocket* socket, qint64 discardCap, QObject* parent)
    : HttpDownstream(parent)
    , m_socket(socket)
    , m_discardCap(discardCap)
{
    socket->setParent(this);
    // The client left (or the finished response was read and the connection closed): go.
    connect(socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
    connect(socket, &QObject::destroyed, this, &QObject::deleteLater);
}

void SocketDownstream::watchInput(std::function<void()> handler)
{
    m_inputHandler = std::move(handler);
    connect(m_socket, &QTcpSocket::readyRead, this, &SocketDownstream::inputArrived);
    if (m_socket->bytesAvailable() > 0) {
        // Sent behind the request head, before we got here: reported from the event loop, not
        // from inside the attach that is calling us.
        QTimer::singleShot(0, this, &SocketDownstream::inputArrived);
    }
}

void SocketDownstream::inputArrived()
{
    if (m_done || !m_socket || m_socket->bytesAvailable() == 0 || !m_inputHandler) {
        return;
    }
    auto handler = std::move(m_inputHandler);
    m_inputHandler = nullptr;
    handler();
}

void SocketDownstream::write(const QByteArray& bytes)
{
    if (!m_done && m_socket) {
        m_socket->write(bytes);
    }
}

void SocketDownstream::flush()
{
    if (m_socket) {
        m_socket->flush();
    }
}

qint64 SocketDownstream::bytesToWrite() const
{
    return m_socket ? m_socket->bytesToWrite() : 0;
}

void SocketDownstream::finish()
{
    if (m_done) {
        return;
    }
    m_done = true;
    m_inputHandler = nullptr;
    if (!m_socket) {
        deleteLater();
        return;
    }
    QObject::disconnect(m_socket, &QTcpSocket::readyRead, this, nullptr);
    closeAfterResponse(m_socket, m_discardCap);
}

void SocketDownstream::abort()
{
    m_done = true;
    m_inputHandler = nullptr;
    if (m_socket) {
        m_socket->abort();
    }
    deleteLater();
}

} // namespace parley::server
