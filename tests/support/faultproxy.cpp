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
    // Latency: chunks wait here in order; one timer per direction drains them.
    struct Delayed {
        qint64 dueMs;
        QByteArray bytes;
    };
    std::list<Delayed> delayedUp;
    std::list<Delayed> delayedDown;
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
            closeLink(link);
        };
        connect(link->upstream, &QTcpSocket::disconnected, this, upstreamGone);
        connect(client, &QTcpSocket::errorOccurred, this, [this, link] { closeLink(link); });
        connect(link->upstream, &QTcpSocket::errorOccurred, this, upstreamGone);
        link->upstream->connectToHost(m_targetHost, m_targetPort);
    }
}

void FaultProxy::forward(Link* link, QTcpSocket* from, QTcpSocket* to, bool toUpstream)
{
    const QByteArray bytes = from->readAll();
    if (link->blackHoled || link->closing || bytes.isEmpty()) {
        return; // discarded: a black hole loses what goes in
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
    // Drain in order; each step re-arms for the next due chunk. The client socket is the timer's
    // context, so a closed link's timers die with it.
    QTimer::singleShot(
        m_latencyMs, link->client, [this, link, toUpstream] { drain(link, toUpstream); });
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
        QTimer::singleShot(int(queue.front().dueMs - now), link->client,
            [this, link, toUpstream] { drain(link, toUpstream); });
    }
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
