#include "listener.h"

#include "io/iothread.h"

namespace parley::server {

Listener::Listener(std::vector<IoThread*> threads, QObject* parent)
    : QTcpServer(parent)
    , m_threads(std::move(threads))
{
    setListenBacklogSize(kListenBacklog);
    // incomingConnection() hands descriptors off without queueing QTcpSockets here, so Qt's
    // pending queue stays empty; raised anyway so that a subclass change cannot silently bring
    // back the default of 30 and pause accepting under a burst.
    setMaxPendingConnections(kListenBacklog);
}

bool Listener::start(const QHostAddress& address, quint16 port)
{
    return listen(address, port);
}

void Listener::incomingConnection(qintptr descriptor)
{
    IoThread* thread = m_threads[m_next];
    m_next = (m_next + 1) % m_threads.size();
    thread->adoptDescriptor(descriptor);
}

} // namespace parley::server
