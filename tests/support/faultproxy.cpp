#include "faultproxy.h"

#include <QTcpSocket>
#include <QTimer>
#include <functional>
#include <utility>
#include <vector>

namespace parley::test {

struct FaultProxy::Link {
    QTcpSocket* client = nullptr; // owned: deleted by closeLink()
    QTcpSocket* upstream = nullptr;
    QByteArray pendingUp; // client bytes that arrived before the upstream connected
    bool blackHoled = false;
    bool closing = false;
    bool upstreamDone = false; // the server closed; the client side closes once flushed
    QByteArray firstHead; // the first request's head, until it is complete
    bool firstHeadSeen = false;
    bool streaming = false; // an event-stream request went up: its response may be cut
    qint64 streamedBytes = 0;
    // Latency: chunks wait here in order; one timer per direction drains them.
    struct Delayed {
        qint64 dueMs;
        QByteArray bytes;
    };
    std::list<Delayed> delayedUp;
    std::list<Delayed> delayedDown;
    // Context of the latency timers: they die with the link, not with a socket that may
    // outlive it (a client side being closed gracefully).
    std::unique_ptr<QObject> timers = std::make_unique<QObject>();
};

FaultProxy::FaultProxy(QHostAddress targetHost, quint16 targetPort, QObject* parent)
    : QObject(parent)
    , m_targetHost(std::move(targetHost))
    , m_targetPort(targetPort)
{
    connect(&m_server, &QTcpServer::newConnection, this, &FaultProxy::onNewConnection);
    m_clock.start();
}

FaultProxy::~FaultProxy()
{
    cutAll();
}

bool FaultProxy::listen(quint16 port)
{
    return m_server.listen(QHostAddress::LocalHost, port);
}

quint16 FaultProxy::port() const
{
    return m_server.serverPort();
}

QString FaultProxy::webSocketUrl() const
{
    return QStringLiteral("ws://127.0.0.1:%1/v1/ws").arg(port());
}

void FaultProxy::setTarget(QHostAddress host, quint16 port)
{
    m_targetHost = std::move(host);
    m_targetPort = port;
}

void FaultProxy::setMode(Mode mode)
{
    if (m_mode == Mode::BlackHole && mode != Mode::BlackHole) {
        std::vector<Link*> holed;
        for (const auto& link : m_links) {
            if (link->blackHoled) {
                holed.push_back(link.get());
            }
        }
        for (Link* link : holed) {
            closeLink(link);
        }
    }
    m_mode = mode;
    if (mode == Mode::BlackHole) {
        for (const auto& link : m_links) {
            link->blackHoled = true;
        }
    }
}

int FaultProxy::cutAll()
{
    std::vector<Link*> all;
    for (const auto& link : m_links) {
        if (!link->closing) {
            all.push_back(link.get());
        }
    }
    for (Link* link : all) {
        closeLink(link);
    }
    return int(all.size());
}

void FaultProxy::onNewConnection()
{
    while (QTcpSocket* client = m_server.nextPendingConnection()) {
        ++m_accepted;
        Q_EMIT connectionAccepted();
        if (m_mode == Mode::Refuse) {
            client->abort();
            client->deleteLater();
            Q_EMIT connectionClosed();
            continue;
        }
        auto owned = std::make_unique<Link>();
        Link* link = owned.get();
        m_links.push_back(std::move(owned));
        link->client = client;
        client->setParent(nullptr);
        link->blackHoled = m_mode == Mode::BlackHole;
        link->upstream = new QTcpSocket();

        connect(client, &QTcpSocket::readyRead, this,
            [this, link] { forward(link, link->client, link->upstream, true); });
        connect(link->upstream, &QTcpSocket::readyRead, this,
            [this, link] { forward(link, link->upstream, link->client, false); });
        connect(link->upstream, &QTcpSocket::connected, this, [this, link] {
            if (!link->pendingUp.isEmpty() && !link->blackHoled) {
                deliver(link, link->upstream, std::exchange(link->pendingUp, {}), true);
            }
        });
        // Either side going away ends the pair: the other side sees a close as well.
        connect(client, &QTcpSocket::disconnected, this, [this, link] { closeLink(link); });
        // Except in a black hole: the server giving up on a silent session must not reach the
        // client, which has to find out by itself that nothing comes any more.
        const auto upstreamGone = [this, link] {
            if (link->blackHoled) {
                QObject::disconnect(link->upstream, nullptr, this, nullptr);
                link->upstream->abort();
                return;
            }
            if (link->upstream->state() == QAbstractSocket::UnconnectedState
                && link->upstream->error() == QAbstractSocket::RemoteHostClosedError) {
                upstreamFinished(link);
                return;
            }
            closeLink(link);
        };
        connect(link->upstream, &QTcpSocket::disconnected, this, [this, link, upstreamGone] {
            if (!link->blackHoled) {
                upstreamFinished(link); // a close, not an error: deliver its last bytes
                return;
            }
            upstreamGone();
        });
        connect(client, &QTcpSocket::errorOccurred, this, [this, link] { closeLink(link); });
        connect(link->upstream, &QTcpSocket::errorOccurred, this,
            [this, link, upstreamGone](QAbstractSocket::SocketError error) {
                if (error == QAbstractSocket::RemoteHostClosedError && !link->blackHoled) {
                    upstreamFinished(link);
                    return;
                }
                upstreamGone();
            });
        link->upstream->connectToHost(m_targetHost, m_targetPort);
    }
}

void FaultProxy::forward(Link* link, QTcpSocket* from, QTcpSocket* to, bool toUpstream)
{
    QByteArray bytes = from->readAll();
    if (link->blackHoled || link->closing || bytes.isEmpty()) {
        return; // discarded: a black hole loses what goes in
    }
    if (toUpstream && !inspectRequest(link, bytes)) {
        return;
    }
    if (!toUpstream && link->streaming && m_cutStreamsAfter >= 0) {
        const qint64 room = m_cutStreamsAfter - link->streamedBytes;
        if (bytes.size() >= room) {
            ++m_cutStreams;
            if (room > 0) {
                to->write(bytes.first(room));
                to->flush();
            }
            closeLink(link);
            return;
        }
        link->streamedBytes += bytes.size();
    }
    if (toUpstream && to->state() != QAbstractSocket::ConnectedState) {
        link->pendingUp += bytes;
        return;
    }
    deliver(link, to, bytes, toUpstream);
}

void FaultProxy::deliver(Link* link, QTcpSocket* to, const QByteArray& bytes, bool toUpstream)
{
    if (m_latencyMs <= 0) {
        auto& queue = toUpstream ? link->delayedUp : link->delayedDown;
        if (queue.empty()) {
            to->write(bytes);
            return;
        }
    }
    auto& queue = toUpstream ? link->delayedUp : link->delayedDown;
    const bool wasEmpty = queue.empty();
    queue.push_back({ m_clock.elapsed() + m_latencyMs, bytes });
    if (!wasEmpty) {
        return;
    }
    // Drain in order; each step re-arms for the next due chunk.
    QTimer::singleShot(
        m_latencyMs, link->timers.get(), [this, link, toUpstream] { drain(link, toUpstream); });
}

void FaultProxy::drain(Link* link, bool toUpstream)
{
    if (link->closing) {
        return;
    }
    auto& queue = toUpstream ? link->delayedUp : link->delayedDown;
    QTcpSocket* to = toUpstream ? link->upstream : link->client;
    const qint64 now = m_clock.elapsed();
    while (!queue.empty() && queue.front().dueMs <= now) {
        if (!link->blackHoled) {
            to->write(queue.front().bytes);
        }
        queue.pop_front();
    }
    if (!queue.empty()) {
        QTimer::singleShot(int(queue.front().dueMs - now), link->timers.get(),
            [this, link, toUpstream] { drain(link, toUpstream); });
    } else if (!toUpstream && link->upstreamDone) {
        closeGracefully(link);
    }
}

bool FaultProxy::inspectRequest(Link* link, const QByteArray& bytes)
{
    if (!link->firstHeadSeen) {
        link->firstHead += bytes;
        const qsizetype end = link->firstHead.indexOf("\r\n\r\n");
        if (end < 0 && link->firstHead.size() < 16 * 1024) {
            // Keep the bytes for the check; they are forwarded along with the rest below.
        } else {
            link->firstHeadSeen = true;
            const QByteArray head = link->firstHead.left(end).toLower();
            link->firstHead.clear();
            if (m_refuseUpgrades && head.contains("upgrade: websocket")) {
                ++m_refusedUpgrades;
                link->client->write("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                                    "Content-Length: 24\r\nConnection: close\r\n\r\n"
                                    "WebSocket not permitted\n");
                link->upstreamDone = true;
                closeGracefully(link);
                return false;
            }
        }
    }
    // Every request head on the connection (HTTP clients reuse connections) may ask for a stream.
    if (bytes.contains("\r\n\r\n")) {
        const QByteArray lower = bytes.toLower();
        if (lower.contains("accept: text/event-stream")) {
            link->streaming = true;
            link->streamedBytes = 0;
        } else if (lower.startsWith("get ") || lower.startsWith("post ")
            || lower.startsWith("delete ")) {
            link->streaming = false;
        }
    }
    return true;
}

void FaultProxy::upstreamFinished(Link* link)
{
    if (link->closing || link->upstreamDone) {
        return;
    }
    link->upstreamDone = true;
    // What the server sent last may still be in the socket's buffer.
    if (link->upstream->bytesAvailable() > 0) {
        forward(link, link->upstream, link->client, false);
    }
    if (!link->closing && link->delayedDown.empty()) {
        closeGracefully(link);
    }
}

void FaultProxy::closeGracefully(Link* link)
{
    if (link->closing) {
        return;
    }
    link->closing = true;
    QObject::disconnect(link->client, nullptr, this, nullptr);
    QObject::disconnect(link->upstream, nullptr, this, nullptr);
    link->upstream->abort();
    link->upstream->deleteLater();
    // disconnectFromHost() writes out what is buffered, then closes (FIN); the socket goes once
    // it is unconnected (or after a bound, if the client never reads).
    QTcpSocket* client = link->client;
    connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
    QTimer::singleShot(5000, client, [client] {
        client->abort();
        client->deleteLater();
    });
    client->disconnectFromHost();
    QTimer::singleShot(0, this, [this, link] {
        m_links.remove_if([link](const std::unique_ptr<Link>& l) { return l.get() == link; });
    });
    Q_EMIT connectionClosed();
}

void FaultProxy::closeLink(Link* link)
{
    if (link->closing) {
        return;
    }
    link->closing = true;
    QObject::disconnect(link->client, nullptr, this, nullptr);
    QObject::disconnect(link->upstream, nullptr, this, nullptr);
    link->client->abort();
    link->upstream->abort();
    link->client->deleteLater();
    link->upstream->deleteLater();
    // Destroy the bookkeeping on the next turn: we may be inside one of the sockets' signals.
    QTimer::singleShot(0, this, [this, link] {
        m_links.remove_if([link](const std::unique_ptr<Link>& l) { return l.get() == link; });
    });
    Q_EMIT connectionClosed();
}

} // namespace parley::test
